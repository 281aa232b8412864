"""`tailapp dev`, the README's run command: embedded Redis, a worker and the server; Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import requests

from tailapp.embedded import free_port
from tests.conftest import ROOT


def wait_until(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError


def test_dev_runs_everything_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILAPP_")}
    port = free_port()
    dev = subprocess.Popen([sys.executable, "-m", "tailapp.cli", "dev", "--port", str(port), "--data-dir",
                            str(tmp_path / "var")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/api/tasks", timeout=1).ok, 60)
        children = psutil.Process(dev.pid).children(recursive=True)
        assert any("redis-server" in " ".join(c.cmdline()) for c in children)
        job = requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"lines": 5, "interval": 0}},
                            timeout=5).json()
        wait_until(lambda: requests.get(f"{url}/api/jobs/{job['id']}", timeout=1).json()["state"] == "succeeded", 60)
        redis_dir = tmp_path / "var" / "redis"
        assert (redis_dir / "appendonlydir").exists() or list(redis_dir.glob("*.aof"))  # persistence on
    finally:
        dev.send_signal(signal.SIGINT)
        output, _ = dev.communicate(timeout=30)
    assert dev.returncode == 0, output
    assert f"tailapp is running on {url}" in output
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_dev_uses_the_configured_redis_and_starts_none(stack, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILAPP_")}
    env["TAILAPP_REDIS_URL"] = stack.redis_url
    port = free_port()
    dev = subprocess.Popen([sys.executable, "-m", "tailapp.cli", "dev", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/api/tasks", timeout=1).ok, 60)
        children = psutil.Process(dev.pid).children(recursive=True)
        assert not any("redis-server" in " ".join(c.cmdline()) for c in children)
    finally:
        dev.send_signal(signal.SIGINT)
        output, _ = dev.communicate(timeout=30)
    assert "embedded Redis" not in output


def test_worker_py_is_the_celery_worker():
    result = subprocess.run([sys.executable, "worker.py", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "TAILAPP_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 0 and "--concurrency" in result.stdout


def test_server_without_redis_url_says_what_to_do():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILAPP_")}
    result = subprocess.run([sys.executable, "server.py"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=env)
    assert result.returncode != 0 and "TAILAPP_REDIS_URL is not set" in result.stderr and "tailapp dev" in result.stderr

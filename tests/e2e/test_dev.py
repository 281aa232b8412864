"""`tailapp dev`, the README's run command: embedded Redis, a worker and the server; Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import requests

from tailapp import dev as dev_module
from tailapp.embedded import free_port
from tests.conftest import ROOT, Stack


def test_dev_runs_everything_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILAPP_")}
    port = free_port()
    dev = subprocess.Popen([sys.executable, "-m", "tailapp.cli", "dev", "--port", str(port), "--data-dir",
                            str(tmp_path / "var")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        Stack.wait(lambda: requests.get(f"{url}/api/tasks", timeout=1).ok, "the server", 60)
        children = psutil.Process(dev.pid).children(recursive=True)
        assert any("redis-server" in " ".join(c.cmdline()) for c in children)
        worker, server = (next(c for c in children if name in " ".join(c.cmdline()))
                          for name in ("celery", "tailapp.serve"))
        # tasks run on the CPU the server leaves
        assert worker.nice() == min(19, server.nice() + dev_module.WORKER_NICE) > server.nice()
        job = requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"lines": 5, "interval": 0}},
                            timeout=5).json()
        Stack.wait(lambda: requests.get(f"{url}/api/jobs/{job['id']}", timeout=1).json()["state"] == "succeeded",
                   "the job to succeed", 60)
        redis_dir = tmp_path / "var" / "redis"
        assert (redis_dir / "appendonlydir").exists() or list(redis_dir.glob("*.aof"))  # persistence on
    finally:
        dev.send_signal(signal.SIGINT)
        output, _ = dev.communicate(timeout=30)
    assert dev.returncode == 0, output
    assert f"tailapp is running on {url}" in output
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def start_dev(tmp_path, port: int, extra_env: dict | None = None) -> tuple[subprocess.Popen, list[str]]:
    """`tailapp dev` in tmp_path (its own cwd and data), read until it says it runs; (process, lines so far)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILAPP_")} | (extra_env or {})
    dev = subprocess.Popen([sys.executable, "-m", "tailapp.cli", "dev", "--port", str(port)], cwd=tmp_path, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in dev.stdout:
        lines.append(line)
        if "tailapp is running on" in line:
            # Announced only once the port answers: no retry here.
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            return dev, lines
    raise AssertionError("".join(lines))


def stop_dev(dev: subprocess.Popen) -> tuple[float, str]:
    asked = time.monotonic()
    dev.send_signal(signal.SIGINT)
    output, _ = dev.communicate(timeout=60)
    return time.monotonic() - asked, output


def test_dev_stops_a_running_job_as_cancelled_and_keeps_its_redis_port(tmp_path):
    (tmp_path / "mytasks.py").write_text(
        "import time\nfrom tailapp import tail_task\n\n@tail_task\ndef napper():\n"
        "    for n in range(600):\n        print('nap', n)\n        time.sleep(1)\n")
    port = free_port()
    dev, lines = start_dev(tmp_path, port, {"TAILAPP_TASK_MODULES": "mytasks"})  # found in the current directory
    url = f"http://127.0.0.1:{port}"
    try:
        redis_line = next(line for line in lines if line.startswith("embedded Redis on"))
        job = requests.post(f"{url}/api/jobs", json={"task": "napper"}, timeout=5).json()
        Stack.wait(lambda: requests.get(f"{url}/api/jobs/{job['id']}/log", timeout=1).text.startswith("nap 0"),
                   "the job's first line", 30)
    finally:
        took, output = stop_dev(dev)
    assert dev.returncode == 0 and took < 8, (took, output)
    assert "cancelling 1 running job" in output

    dev, lines = start_dev(tmp_path, port)  # the same data directory: the same Redis, on the same port
    try:
        assert next(line for line in lines if line.startswith("embedded Redis on")) == redis_line
        assert "redis-cli -p" in redis_line
        ended = requests.get(f"{url}/api/jobs/{job['id']}", timeout=5).json()
        log = requests.get(f"{url}/api/jobs/{job['id']}/log", timeout=5).text.splitlines()
    finally:
        stop_dev(dev)
    assert ended["state"] == "cancelled", ended
    assert sum("Job cancelled" in line for line in log) == 1 and "Job cancelled" in log[-1], log


def test_dev_says_in_one_line_why_it_cannot_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILAPP_")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = subprocess.run([sys.executable, "-m", "tailapp.cli", "dev", "--port", str(port)], cwd=tmp_path,
                               env=env, capture_output=True, text=True, timeout=60)
    broken = subprocess.run([sys.executable, "-m", "tailapp.cli", "dev", "--port", str(free_port())], cwd=tmp_path,
                            env={**env, "TAILAPP_TASK_MODULES": "no_such_tasks"}, capture_output=True, text=True,
                            timeout=60)
    for result in (taken, broken):
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "running" not in result.stdout, result
    assert f"port {port} on 127.0.0.1 is already in use" in taken.stderr and "--port" in taken.stderr
    assert "TAILAPP_TASK_MODULES: cannot import 'no_such_tasks'" in broken.stderr
    assert not (tmp_path / "var").exists()  # nothing was started


def test_dev_uses_the_configured_redis_and_starts_none(stack, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILAPP_")}
    env["TAILAPP_REDIS_URL"] = stack.redis_url
    port = free_port()
    dev = subprocess.Popen([sys.executable, "-m", "tailapp.cli", "dev", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        Stack.wait(lambda: requests.get(f"http://127.0.0.1:{port}/api/tasks", timeout=1).ok, "the server", 60)
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


def test_server_and_worker_say_in_one_line_why_they_cannot_start(stack):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = subprocess.run([sys.executable, "server.py", "--port", str(port)], cwd=ROOT, capture_output=True,
                                text=True, timeout=60, env={**stack.env, "TAILAPP_TASK_MODULES": ""})
    worker = subprocess.run([sys.executable, "-m", "celery", "-A", "tailapp.celery", "worker"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**stack.env, "TAILAPP_TASK_MODULES": "tests.no_such_module"})
    assert server.returncode != 0 and "Traceback" not in server.stderr
    assert f"tailapp: port {port} on 127.0.0.1 is already in use" in server.stderr.splitlines()[-1]
    assert worker.returncode != 0 and "Traceback" not in worker.stderr, worker.stderr
    assert "tailapp: TAILAPP_TASK_MODULES: cannot import 'tests.no_such_module'" in worker.stderr


def test_a_broken_install_is_named_at_start_not_blamed_on_the_broker(stack, tmp_path):
    # What a venv without kombu's Redis extra looked like: `packaging` cannot be imported.
    (tmp_path / "packaging").mkdir()
    (tmp_path / "packaging" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'packaging'\", name='packaging')\n")
    env = {**stack.env, "PYTHONPATH": str(tmp_path)}
    for argv in ([sys.executable, "server.py", "--port", str(free_port())],
                 [sys.executable, "-m", "celery", "-A", "tailapp.celery", "worker"]):
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert "cannot load (No module named 'packaging'): the install is incomplete" in result.stderr
        assert "unreachable" not in result.stderr

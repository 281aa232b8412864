"""`tailapp dev`: Redis (embedded unless TAILAPP_REDIS_URL is set), a Celery worker and the server on one
machine, started in that order and stopped together.

Everything that can be checked before starting is checked first (the port, the task modules), so a
mistake is one line, not a traceback from a child. Ctrl-C cancels the running jobs (their logs end with
"Job cancelled"), then stops the worker and the server; a job the worker could not end is ended here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import redis
import requests

from tailapp import jobs, runtime
from tailapp import protocol as p
from tailapp.config import ConfigError
from tailapp.embedded import EmbeddedRedis, port_is_free, remembered_port
from tailapp.tasks import import_task_modules

READY_SECONDS = 60  # how long the server may take to answer
CANCEL_SECONDS = 5  # how long running jobs get to end after their cancel
STOP_SECONDS = 10  # how long the worker and the server get after SIGTERM
WORKER_NICE = 5  # tasks take the CPU the server leaves: a busy one delays its own log less (docs/DEPLOY.md)
STOPPED_LINE = "\x1b[33m\u25a0 Job cancelled: `tailapp dev` was stopped.\x1b[0m"


class DevError(click.ClickException):
    """Why `tailapp dev` cannot start, in one line."""


def run(host: str | None, port: int | None, data_dir: str | None) -> None:
    """Run everything until Ctrl-C (or SIGTERM), or until the worker or the server exits."""
    env = dict(os.environ)
    host = host or env.get("TAILAPP_HOST") or "127.0.0.1"
    port = port or int(env.get("TAILAPP_PORT") or 5000)
    env["TAILAPP_DATA_DIR"] = data_dir = data_dir or env.get("TAILAPP_DATA_DIR") or "./var"
    _check_before_start(host, port, env)
    redis_server = None
    if not env.get("TAILAPP_REDIS_URL"):
        redis_server = _start_redis(Path(data_dir) / "redis")
        env["TAILAPP_REDIS_URL"] = redis_server.url
    children: list[subprocess.Popen] = []
    try:
        children = [_spawn(worker_command("--loglevel", "INFO"), env, nice=WORKER_NICE),
                    _spawn(server_command(host, port), env)]
        _wait_ready(host, port, children)
        click.echo(f"tailapp is running on http://{host}:{port}  (Ctrl-C stops)")
        _wait_for_first_exit(children)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        _stop(children, env)
        if redis_server:
            redis_server.stop()


def server_command(host: str | None = None, port: int | None = None) -> list[str]:
    """The argv that runs a server process (the same as `python server.py`)."""
    argv = [sys.executable, "-m", "tailapp.serve"]
    if host:
        argv += ["--host", host]
    if port:
        argv += ["--port", str(port)]
    return argv


def worker_command(*extra: str) -> list[str]:
    """The argv that runs a worker (the same as `celery -A tailapp.celery worker`)."""
    return [sys.executable, "-m", "celery", "-A", "tailapp.celery", "worker", *extra]


def _check_before_start(host: str, port: int, env: dict) -> None:
    if not port_is_free(host, port):
        raise DevError(f"port {port} on {host} is already in use: stop what uses it, or pick another port "
                       "with --port (or TAILAPP_PORT)")
    try:
        import_task_modules(env.get("TAILAPP_TASK_MODULES"))
    except ConfigError as exc:
        raise DevError(str(exc)) from None


def _start_redis(data_dir: Path) -> EmbeddedRedis:
    server = EmbeddedRedis(data_dir, port=remembered_port(data_dir)).start()
    click.echo(f"embedded Redis on {server.url}  (redis-cli -p {server.port}; data in {data_dir.resolve()})")
    return server


def _spawn(argv: list[str], env: dict, nice: int = 0) -> subprocess.Popen:
    # A session of its own: Ctrl-C reaches only this process, which stops the children in order. The
    # niceness is set in the child before it runs anything, so the pool processes it forks inherit it.
    # preexec_fn is safe while this process has one thread: tailapp starts none before this, a task module
    # (TAILAPP_TASK_MODULES, imported to check it) that started one at import would make it unsafe.
    return subprocess.Popen(argv, env=env, start_new_session=True,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)


def _wait_ready(host: str, port: int, children: list[subprocess.Popen]) -> None:
    """Return once the server answers HTTP; raise if a child exits first."""
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/healthz"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        _raise_if_exited(children)
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise DevError(f"the server did not answer on {url} within {READY_SECONDS} s")


def _raise_if_exited(children: list[subprocess.Popen]) -> None:
    failed = next((child for child in children if child.poll() is not None), None)
    if failed is not None:
        raise DevError(f"{' '.join(failed.args[2:6])} exited with code {failed.returncode}")


def _wait_for_first_exit(children: list[subprocess.Popen]) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    while True:
        _raise_if_exited(children)
        time.sleep(0.2)


def _stop(children: list[subprocess.Popen], env: dict) -> None:
    """Cancel running jobs, stop the children, end what the worker left running."""
    store = _store(env)
    if store is not None and any(child.poll() is None for child in children):
        _cancel_running(store)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if store is not None:
        for job_id in jobs.running_ids(store):
            jobs.abandon(store, job_id, p.CANCELLED, STOPPED_LINE, "cancelled: tailapp dev was stopped")


def _store(env: dict):
    """The jobs' store, or None when Redis cannot be reached (then nothing is left to end)."""
    try:
        settings = runtime.load_settings({"REDIS_URL": env["TAILAPP_REDIS_URL"], "DATA_DIR": env["TAILAPP_DATA_DIR"]})
        store = runtime.build_store(settings)
        store.ping()
        return store
    except (KeyError, ConfigError, redis.RedisError) as exc:
        click.echo(f"running jobs not cancelled: {exc}", err=True)
        return None



def _cancel_running(store) -> None:
    """Ask every running job to stop, and wait (a little) until the worker has ended them."""
    running = jobs.running_ids(store)
    if not running:
        return
    click.echo(f"cancelling {len(running)} running job{'s' if len(running) > 1 else ''}")
    for job_id in running:
        job = jobs.get(store, job_id)
        if job is not None and job["state"] == p.RUNNING:
            jobs.cancel(store, job)
    deadline = time.monotonic() + CANCEL_SECONDS
    while jobs.running_ids(store) & running and time.monotonic() < deadline:
        time.sleep(0.1)

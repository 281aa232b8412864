"""The `tailapp` command: `dev` runs everything on one machine; `server` and `worker` run one part."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from tailapp.embedded import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent


@click.group()
@click.version_option(package_name="tailapp")
def main() -> None:
    """tailapp: watch task output live in a browser."""


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


@main.command()
@click.option("--host", help="interface to listen on [TAILAPP_HOST, 127.0.0.1]")
@click.option("--port", type=int, help="port to listen on [TAILAPP_PORT, 5000]")
def server(host: str | None, port: int | None) -> None:
    """Run the web server (same as `python server.py`)."""
    argv = server_command(host, port)
    os.execv(argv[0], argv)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker (same as `celery -A tailapp.celery worker`); extra options go to Celery."""
    argv = worker_command(*ctx.args)
    os.execv(argv[0], argv)


@main.command()
@click.option("--host", default=None, help="interface to listen on [127.0.0.1]")
@click.option("--port", type=int, default=None, help="port to listen on [5000]")
@click.option("--data-dir", default=None, help="where the embedded Redis keeps its data [TAILAPP_DATA_DIR, ./var]")
def dev(host: str | None, port: int | None, data_dir: str | None) -> None:
    """Run Redis (embedded unless TAILAPP_REDIS_URL is set), a worker and the server; Ctrl-C stops all."""
    env = dict(os.environ)
    data_dir = data_dir or env.get("TAILAPP_DATA_DIR") or "./var"
    env["TAILAPP_DATA_DIR"] = data_dir
    redis_server = None
    if not env.get("TAILAPP_REDIS_URL"):
        redis_server = EmbeddedRedis(Path(data_dir) / "redis").start()
        env["TAILAPP_REDIS_URL"] = redis_server.url
        click.echo(f"embedded Redis on {redis_server.url} (data in {Path(data_dir, 'redis').resolve()})")
    children = [subprocess.Popen(worker_command("--loglevel", "INFO"), env=env),
                subprocess.Popen(server_command(host, port), env=env)]
    shown_host = host or env.get("TAILAPP_HOST") or "127.0.0.1"
    click.echo(f"tailapp is running on http://{shown_host}:{port or env.get('TAILAPP_PORT') or 5000}  (Ctrl-C stops)")
    try:
        _wait_for_first_exit(children)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        _stop_all(children)
        if redis_server:
            redis_server.stop()


def _wait_for_first_exit(children: list[subprocess.Popen]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    while all(child.poll() is None for child in children):
        time.sleep(0.2)
    failed = next(child for child in children if child.poll() is not None)
    click.echo(f"{failed.args[2:6]} exited with code {failed.returncode}; stopping the rest", err=True)


def _stop_all(children: list[subprocess.Popen], timeout: float = 15.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()

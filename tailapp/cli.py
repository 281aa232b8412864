"""The `tailapp` command: `dev` runs everything on one machine; `server` and `worker` run one part;
`start`, `tail`, `jobs`, `cancel` and `logs` talk to a running server.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
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


# -- talking to a server --------------------------------------------------------------------------------
url_option = click.option("--url", envvar="TAILAPP_URL", default="http://127.0.0.1:5000", show_default=True,
                          help="the server [TAILAPP_URL]; a token in TAILAPP_TOKEN is sent as a bearer token")


def _client(url: str):
    from tailapp.client import Client

    return Client(url, os.environ.get("TAILAPP_TOKEN") or None)


def _one_line_errors(fn):
    """Report a failed request or a bad parameter as one line and exit 1, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from tailapp.client import ClientError
        from tailapp.params import ParamError

        try:
            return fn(*args, **kwargs)
        except (ClientError, ParamError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def _follow(client, job_id: str, after: int = 0) -> None:
    """Stream the log: the bytes as written on a terminal (it renders them), rendered plain text otherwise."""
    from tailapp.client import exit_code
    from tailapp.terminal import PlainOutput

    stdout = click.get_binary_stream("stdout")
    out = stdout if stdout.isatty() else PlainOutput(stdout)
    try:
        job = client.follow(job_id, out, after)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        if out is not stdout:
            out.close()
    if job["state"] != "succeeded":
        click.echo(f"job {job_id} {job['state']}" + (f": {job['error']}" if job.get("error") else ""), err=True)
    sys.exit(exit_code(job))


def _params(client, task: str, pairs: tuple[str, ...]) -> dict:
    """Typed parameters for `task` from key=value pairs, checked against what the server lists."""
    from tailapp.params import validate

    spec = next((t for t in client.tasks() if t["name"] == task), None)
    if spec is None:
        raise click.ClickException(f"unknown task {task!r} (see {client.url}/api/tasks)")
    raw = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="-p")
        raw[name] = value
    return validate(spec["params"], raw, from_form=True)


@main.command()
@click.argument("task")
@click.option("-p", "--param", "pairs", multiple=True, metavar="KEY=VALUE", help="a task parameter (repeatable)")
@click.option("-f", "--follow", is_flag=True, help="stream the log and exit with the job's exit code")
@url_option
@_one_line_errors
def start(task: str, pairs: tuple[str, ...], follow: bool, url: str) -> None:
    """Start a job of TASK and print its id."""
    client = _client(url)
    job = client.start(task, _params(client, task, pairs))
    if not follow:
        click.echo(job["id"])
        return
    click.echo(f"job {job['id']}  {client.url}/jobs/{job['id']}", err=True)
    _follow(client, job["id"])


@main.command()
@click.argument("job_id", metavar="JOB")
@click.option("--from", "after", type=click.IntRange(min=0), default=0, help="skip the first N lines")
@url_option
@_one_line_errors
def tail(job_id: str, after: int, url: str) -> None:
    """Follow JOB's log as it is written; exit with its exit code (failed: its code, cancelled: 130, lost: 75)."""
    client = _client(url)
    client.job(job_id)  # an unknown job is an error before any waiting
    _follow(client, job_id, after)


@main.command(name="jobs")
@click.option("-n", "--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="how many")
@url_option
@_one_line_errors
def list_jobs(limit: int, url: str) -> None:
    """List recent jobs, newest first."""
    rows = [("JOB", "TASK", "STATE", "STARTED", "DURATION", "EXIT")]
    rows += [_job_row(job) for job in _client(url).jobs(limit)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _job_row(job: dict) -> tuple[str, ...]:
    begun = job["started_at"]
    started = datetime.fromtimestamp(begun / 1000).strftime("%Y-%m-%d %H:%M:%S") if begun else "-"
    duration = f"{((job['finished_at'] or int(time.time() * 1000)) - begun) / 1000:.1f}s" if begun else "-"
    code = "" if job["exit_code"] is None else str(job["exit_code"])
    return job["id"], job["task"], job["state"], started, duration, code


@main.command()
@click.argument("job_id", metavar="JOB")
@url_option
@_one_line_errors
def cancel(job_id: str, url: str) -> None:
    """Cancel JOB (queued or running)."""
    job = _client(url).cancel(job_id)
    click.echo(f"job {job_id}: cancel requested ({job['state']})")


@main.command()
@click.argument("job_id", metavar="JOB")
@url_option
@_one_line_errors
def logs(job_id: str, url: str) -> None:
    """Print JOB's log so far as raw text (ANSI escapes kept): tailapp logs JOB > build.log."""
    out = click.get_binary_stream("stdout")
    for page in _client(url).log(job_id):
        out.write(page)
    out.flush()


if __name__ == "__main__":
    main()

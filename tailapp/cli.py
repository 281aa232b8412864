"""The `tailapp` command: `dev` runs everything on one machine; `server` and `worker` run one part;
`start`, `tail`, `jobs`, `cancel` and `logs` talk to a running server.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from datetime import datetime

import click
from werkzeug.security import generate_password_hash

from tailapp import dev
from tailapp.client import Client, ClientError, exit_code
from tailapp.config import ConfigError
from tailapp.joblist import shown
from tailapp.params import ParamError, validate
from tailapp.terminal import PlainOutput
from tailapp.users import check_token_strength


@click.group()
@click.version_option(package_name="tailapp")
def main() -> None:
    """tailapp: watch task output live in a browser."""


@main.command()
@click.option("--host", help="interface to listen on [TAILAPP_HOST, 127.0.0.1]")
@click.option("--port", type=int, help="port to listen on [TAILAPP_PORT, 5000]")
def server(host: str | None, port: int | None) -> None:
    """Run the web server (same as `python server.py`)."""
    argv = dev.server_command(host, port)
    os.execv(argv[0], argv)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker (same as `celery -A tailapp.celery worker`); extra options go to Celery."""
    argv = dev.worker_command(*ctx.args)
    os.execv(argv[0], argv)


@main.command(name="dev")
@click.option("--host", default=None, help="interface to listen on [TAILAPP_HOST, 127.0.0.1]")
@click.option("--port", type=int, default=None, help="port to listen on [TAILAPP_PORT, 5000]")
@click.option("--data-dir", default=None, help="where the embedded Redis keeps its data [TAILAPP_DATA_DIR, ./var]")
def run_dev(host: str | None, port: int | None, data_dir: str | None) -> None:
    """Run Redis (embedded unless TAILAPP_REDIS_URL is set), a worker and the server; Ctrl-C stops all."""
    dev.run(host, port, data_dir)


@main.command(name="hash-token")
def hash_token() -> None:
    """Print the hash of a user's token for TAILAPP_USERS_FILE (asked without echo, or read from stdin)."""
    if sys.stdin.isatty():
        token = click.prompt("token", hide_input=True, confirmation_prompt=True)
    else:
        token = sys.stdin.readline().rstrip("\n")
    try:
        check_token_strength(token, "that token")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(generate_password_hash(token))


# -- talking to a server --------------------------------------------------------------------------------
url_option = click.option("--url", envvar="TAILAPP_URL", default="http://127.0.0.1:5000", show_default=True,
                          help="the server [TAILAPP_URL]; a token in TAILAPP_TOKEN is sent as a bearer token "
                          "(with TAILAPP_USER, as that user's token)")


def _client(url: str):
    return Client(url, os.environ.get("TAILAPP_TOKEN") or None, user=os.environ.get("TAILAPP_USER") or None)


def _one_line_errors(fn):
    """Report a failed request or a bad parameter as one line and exit 1, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ClientError, ParamError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def _follow(client, job_id: str, after: int = 0) -> None:
    """Stream the log: the bytes as written on a terminal (it renders them), rendered plain text otherwise."""
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
@click.option("--task", default="", help="only jobs of this task")
@click.option("--state", default="", help="only jobs in these states (comma-separated)")
@click.option("-q", "--find", "text", default="", help="only jobs whose id or a parameter (name=value) contains this")
@click.option("--before", default=None, help="the page after this cursor (printed as 'more: --before …')")
@url_option
@_one_line_errors
def list_jobs(limit: int, task: str, state: str, text: str, before: str | None, url: str) -> None:
    """List jobs newest first (Redis and archive), filtered like the job list page."""
    listed = _client(url).jobs(limit, task=task, state=state, text=text, before=before)
    rows = [("JOB", "TASK", "STATE", "STARTED", "DURATION", "EXIT", "PARAMS")]
    rows += [_job_row(job) for job in listed["jobs"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if listed["next"]:
        click.echo(f"more: --before {listed['next']}", err=True)


def _job_row(job: dict) -> tuple[str, ...]:
    begun = job["started_at"]
    started = datetime.fromtimestamp(begun / 1000).strftime("%Y-%m-%d %H:%M:%S") if begun else "-"
    duration = f"{((job['finished_at'] or int(time.time() * 1000)) - begun) / 1000:.1f}s" if begun else "-"
    code = "" if job["exit_code"] is None else str(job["exit_code"])
    params = " ".join(f"{k}={shown(v)}" for k, v in job["params"].items())
    return job["id"], job["task"], job["state"], started, duration, code, params


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

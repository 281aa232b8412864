"""Tailable tasks: the registry, the `tail_task` decorator, and the wrapper that runs one job.

A tail task is a plain function. The decorator registers it (name, parameters from its signature) and
wraps it in a Celery task whose run captures the function's output into the job's log and moves the job
through its states.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from tailapp import jobs, runtime
from tailapp import protocol as p
from tailapp.capture import capture
from tailapp.config import ConfigError
from tailapp.masking import MASK, MaskedStore, Masker
from tailapp.params import describe, is_secret, public, split_secrets
from tailapp.supervisor import JobCancelled, Supervisor
from tailapp.writer import LogWriter

TIME_LIMIT_LINE = "\x1b[31m\u25a0 Job stopped: it ran past its time limit.\x1b[0m"
CANCELLED_LINE = "\x1b[33m\u25a0 Job cancelled.\x1b[0m"

REGISTRY: dict[str, TailTask] = {}


@dataclass
class TailTask:
    """A registered task: what the Start Task menu and the API list."""

    name: str
    fn: Callable
    title: str
    description: str
    params: list[dict] = field(default_factory=list)
    secret_env: list[str] = field(default_factory=list)  # names of env vars whose values the log masks
    celery_task: object = None
    command: object = None  # the commands.Command of a command job, None for Python tasks

    def info(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description,
                "params": [public(spec) for spec in self.params]}


class JobFailed(Exception):
    """Raise in a task to end its job `failed` with `exit_code` and this one-line message, no traceback."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def title_of(name: str) -> str:
    """The title a task was registered with; its name when it is not (any more) registered."""
    spec = REGISTRY.get(name)
    return spec.title if spec is not None else name


def tail_task(fn: Callable | None = None, *, name: str | None = None, title: str | None = None,
              secrets: list[str] | tuple[str, ...] = (), **options):
    """Make `fn` a tailable Celery task; its output (print, stdout, stderr, logging) becomes the job's log.

    `secrets` names environment variables whose values are masked in the log; other options go to Celery.
    """

    def decorate(fn: Callable):
        task_name = name or fn.__name__
        spec = TailTask(name=task_name, fn=fn, title=title or task_name.replace("_", " ").title(),
                        description=(fn.__doc__ or "").strip().split("\n")[0], params=describe(fn),
                        secret_env=list(secrets))
        return register(spec, **options)

    return decorate(fn) if fn is not None else decorate


class JobEnded(Exception):
    """Raised to Celery when a job did not succeed, so the worker's log does not call it `succeeded`.

    Celery logs an exception listed in the task's `throws` at INFO, in one line, without a traceback.
    """


def register(spec: TailTask, **options):
    """Wrap `spec` in a Celery task named `tailapp.<name>` and list it in the registry."""

    @shared_task(name=f"tailapp.{spec.name}", bind=True, throws=(JobEnded,), **options)
    def celery_task(self, **params):
        # Started through Celery directly, the id is a dashed UUID; job ids are its 32 hex digits.
        job_id = self.request.id.replace("-", "")
        code = run_job(spec, job_id, params)
        job = jobs.get(runtime.get().store, job_id)
        if job is not None and job["state"] != p.SUCCEEDED:
            raise JobEnded(f"job {job['state']}" + (f": {job['error']}" if job["error"] else ""))
        return code

    spec.celery_task = celery_task
    REGISTRY[spec.name] = spec
    celery_task.tail = spec
    return celery_task


def import_task_modules(names: str | None) -> None:
    """Import tailapp's demo and the comma-separated modules that define tail tasks, so they are registered.

    The current directory is searched too (as `flask run` does), whatever script started the process.
    """
    importlib.import_module("tailapp.demo")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    for module in filter(None, (m.strip() for m in (names or "").split(","))):
        try:
            importlib.import_module(module)
        except Exception as exc:  # any error in the user's module is reported the same way
            raise ConfigError(f"TAILAPP_TASK_MODULES: cannot import {module!r}: {type(exc).__name__}: {exc}") from exc


def run_job(spec: TailTask, job_id: str, params: dict) -> int | None:
    """Run one job: mark it running, capture its output, record how it ended. Returns the exit code."""
    shared = runtime.get()
    if jobs.get(shared.store, job_id) is None:  # started straight through Celery, not through the API
        jobs.create(shared.store, spec.name, split_secrets(spec.params, params)[0], job_id)
    if jobs.start(shared.store, job_id) is None:
        return None  # cancelled while queued, or already over
    params, missing = _with_secrets(shared.store, spec, job_id, params)
    # From here on, everything the job writes (lines and fields) goes through the job's masker.
    store = MaskedStore(shared.store, _masker(shared.settings, spec, params))
    writer = _writer(shared.settings, store, job_id)
    try:
        with Supervisor(store, job_id).watching():
            state, code, error = _call(spec, params, writer) if not missing else (p.FAILED, None, missing)
    except JobCancelled:  # landed outside the task function, as it returned
        state, code, error = _cancelled(writer)
    try:
        writer.close()
    except Exception as exc:  # noqa: BLE001 - the job still gets a terminal state
        state, code, error = p.FAILED, code or 1, f"log lost: {exc}"
    _retrying(lambda: jobs.finish(store, job_id, state, code, error))
    return code


def _retrying(action, seconds: float = 60.0):
    """Run `action`, retrying while Redis is unreachable (a restart), for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except (redis.ConnectionError, redis.TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _with_secrets(store, spec: TailTask, job_id: str, params: dict) -> tuple[dict, str | None]:
    """The parameters with their secret values put back (kept apart while queued); or an error saying why not."""
    secret_names = [s["name"] for s in spec.params if is_secret(s)]
    if not secret_names:
        return params, None
    kept = store.take_secrets(job_id) or {}
    params = {**params, **kept}
    if any(params.get(name) == MASK for name in secret_names if name not in kept):
        return params, "its secret parameters expired before it started: start it again"
    return params, None


def _masker(settings: dict, spec: TailTask, params: dict) -> Masker:
    """What the job masks: the configured and the task's secret variables, and its secret parameters."""
    names = [n.strip() for n in settings["SECRET_ENV"].split(",") if n.strip()] + spec.secret_env
    values = [os.environ.get(n, "") for n in names]
    return Masker(values + [str(v) for v in split_secrets(spec.params, params)[1].values()])


def _writer(settings: dict, store: MaskedStore, job_id: str) -> LogWriter:
    """The job's log writer, masking with the store's masker."""
    return LogWriter(store, job_id, max_line_bytes=settings["MAX_LINE_BYTES"],
                     max_pending=settings["WRITER_MAX_PENDING"], masker=store.masker,
                     max_log_bytes=settings["MAX_LOG_BYTES"], tail_bytes=settings["LOG_TAIL_BYTES"])


def _call(spec: TailTask, params: dict, writer: LogWriter) -> tuple[str, int, str | None]:
    """Call the task function with output captured; (state, exit code, error summary)."""
    try:
        with capture(writer):
            result = spec.fn(**params)
    except JobCancelled:
        return _cancelled(writer)
    except SoftTimeLimitExceeded:
        writer.note(TIME_LIMIT_LINE)
        return p.FAILED, 124, "time limit exceeded"
    except JobFailed as exc:  # the store masks the error, then clips it
        return p.FAILED, exc.exit_code, str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure of user code ends the job as failed
        writer.write(traceback.format_exc())
        return p.FAILED, 1, f"{type(exc).__name__}: {exc}"
    code = result if isinstance(result, int) and not isinstance(result, bool) else 0
    if code:
        return p.FAILED, code, f"exited with code {code}"
    return p.SUCCEEDED, 0, None


def _cancelled(writer: LogWriter) -> tuple[str, None, str]:
    writer.note(CANCELLED_LINE)
    return p.CANCELLED, None, "cancelled"

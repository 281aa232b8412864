"""Tailable tasks: the registry, the `tail_task` decorator, and the wrapper that runs one job.

A tail task is a plain function. The decorator registers it (name, parameters from its signature) and
wraps it in a Celery task whose run captures the function's output into the job's log and moves the job
through its states.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from celery import shared_task
from flask import current_app

from tailapp import jobs
from tailapp import protocol as p
from tailapp.capture import capture
from tailapp.params import describe
from tailapp.supervisor import JobCancelled, Supervisor
from tailapp.writer import LogWriter

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
    celery_task: object = None

    def info(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description, "params": self.params}


def tail_task(fn: Callable | None = None, *, name: str | None = None, title: str | None = None, **options):
    """Make `fn` a tailable Celery task; its output (print, stdout, stderr) becomes the job's log."""

    def register(fn: Callable):
        spec = TailTask(name=name or fn.__name__, fn=fn, title=title or (name or fn.__name__).replace("_", " ").title(),
                        description=(fn.__doc__ or "").strip().split("\n")[0], params=describe(fn))

        @shared_task(name=f"tailapp.{spec.name}", bind=True, **options)
        def celery_task(self, **params):
            return run_job(spec, self.request.id, params)

        spec.celery_task = celery_task
        REGISTRY[spec.name] = spec
        celery_task.tail = spec
        return celery_task

    return register(fn) if fn is not None else register


def run_job(spec: TailTask, job_id: str, params: dict) -> int | None:
    """Run one job: mark it running, capture its output, record how it ended. Returns the exit code."""
    runtime = current_app.extensions["tailapp"]
    store = runtime.store
    if jobs.get(store, job_id) is None:  # started straight through Celery, not through the API
        jobs.create(store, spec.name, params, job_id)
    if jobs.start(store, job_id) is None:
        return None  # cancelled while queued, or already over
    writer = _writer(runtime.settings, store, job_id, spec)
    try:
        with Supervisor(store, job_id).watching():
            state, code, error = _call(spec, params, writer)
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


def _writer(settings: dict, store, job_id: str, spec: TailTask) -> LogWriter:
    """The job's log writer, masking the values of the configured and the task's secret variables."""
    names = [n.strip() for n in settings["SECRET_ENV"].split(",") if n.strip()]
    names += getattr(spec, "secret_env", [])
    return LogWriter(store, job_id, max_line_chars=settings["MAX_LINE_BYTES"],
                     max_pending=settings["WRITER_MAX_PENDING"], secrets=[os.environ.get(n, "") for n in names],
                     max_log_chars=settings["MAX_LOG_BYTES"], tail_chars=settings["LOG_TAIL_BYTES"])


def _call(spec: TailTask, params: dict, writer: LogWriter) -> tuple[str, int, str | None]:
    """Call the task function with output captured; (state, exit code, error summary)."""
    try:
        with capture(writer):
            result = spec.fn(**params)
    except JobCancelled:
        return _cancelled(writer)
    except Exception as exc:  # noqa: BLE001 - any failure of user code ends the job as failed
        writer.write(traceback.format_exc())
        return p.FAILED, 1, f"{type(exc).__name__}: {exc}"[:500]
    code = result if isinstance(result, int) and not isinstance(result, bool) else 0
    if code:
        return p.FAILED, code, f"exited with code {code}"
    return p.SUCCEEDED, 0, None


def _cancelled(writer: LogWriter) -> tuple[str, None, str]:
    writer.write(("\n" if writer.has_partial else "") + CANCELLED_LINE + "\n")
    return p.CANCELLED, None, "cancelled"

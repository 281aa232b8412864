"""Starting and finding jobs on behalf of a request, for the JSON API and the HTML pages alike."""

from __future__ import annotations

import redis
from flask import current_app, request
from kombu.exceptions import OperationalError

from tailapp import jobs, runtime
from tailapp import protocol as p
from tailapp.auth import current_user
from tailapp.params import ParamError, split_secrets, validate
from tailapp.store import Store
from tailapp.tasks import REGISTRY
from tailapp.users import User

SECRET_PARAMS_SECONDS = 24 * 3600  # a job queued longer than this fails: its secret parameters are gone
BROKER_DOWN = (OperationalError, redis.ConnectionError, redis.TimeoutError, OSError)


class RequestError(Exception):
    """A request refused with `status` and a message safe to show (as {"error": …} or an error page)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def store() -> Store:
    """The current app's store."""
    return runtime.get().store


def load_job(job_id: str) -> dict:
    """The job object, or a 404 RequestError."""
    job = jobs.get(store(), job_id) if p.JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise RequestError(404, "unknown job")
    return job


def require(role: str, action: str) -> User:
    """The signed-in user when their role allows `action`; a 403 RequestError otherwise."""
    user = current_user()
    if user is None or not user.can(role):
        who = f"; {user.name} is a {user.role}" if user else ""
        raise RequestError(403, f"{action} needs the {role} role{who}")
    return user


def via() -> str:
    """How this request was made, as the job records it: our pages send their CSRF token, the CLI says so."""
    if request.blueprint == "views" or request.headers.get("X-CSRFToken"):
        return "ui"
    return "cli" if request.headers.get("X-Tailapp-Client") == "cli" else "api"


def start_job(task_name: object, raw_params: object, *, from_form: bool = False, how: str | None = None) -> dict:
    """Validate, store and queue a job; returns the job object. Raises RequestError (403 below operator)."""
    user = require("operator", "starting a job")
    spec = REGISTRY.get(task_name) if isinstance(task_name, str) else None
    if spec is None:
        raise RequestError(400, f"unknown task {task_name!r}" if isinstance(task_name, str)
                           else '"task" must be a string')
    try:
        params = validate(spec.params, {} if raw_params is None else raw_params, from_form=from_form)
    except ParamError as exc:
        raise RequestError(400, str(exc)) from None
    shown, secret = split_secrets(spec.params, params)
    job = jobs.create(store(), spec.name, shown, started_by=user.name, started_via=how or via())
    if secret:
        store().stash_secrets(job["id"], secret, SECRET_PARAMS_SECONDS)
    current_app.logger.info("job %s (%s) started by %s via %s", job["id"], spec.name, user.name, job["started_via"])
    try:
        spec.celery_task.apply_async(kwargs=shown, task_id=job["id"])
    except BROKER_DOWN as exc:
        _not_queued(job, exc, 503, "could not queue the job: the broker is unreachable")
    except ImportError as exc:
        _not_queued(job, exc, 500, f"could not queue the job: the server's install is incomplete ({exc})")
    except Exception as exc:  # noqa: BLE001 - whatever it was, say so, and leave no job hanging
        _not_queued(job, exc, 500, f"could not queue the job: {type(exc).__name__} (see the server log)")
    return job


def _not_queued(job: dict, exc: Exception, status: int, message: str):
    """Record why a job never reached the broker, and answer with that reason (the trace goes to the log)."""
    current_app.logger.error("could not queue job %s: %s", job["id"], exc, exc_info=exc)
    jobs.finish(store(), job["id"], p.FAILED, None, message)
    raise RequestError(status, message) from None

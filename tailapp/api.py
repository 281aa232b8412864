"""The JSON API: tasks, jobs, and logs as plain text."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from tailapp import jobs
from tailapp import protocol as p
from tailapp.params import ParamError, validate
from tailapp.tasks import REGISTRY

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LOG_PAGE = 100_000
MAX_LOG_PAGE_BYTES = 4 * 1024 * 1024  # a page ends after the line that reaches this (at least one line)
FIRST_LOG_READ = 100  # lines of a page's first read from Redis; later reads are sized by line length


class ApiError(Exception):
    """An error answered as {"error": message} with `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _store():
    return current_app.extensions["tailapp"].store


def load_job(job_id: str) -> dict:
    """The job object, or a 404 ApiError."""
    job = jobs.get(_store(), job_id) if p.JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise ApiError(404, "unknown job")
    return job


def start_job(task_name: object, raw_params: object, *, from_form: bool = False) -> dict:
    """Validate, store and queue a job; returns the job object. Raises ApiError."""
    spec = REGISTRY.get(task_name) if isinstance(task_name, str) else None
    if spec is None:
        raise ApiError(400, f"unknown task {task_name!r}" if isinstance(task_name, str) else '"task" must be a string')
    try:
        params = validate(spec.params, {} if raw_params is None else raw_params, from_form=from_form)
    except ParamError as exc:
        raise ApiError(400, str(exc)) from None
    job = jobs.create(_store(), spec.name, params)
    try:
        spec.celery_task.apply_async(kwargs=params, task_id=job["id"])
    except Exception as exc:  # noqa: BLE001 - the broker is down: say so, and leave no job hanging
        current_app.logger.error("could not queue job %s: %s", job["id"], exc)
        jobs.finish(_store(), job["id"], p.FAILED, None, "could not queue the job: the broker is unreachable")
        raise ApiError(503, "could not queue the job: the broker is unreachable") from None
    return job


@bp.get("/tasks")
def list_tasks():
    return jsonify(tasks=[spec.info() for spec in REGISTRY.values()])


@bp.post("/jobs")
def create_job():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object like {\"task\": \"demo\", \"params\": {}}")
    job = start_job(body.get("task"), body.get("params"))
    return jsonify(id=job["id"], url=url_for("views.job_page", job_id=job["id"]), job=job), 201


@bp.get("/jobs")
def list_jobs():
    limit = _int_arg("limit", current_app.config["JOB_LIST_LIMIT"], 1, 500)
    return jsonify(jobs=jobs.recent(_store(), limit))


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    return jsonify(load_job(job_id))


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    job = load_job(job_id)
    if job["state"] in p.TERMINAL:
        raise ApiError(409, f"job already {job['state']}")
    return jsonify(job=jobs.cancel(_store(), job)), 202


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str):
    job = load_job(job_id)
    if job["state"] not in p.TERMINAL:
        raise ApiError(409, f"job is {job['state']}: cancel it first")
    jobs.delete(_store(), job_id)
    return "", 204


@bp.post("/jobs/<job_id>/restart")
def restart_job(job_id: str):
    old = load_job(job_id)
    job = start_job(old["task"], old["params"])
    return jsonify(id=job["id"], url=url_for("views.job_page", job_id=job["id"]), job=job), 201


@bp.get("/jobs/<job_id>/log")
def get_log(job_id: str):
    job = load_job(job_id)
    after = _int_arg("after", 0, 0, None)
    limit = _int_arg("limit", MAX_LOG_PAGE, 1, MAX_LOG_PAGE)
    texts = _read_page(job_id, after, limit)
    last = after + len(texts)
    more = job["state"] not in p.TERMINAL or last < job["lines"]
    body = "".join(t + "\n" for t in texts)
    response = Response(body, mimetype="text/plain")
    response.headers["X-Next-Seq"] = str(last)
    if more:
        response.headers["X-More-Data"] = "true"
    return response


def _read_page(job_id: str, after: int, limit: int) -> list[str]:
    """Up to `limit` lines after `after`, stopping once they hold MAX_LOG_PAGE_BYTES."""
    texts: list[str] = []
    size, count = 0, min(FIRST_LOG_READ, limit)
    while count > 0:
        read, _ = _store().read_lines(job_id, after + len(texts), count)
        for text in read:
            texts.append(text)
            size += p.line_bytes(text) + 1
            if size >= MAX_LOG_PAGE_BYTES:
                return texts
        if len(read) < count:
            break
        per_line = max(1, p.text_bytes(read) // len(read))
        count = min(limit - len(texts), max(1, (MAX_LOG_PAGE_BYTES - size) // per_line))
    return texts


def _int_arg(name: str, default: int, low: int, high: int | None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name!r} must be an integer") from None
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"{name!r} must be between {low} and {high}" if high else f"{name!r} must be \u2265 {low}")
    return value

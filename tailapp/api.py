"""The JSON API: tasks, jobs, and logs as plain text."""

from __future__ import annotations

import sys
from functools import partial

import redis
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from kombu.exceptions import OperationalError

from tailapp import compare, crosssearch, joblist, jobs, logstream
from tailapp import protocol as p
from tailapp.auth import current_user
from tailapp.params import ParamError, is_secret, split_secrets, validate
from tailapp.tasks import REGISTRY, title_of
from tailapp.terminal import Terminal, render
from tailapp.users import User

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LOG_PAGE = 100_000
SECRET_PARAMS_SECONDS = 24 * 3600  # a job queued longer than this fails: its secret parameters are gone
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


def require(role: str, action: str) -> User:
    """The signed-in user when their role allows `action`; a 403 ApiError otherwise."""
    user = current_user()
    if user is None or not user.can(role):
        who = f"; {user.name} is a {user.role}" if user else ""
        raise ApiError(403, f"{action} needs the {role} role{who}")
    return user


def via() -> str:
    """How this request was made, as the job records it: our pages send their CSRF token, the CLI says so."""
    if request.blueprint == "views" or request.headers.get("X-CSRFToken"):
        return "ui"
    return "cli" if request.headers.get("X-Tailapp-Client") == "cli" else "api"


def start_job(task_name: object, raw_params: object, *, from_form: bool = False, how: str | None = None) -> dict:
    """Validate, store and queue a job; returns the job object. Raises ApiError (403 below operator)."""
    user = require("operator", "starting a job")
    spec = REGISTRY.get(task_name) if isinstance(task_name, str) else None
    if spec is None:
        raise ApiError(400, f"unknown task {task_name!r}" if isinstance(task_name, str) else '"task" must be a string')
    try:
        params = validate(spec.params, {} if raw_params is None else raw_params, from_form=from_form)
    except ParamError as exc:
        raise ApiError(400, str(exc)) from None
    shown, secret = split_secrets(spec.params, params)
    job = jobs.create(_store(), spec.name, shown, started_by=user.name, started_via=how or via())
    if secret:
        _store().stash_secrets(job["id"], secret, SECRET_PARAMS_SECONDS)
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


BROKER_DOWN = (OperationalError, redis.ConnectionError, redis.TimeoutError, OSError)


def _not_queued(job: dict, exc: Exception, status: int, message: str):
    """Record why a job never reached the broker, and answer with that reason (the trace goes to the log)."""
    current_app.logger.error("could not queue job %s: %s", job["id"], exc, exc_info=exc)
    jobs.finish(_store(), job["id"], p.FAILED, None, message)
    raise ApiError(status, message) from None


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


def list_filter(args) -> joblist.Filter:
    """The job list's filter from query arguments: task, state (comma-separated) and q (id or parameter text)."""
    states = tuple(s for s in (args.get("state") or "").split(",") if s)
    try:
        return joblist.Filter(task=args.get("task", ""), states=states, text=args.get("q", "").strip())
    except joblist.FilterError as exc:
        raise ApiError(400, str(exc)) from None


def list_page(match: joblist.Filter, limit: int, before: str | None = None) -> dict:
    """One page of the job list, each job with its task's title; 400 on a bad cursor."""
    try:
        listed = joblist.page(_store(), match, limit, before)
    except joblist.FilterError as exc:
        raise ApiError(400, str(exc)) from None
    listed["jobs"] = [{**job, "title": title_of(job["task"])} for job in listed["jobs"]]
    return listed


@bp.get("/jobs")
def list_jobs():
    limit = _int_arg("limit", current_app.config["JOB_LIST_LIMIT"], 1, 500)
    return jsonify(list_page(list_filter(request.args), limit, request.args.get("before") or None))


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    return jsonify(load_job(job_id))


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    user = require("operator", "cancelling a job")
    job = load_job(job_id)
    if job["state"] in p.TERMINAL:
        raise ApiError(409, f"job already {job['state']}")
    current_app.logger.info("job %s cancelled by %s via %s", job_id, user.name, via())
    return jsonify(job=jobs.cancel(_store(), job, user.name, via())), 202


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str):
    user = require("admin", "deleting a job")
    job = load_job(job_id)
    if job["state"] not in p.TERMINAL:
        raise ApiError(409, f"job is {job['state']}: cancel it first")
    jobs.delete(_store(), job_id)
    current_app.logger.info("job %s (%s) deleted by %s via %s", job_id, job["task"], user.name, via())
    return "", 204


@bp.post("/jobs/<job_id>/restart")
def restart_job(job_id: str):
    old = load_job(job_id)
    spec = REGISTRY.get(old["task"])
    if spec is not None and any(map(is_secret, spec.params)):
        raise ApiError(409, "this job has secret parameters, which are not kept: start it again with them")
    job = start_job(old["task"], old["params"], how=f"restart-of {job_id}")
    return jsonify(id=job["id"], url=url_for("views.job_page", job_id=job["id"]), job=job), 201


SEARCH_BUDGET = 5.0  # seconds a search across jobs may take by default
MAX_SEARCH_BUDGET = 30


def search_jobs(args) -> dict:
    """A search across the last `jobs` jobs of `task` for `q` (a regex with regex=1), within `budget` seconds."""
    query = crosssearch.Query(args.get("q", ""), regex=args.get("regex") in ("1", "true", "on"))
    task = args.get("task", "")
    last = _int_arg("jobs", 20, 1, 1000)
    budget = _float_arg("budget", SEARCH_BUDGET, 0.1, MAX_SEARCH_BUDGET)
    try:
        query.compile()  # a bad query is answered before any log is read
    except crosssearch.QueryError as exc:
        raise ApiError(400, str(exc)) from None
    found = crosssearch.search(_store(), task, query, last, budget, cpu=off_loop)
    for result in found["results"]:
        result["job"] = {**result["job"], "title": title_of(result["job"]["task"])}
    return {"task": task, "q": query.text, "regex": query.regex, "jobs": last, "budget": budget, **found}


@bp.get("/search")
def search():
    return jsonify(search_jobs(request.args))


MAX_COMPARE_LINES = 500_000


def off_loop(fn, *args):
    """Run CPU-bound work in a native thread when serving under gevent, so the event loop (every viewer's
    socket) keeps going meanwhile instead of stopping for the whole computation."""
    if "gevent" in sys.modules:
        from gevent import get_hub, monkey

        if monkey.is_module_patched("threading"):
            return get_hub().threadpool.apply(fn, args)
    return fn(*args)


class NoBaseline(ApiError):
    """The task has no earlier successful run to compare a job with."""


def comparison(job_id: str, other_id: str | None) -> dict:
    """The diff from another run's log (default: the task's previous successful run) to this job's."""
    job = load_job(job_id)
    if other_id:
        other = load_job(other_id)
    else:
        other = jobs.previous_success(_store(), job)
        if other is None:
            raise NoBaseline(404, f"no earlier successful run of {job['task']} to compare with")
    if max(job["lines"], other["lines"]) > MAX_COMPARE_LINES:
        raise ApiError(413, f"logs of more than {MAX_COMPARE_LINES:,} lines are not compared here")
    try:
        normalise = compare.normaliser(current_app.config["COMPARE_FILE"])
    except compare.CompareError as exc:
        raise ApiError(500, str(exc)) from None
    store = _store()
    result = off_loop(_compare_rows, jobs.texts(store, other["id"], MAX_COMPARE_LINES),
                      jobs.texts(store, job["id"], MAX_COMPARE_LINES), normalise)
    return {"job": job, "other": other, "ignored": normalise.names, **result}


def _compare_rows(old: list[str], new: list[str], normalise: compare.Normaliser) -> dict:
    return compare.diff(render(old), render(new), normalise)


@bp.get("/jobs/<job_id>/compare")
def compare_job(job_id: str):
    return jsonify(comparison(job_id, request.args.get("with")))


@bp.get("/jobs/<job_id>/log")
def get_log(job_id: str):
    """The raw lines (as the task wrote them), or with ansi=0 the rendered rows as plain text: the whole log
    streamed, or with `limit` one page (for clients that page); download=1 makes it a file."""
    job = load_job(job_id)
    after = _int_arg("after", 0, 0, p.MAX_SEQ)
    raw = _int_arg("raw", 1, 0, 1) and _int_arg("ansi", 1, 0, 1)
    download = _int_arg("download", 0, 0, 1)
    if "limit" in request.args:
        response = _log_page(job, after, _int_arg("limit", MAX_LOG_PAGE, 1, MAX_LOG_PAGE), raw)
    else:
        response = _log_stream(job, after, raw)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{logstream.filename(job)}"'
    return response


def _log_page(job: dict, after: int, limit: int, raw: int) -> Response:
    if raw:
        texts, total = _read_page(job["id"], after, limit), job["lines"]
    else:
        texts, total = _plain_rows(job, after, limit)
    last = after + len(texts)
    response = Response("".join(t + "\n" for t in texts), mimetype="text/plain")
    response.headers["X-Next-Seq"] = str(last)
    if job["state"] not in p.TERMINAL or last < total:
        response.headers["X-More-Data"] = "true"
    return response


def _log_stream(job: dict, after: int, raw: int) -> Response:
    """Every line (or row) there is now, read a page at a time while the body is sent."""
    read = partial(_store().read_lines, job["id"])
    total = job["lines"]
    if raw:
        body = logstream.raw(read, after, total)
    else:
        body = logstream.plain(read, total, skip_rows=after)
    response = Response(body, mimetype="text/plain")
    if raw:
        response.headers["X-Next-Seq"] = str(max(after, total))
    if job["state"] not in p.TERMINAL:
        response.headers["X-More-Data"] = "true"
    return response


def _plain_rows(job: dict, after: int, limit: int) -> tuple[list[str], int]:
    """Rows `after`..`after + limit` of the rendered log, and the number of rows; the log is rendered from
    its first line, since any line may redraw rows above it."""
    term = Terminal()
    read = 0
    while read < job["lines"]:
        texts, _ = _store().read_lines(job["id"], read, MAX_LOG_PAGE)
        if not texts:
            break
        term.feed(texts)
        read += len(texts)
    return _bounded([row.rstrip() for row in term.rows[after : after + limit]]), len(term.rows)


def _bounded(texts: list[str]) -> list[str]:
    """The first of `texts` up to the one that reaches MAX_LOG_PAGE_BYTES (at least one)."""
    size = 0
    for count, text in enumerate(texts, 1):
        size += p.line_bytes(text) + 1
        if size >= MAX_LOG_PAGE_BYTES:
            return texts[:count]
    return texts


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


def _float_arg(name: str, default: float, low: float, high: float) -> float:
    return _number_arg(name, default, low, high, float, "a number")


def _int_arg(name: str, default: int, low: int, high: int | None) -> int:
    return _number_arg(name, default, low, high, int, "an integer")


def _number_arg(name: str, default, low, high, kind, what: str):
    """Query argument `name` as `kind` within [low, high]; a 400 ApiError saying what it must be otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ApiError(400, f"{name!r} must be {what}") from None
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"{name!r} must be between {low} and {high}" if high else f"{name!r} must be \u2265 {low}")
    return value

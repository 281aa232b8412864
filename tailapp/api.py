"""The JSON API: tasks, jobs, and logs as plain text."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from tailapp import backlog, jobs, logstream
from tailapp import protocol as p
from tailapp.launch import RequestError, load_job, require, start_job, store, via
from tailapp.params import is_secret
from tailapp.queries import comparison, int_arg, list_filter, list_page, search_jobs
from tailapp.tasks import REGISTRY
from tailapp.terminal import Terminal

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LOG_PAGE = 100_000
MAX_LOG_PAGE_BYTES = 4 * 1024 * 1024  # a page ends after the line that reaches this (at least one line)
FIRST_LOG_READ = 100  # lines of a page's first read from Redis; later reads are sized by line length


@bp.get("/tasks")
def list_tasks():
    return jsonify(tasks=[spec.info() for spec in REGISTRY.values()])


@bp.post("/jobs")
def create_job():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise RequestError(400, "body must be a JSON object like {\"task\": \"demo\", \"params\": {}}")
    job = start_job(body.get("task"), body.get("params"))
    return jsonify(id=job["id"], url=url_for("views.job_page", job_id=job["id"]), job=job), 201


@bp.get("/jobs")
def list_jobs():
    limit = int_arg("limit", current_app.config["JOB_LIST_LIMIT"], 1, 500)
    return jsonify(list_page(list_filter(request.args), limit, request.args.get("before") or None))


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    return jsonify(load_job(job_id))


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    user = require("operator", "cancelling a job")
    job = load_job(job_id)
    if job["state"] in p.TERMINAL:
        raise RequestError(409, f"job already {job['state']}")
    current_app.logger.info("job %s cancelled by %s via %s", job_id, user.name, via())
    return jsonify(job=jobs.cancel(store(), job, user.name, via())), 202


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str):
    user = require("admin", "deleting a job")
    job = load_job(job_id)
    if job["state"] not in p.TERMINAL:
        raise RequestError(409, f"job is {job['state']}: cancel it first")
    jobs.delete(store(), job_id)
    current_app.logger.info("job %s (%s) deleted by %s via %s", job_id, job["task"], user.name, via())
    return "", 204


@bp.post("/jobs/<job_id>/restart")
def restart_job(job_id: str):
    old = load_job(job_id)
    spec = REGISTRY.get(old["task"])
    if spec is not None and any(map(is_secret, spec.params)):
        raise RequestError(409, "this job has secret parameters, which are not kept: start it again with them")
    job = start_job(old["task"], old["params"], how=f"restart-of {job_id}")
    return jsonify(id=job["id"], url=url_for("views.job_page", job_id=job["id"]), job=job), 201


@bp.get("/search")
def search():
    return jsonify(search_jobs(request.args))


@bp.get("/jobs/<job_id>/compare")
def compare_job(job_id: str):
    return jsonify(comparison(job_id, request.args.get("with")))


@bp.get("/jobs/<job_id>/log")
def get_log(job_id: str):
    """The raw lines (as the task wrote them), or with ansi=0 the rendered rows as plain text: the whole log
    streamed, or with `limit` one page (for clients that page); download=1 makes it a file."""
    job = load_job(job_id)
    after = int_arg("after", 0, 0, p.MAX_SEQ)
    raw = int_arg("raw", 1, 0, 1) and int_arg("ansi", 1, 0, 1)
    download = int_arg("download", 0, 0, 1)
    if "limit" in request.args:
        response = _log_page(job, after, int_arg("limit", MAX_LOG_PAGE, 1, MAX_LOG_PAGE), raw)
    else:
        response = _log_stream(job, after, raw)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{logstream.filename(job)}"'
    return response


@bp.get("/jobs/<job_id>/backlog")
def get_backlog(job_id: str):
    """The viewer's opening load: lines after `after` up to the count when asked, with their times, in
    bulk; X-Next-Seq says the seq to follow the live feed from. With `tail=N`, only the log's last N lines
    (at most ~1 MB), which a big log's page shows while the whole log loads; X-First-Seq says where they
    begin."""
    job = load_job(job_id)
    after = int_arg("after", 0, 0, p.MAX_SEQ)
    last = int_arg("tail", 0, 0, backlog.TAIL_MAX_LINES)
    upto = max(after, job["lines"])
    read = partial(store().read_elements, job_id)
    if last:
        after, elements = backlog.tail(read, upto, last)
        response = Response("".join(f"{e}\n" for e in elements), mimetype="text/plain")
        response.headers["X-First-Seq"] = str(after)
        upto = after + len(elements)
    else:
        response = Response(backlog.body(read, after, upto), mimetype="text/plain")
    response.headers["X-Next-Seq"] = str(upto)
    response.headers["Cache-Control"] = "no-store"
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
    read = partial(store().read_lines, job["id"])
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
        texts, _ = store().read_lines(job["id"], read, MAX_LOG_PAGE)
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
        read, _ = store().read_lines(job_id, after + len(texts), count)
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



"""The browser pages: the Start Task page with recent jobs, and the live log page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from tailapp import backlog
from tailapp.joblist import Filter
from tailapp.launch import RequestError, load_job, start_job
from tailapp.protocol import STATES
from tailapp.queries import NoBaseline, comparison, list_filter, list_page, search_jobs
from tailapp.tasks import REGISTRY, title_of

bp = Blueprint("views", __name__)

PARAM_PREFIX = "param."


def _index(error: str | None = None, status: int = 200):
    tasks = [spec.info() for spec in REGISTRY.values()]
    try:
        match, before = list_filter(request.args), request.args.get("before") or None
        listed = list_page(match, current_app.config["JOB_LIST_LIMIT"], before)
    except RequestError as exc:
        match, before, error, status = Filter(), None, exc.message, exc.status
        listed = list_page(match, current_app.config["JOB_LIST_LIMIT"])
    return render_template("index.html", tasks=tasks, jobs=listed["jobs"], next=listed["next"], before=before,
                           filter=match, states=STATES, titles={t["name"]: t["title"] for t in tasks},
                           error=error), status


@bp.get("/")
def index():
    return _index()


@bp.post("/jobs")
def start():
    """The Start Task form: start the job and go to its page."""
    task = request.form.get("task", "")
    spec = REGISTRY.get(task)
    names = {p["name"] for p in spec.params} if spec else set()
    params = {k[len(PARAM_PREFIX):]: v for k, v in request.form.items() if k.startswith(PARAM_PREFIX)}
    for spec_param in spec.params if spec else []:
        if spec_param["type"] == "bool" and spec_param["name"] not in params:
            params[spec_param["name"]] = "false"  # an unticked checkbox is not sent at all
    params = {k: v for k, v in params.items() if k in names} if spec else params
    try:
        job = start_job(task, params, from_form=True)
    except RequestError as exc:
        return _index(exc.message, exc.status)
    return redirect(url_for("views.job_page", job_id=job["id"]), 303)


@bp.get("/jobs/<job_id>")
def job_page(job_id: str):
    job = load_job(job_id)
    return render_template("job.html", job=job, title=title_of(job["task"]), viewer=viewer_settings(),
                           tail_url=tail_url(job))


def tail_url(job: dict) -> str | None:
    """Where a big log's page gets its last lines, shown while the whole log loads; None for a log that loads
    fast enough, or a failed job's (its page opens at the first error)."""
    if job["lines"] < backlog.TAIL_FIRST_LINES or job["state"] == "failed":
        return None
    return url_for("api.get_backlog", job_id=job["id"], tail=backlog.TAIL_LINES)


def viewer_settings() -> dict:
    """What the log viewer takes from the server's settings: the error and warning patterns."""
    config = current_app.config
    return {name.lower(): [p for p in str(config[name] or "").splitlines() if p.strip()]
            for name in ("ERROR_PATTERNS", "WARNING_PATTERNS")}


@bp.get("/jobs/<job_id>/compare")
def compare_page(job_id: str):
    """This job's log against another run's (default: the task's previous successful run)."""
    job = load_job(job_id)
    try:
        result = comparison(job_id, request.args.get("with"))
    except NoBaseline as exc:
        result = {"job": job, "other": None, "hunks": [], "message": exc.message}
    return render_template("compare.html", title=title_of(job["task"]), **result)


@bp.get("/search")
def search_page():
    """Where a string or regex occurs in the logs of a task's last N jobs, as links to the rows."""
    tasks = [spec.info() for spec in REGISTRY.values()]
    try:
        found, error, status = search_jobs(request.args), None, 200
    except RequestError as exc:
        found, error, status = None, exc.message, exc.status
    return render_template("search.html", found=found, error=error, tasks=tasks, args=request.args), status

"""What the JSON API and the HTML pages both answer: job list pages, searches across jobs, comparisons,
and the query arguments they take."""

from __future__ import annotations

import sys

from flask import current_app, request

from tailapp import compare, crosssearch, joblist, jobs
from tailapp.launch import RequestError, load_job, store
from tailapp.tasks import title_of
from tailapp.terminal import render


def list_filter(args) -> joblist.Filter:
    """The job list's filter from query arguments: task, state (comma-separated) and q (id or parameter text)."""
    states = tuple(s for s in (args.get("state") or "").split(",") if s)
    try:
        return joblist.Filter(task=args.get("task", ""), states=states, text=args.get("q", "").strip())
    except joblist.FilterError as exc:
        raise RequestError(400, str(exc)) from None


def list_page(match: joblist.Filter, limit: int, before: str | None = None) -> dict:
    """One page of the job list, each job with its task's title; 400 on a bad cursor."""
    try:
        listed = joblist.page(store(), match, limit, before)
    except joblist.FilterError as exc:
        raise RequestError(400, str(exc)) from None
    listed["jobs"] = [{**job, "title": title_of(job["task"])} for job in listed["jobs"]]
    return listed


SEARCH_BUDGET = 5.0  # seconds a search across jobs may take by default
MAX_SEARCH_BUDGET = 30


def search_jobs(args) -> dict:
    """A search across the last `jobs` jobs of `task` for `q` (a regex with regex=1), within `budget` seconds."""
    query = crosssearch.Query(args.get("q", ""), regex=args.get("regex") in ("1", "true", "on"))
    task = args.get("task", "")
    last = int_arg("jobs", 20, 1, 1000)
    budget = float_arg("budget", SEARCH_BUDGET, 0.1, MAX_SEARCH_BUDGET)
    try:
        query.compile()  # a bad query is answered before any log is read
    except crosssearch.QueryError as exc:
        raise RequestError(400, str(exc)) from None
    found = crosssearch.search(store(), task, query, last, budget, cpu=off_loop)
    for result in found["results"]:
        result["job"] = {**result["job"], "title": title_of(result["job"]["task"])}
    return {"task": task, "q": query.text, "regex": query.regex, "jobs": last, "budget": budget, **found}


MAX_COMPARE_LINES = 500_000


def off_loop(fn, *args):
    """Run CPU-bound work in a native thread when serving under gevent, so the event loop (every viewer's
    socket) keeps going meanwhile instead of stopping for the whole computation."""
    if "gevent" in sys.modules:
        from gevent import get_hub, monkey

        if monkey.is_module_patched("threading"):
            return get_hub().threadpool.apply(fn, args)
    return fn(*args)


class NoBaseline(RequestError):
    """The task has no earlier successful run to compare a job with."""


def comparison(job_id: str, other_id: str | None) -> dict:
    """The diff from another run's log (default: the task's previous successful run) to this job's."""
    job = load_job(job_id)
    if other_id:
        other = load_job(other_id)
    else:
        other = jobs.previous_success(store(), job)
        if other is None:
            raise NoBaseline(404, f"no earlier successful run of {job['task']} to compare with")
    if max(job["lines"], other["lines"]) > MAX_COMPARE_LINES:
        raise RequestError(413, f"logs of more than {MAX_COMPARE_LINES:,} lines are not compared here")
    try:
        normalise = compare.normaliser(current_app.config["COMPARE_FILE"])
    except compare.CompareError as exc:
        raise RequestError(500, str(exc)) from None
    result = off_loop(_compare_rows, jobs.texts(store(), other["id"], MAX_COMPARE_LINES),
                      jobs.texts(store(), job["id"], MAX_COMPARE_LINES), normalise)
    return {"job": job, "other": other, "ignored": normalise.names, **result}


def _compare_rows(old: list[str], new: list[str], normalise: compare.Normaliser) -> dict:
    return compare.diff(render(old), render(new), normalise)


def float_arg(name: str, default: float, low: float, high: float) -> float:
    return _number_arg(name, default, low, high, float, "a number")


def int_arg(name: str, default: int, low: int, high: int | None) -> int:
    return _number_arg(name, default, low, high, int, "an integer")


def _number_arg(name: str, default, low, high, kind, what: str):
    """Query argument `name` as `kind` within [low, high]; a 400 RequestError saying what it must be otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise RequestError(400, f"{name!r} must be {what}") from None
    if value < low or (high is not None and value > high):
        raise RequestError(400, f"{name!r} must be between {low} and {high}" if high
                           else f"{name!r} must be \u2265 {low}")
    return value

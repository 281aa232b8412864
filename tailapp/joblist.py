"""The job list: every job (Redis and archive) newest first, filtered by task, state and text, in pages."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tailapp import jobs
from tailapp import protocol as p
from tailapp.store import Store

BATCH = 200  # ids read from the index per round trip
SCAN = 5_000  # jobs looked at per page at most; past that the page ends early and says where to go on


class FilterError(ValueError):
    """A filter or cursor the list cannot use."""


@dataclass(frozen=True)
class Filter:
    """What a listed job must match: its task, one of `states`, and `text` in its id or a parameter."""

    task: str = ""
    states: tuple[str, ...] = ()
    text: str = ""

    def __post_init__(self):
        unknown = [s for s in self.states if s not in p.STATES]
        if unknown:
            raise FilterError(f"unknown state {unknown[0]!r}: use one of {', '.join(p.STATES)}")

    def matches(self, job: dict) -> bool:
        if self.task and job["task"] != self.task:
            return False
        if self.states and job["state"] not in self.states:
            return False
        return not self.text or self.text.lower() in searchable(job)


def searchable(job: dict) -> str:
    """The text a job is found by: its id and its parameters as name=value, lower case."""
    return " ".join([job["id"], *(f"{k}={shown(v)}" for k, v in job["params"].items())]).lower()


def shown(value: object) -> str:
    """A parameter's value as the pages show it: strings as they are, the rest as JSON (true, 40, 0.5)."""
    return value if isinstance(value, str) else json.dumps(value)


def cursor_of(job: dict) -> str:
    """Where the page after `job` starts: its creation time and id (ties in a millisecond keep their order)."""
    return f"{job['created_at']}-{job['id']}"


def parse_cursor(cursor: str) -> tuple[int, str]:
    created, _, job_id = cursor.partition("-")
    if not created.isdigit() or not p.JOB_ID.fullmatch(job_id):
        raise FilterError("'before' must be a cursor from a previous page's 'next'")
    return int(created), job_id


def page(store: Store, match: Filter, limit: int, before: str | None = None, scan: int = SCAN) -> dict:
    """{"jobs": up to `limit` matching jobs older than `before`, "next": the cursor of the following page or
    None at the end, "scanned": how many jobs were looked at}."""
    found: list[dict] = []
    scanned, last, position = 0, None, parse_cursor(before) if before else None
    for job in _older(store, position):
        scanned += 1
        last = job
        if match.matches(job):
            found.append(job)
            if len(found) == limit:
                break
        if scanned >= scan:
            break
    else:
        last = None  # the index is exhausted: no next page
    return {"jobs": found, "next": cursor_of(last) if last else None, "scanned": scanned}


def _older(store: Store, position: tuple[int, str] | None):
    """Job objects newest first, after `position` (created_at, id) when given; jobs gone meanwhile are skipped."""
    top = "+inf" if position is None else position[0]
    offset = 0
    while True:
        batch = store.jobs_by_time(top, offset, BATCH)
        if not batch:
            return
        offset += len(batch)
        ids = [job_id for job_id, score in batch if not _seen(position, job_id, int(score))]
        yield from _load(store, ids)


def _seen(position: tuple[int, str] | None, job_id: str, score: int) -> bool:
    """True for ids at the cursor's own millisecond that came before it (reverse id order within a score)."""
    return position is not None and score == position[0] and job_id >= position[1]


def _load(store: Store, ids: list[str]):
    """The jobs of `ids` in order: their Redis hashes in one round trip; the archive read only for a job the
    page actually reaches (a short page must not open 200 archive files)."""
    for job_id, fields in zip(ids, store.job_hashes(ids), strict=True):
        job = jobs.to_object(fields) if fields else jobs.get(store, job_id)
        if job is not None:
            yield job

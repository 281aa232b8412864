"""Job lifecycle: create, read, and move jobs between states; every change is published."""

from __future__ import annotations

import json
import logging
import time
import uuid

from tailapp import protocol as p
from tailapp.store import NULL, Store, encode_field, encode_line

log = logging.getLogger(__name__)
_INT_FIELDS = ("created_at", "started_at", "finished_at", "exit_code", "lines")
WHO_FIELDS = ("started_by", "started_via", "cancelled_by", "cancelled_via")  # who did it, and how


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    """An unguessable job id."""
    return uuid.uuid4().hex


def to_object(fields: dict) -> dict:
    """The protocol's job object from a job hash."""
    obj = {
        "id": fields["id"],
        "task": fields.get("task", ""),
        "params": json.loads(fields.get("params") or "{}"),
        "state": fields.get("state", p.QUEUED),
        "error": fields.get("error") or None,
        "progress": json.loads(fields["progress"]) if fields.get("progress") else None,
    }
    for name in _INT_FIELDS:
        value = fields.get(name, NULL)
        obj[name] = None if value == NULL else int(value)
    obj["lines"] = obj["lines"] or 0
    for name in WHO_FIELDS:
        value = fields.get(name)
        obj[name] = None if value in (None, "", NULL) else value
    obj["truncated"] = fields.get("truncated") == "1"
    for name in ("skipped_lines", "skipped_bytes"):  # what a size limit left out (see writer.py)
        obj[name] = int(fields.get(name) or 0)
    return obj


def create(store: Store, task: str, params: dict, job_id: str | None = None, *, started_by: str | None = None,
           started_via: str | None = None) -> dict:
    """Store a new queued job and return its object; `started_via`: ui, api, cli or "restart-of <id>"."""
    created = now_ms()
    fields = {"id": job_id or new_id(), "task": task, "params": params, "state": p.QUEUED,
              "created_at": created, "started_at": None, "finished_at": None, "exit_code": None,
              "lines": 0, "error": None, "started_by": started_by, "started_via": started_via}
    store.create_job(fields["id"], fields, created)
    return to_object({k: encode_field(v) for k, v in fields.items()})


def get(store: Store, job_id: str) -> dict | None:
    """The job object, from Redis or, once it left Redis, from the archive."""
    fields = store.job_hash(job_id)
    if fields:
        return to_object(fields)
    return store.archive.job(job_id) if store.archive is not None else None


def previous_success(store: Store, job: dict, scan: int = 500) -> dict | None:
    """The newest succeeded job of the same task created before `job` (among the `scan` jobs before it)."""
    for job_id in store.job_ids_before(job["created_at"], scan):
        other = get(store, job_id)
        if other is not None and other["task"] == job["task"] and other["state"] == p.SUCCEEDED:
            return other
    return None


def texts(store: Store, job_id: str, limit: int, chunk: int = 20_000) -> list[str]:
    """The first `limit` lines of a job's log (Redis or archive)."""
    out: list[str] = []
    while len(out) < limit:
        page, _ = store.read_lines(job_id, len(out), min(chunk, limit - len(out)))
        if not page:
            break
        out += page
    return out


def start(store: Store, job_id: str) -> dict | None:
    """queued -> running; None when the job may not start (cancelled, unknown)."""
    fields = store.set_fields(job_id, {"state": p.RUNNING, "started_at": now_ms()}, only_from=(p.QUEUED,))
    return to_object(fields) if fields else None


def finish(store: Store, job_id: str, state: str, exit_code: int | None = None, error: str | None = None,
           only_from: tuple[str, ...] = (p.QUEUED, p.RUNNING), extra: dict | None = None) -> dict | None:
    """Move a live job to a terminal state (writing `extra` fields too); None when it was not in `only_from`."""
    changes = {"state": state, "finished_at": now_ms(), "exit_code": exit_code, "error": error, **(extra or {})}
    fields = store.set_fields(job_id, changes, only_from=only_from)
    if not fields:
        return None
    job = to_object(fields)
    archive(store, job)
    return job


def archive(store: Store, job: dict) -> bool:
    """Copy a finished job to the archive, then let its Redis keys expire; on failure keep them (and the
    job on the store's unarchived list, which the watchdog retries). True once archived."""
    if store.archive is None:
        return False
    store.mark_unarchived(job["id"])  # first: a worker killed while copying is retried too
    try:
        store.archive.save(job, store.all_elements(job["id"]))
    except OSError as exc:
        log.error("job %s not archived, its Redis keys stay until a retry succeeds: %s", job["id"], exc)
        return False
    if not store.job_exists(job["id"]):
        store.archive.delete(job["id"])  # deleted while we were copying it: do not bring it back
    else:
        store.expire(job["id"], store.ttl_seconds)
    store.mark_archived(job["id"])
    return True


def retry_archives(store: Store, finished_before_s: float = 0) -> int:
    """Archive again the finished jobs whose copy failed, among those that finished more than
    `finished_before_s` seconds ago (younger ones may still be being copied); return how many are now."""
    archived = 0
    for job_id in store.unarchived_ids():
        fields = store.job_hash(job_id)
        if not fields:  # deleted meanwhile
            store.mark_archived(job_id)
            continue
        job = to_object(fields)
        if job["state"] in p.TERMINAL and (job["finished_at"] or 0) <= now_ms() - finished_before_s * 1000:
            archived += archive(store, job)
    return archived


def delete(store: Store, job_id: str) -> None:
    """Remove a finished job from Redis and the archive."""
    store.delete_job(job_id)
    if store.archive is not None:
        store.archive.delete(job_id)


def prune(store: Store, keep_days: int, keep_jobs: int) -> int:
    """Delete finished jobs beyond the retention settings; return how many."""
    doomed: set[str] = set()
    if keep_days:
        doomed.update(store.job_ids_created_until(now_ms() - keep_days * 86_400_000))
    if keep_jobs:
        doomed.update(store.job_ids_beyond_newest(keep_jobs))
    removed = 0
    for job_id in doomed:
        job = get(store, job_id)
        if job is None or job["state"] in p.TERMINAL:
            delete(store, job_id)
            removed += 1
    return removed


CANCEL_FLAG_SECONDS = 24 * 3600


def cancel(store: Store, job: dict, by: str | None = None, via: str | None = None) -> dict:
    """Cancel a job: a queued one ends at once and never starts; a running one is told to stop."""
    who = {"cancelled_by": by, "cancelled_via": via}
    if job["state"] == p.QUEUED:
        ended = finish(store, job["id"], p.CANCELLED, None, "cancelled before it started", only_from=(p.QUEUED,),
                       extra=who)
        if ended is not None:
            store.drop_secrets(job["id"])  # its worker will never take them
            return ended
    store.set_fields(job["id"], who, only_from=(p.QUEUED, p.RUNNING))
    # Running (or it started just now): the worker's supervisor sees the flag within a fraction of a second.
    store.request_cancel(job["id"], CANCEL_FLAG_SECONDS)
    return get(store, job["id"]) or job


LOST_LINE = "\x1b[31m\u25a0 Job lost: its worker stopped sending heartbeats (killed or crashed).\x1b[0m"


def reap_lost(store: Store, heartbeat_seconds: int) -> list[str]:
    """Mark running jobs whose heartbeat expired as lost, with a last line saying so; return their ids."""
    lost = []
    for job_id in running_ids(store):
        job = get(store, job_id)
        if job is None or job["state"] != p.RUNNING or store.has_heartbeat(job_id):
            continue
        if now_ms() - (job["started_at"] or 0) < heartbeat_seconds * 1000:
            continue  # just started: its first heartbeat may not be written yet
        if not store.claim_reaping(job_id):
            continue  # another server is on it
        abandon(store, job_id, p.LOST, LOST_LINE, "worker lost")
        lost.append(job_id)
    return lost


def running_ids(store: Store) -> set[str]:
    """Ids of the jobs in state running."""
    return store.running_ids()


def abandon(store: Store, job_id: str, state: str, line: str, error: str) -> dict | None:
    """End a running job whose worker is gone: a last log line saying why, then the terminal state."""
    store.append_lines(job_id, [encode_line(now_ms(), line)], before=store.line_count(job_id))
    return finish(store, job_id, state, None, error, only_from=(p.RUNNING,))

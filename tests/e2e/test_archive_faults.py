"""A full or unwritable archive: no partial file, the job's Redis keys stay, and a later retry archives it.

A full disk is a file size limit (RLIMIT_FSIZE): writes past it fail with EFBIG, as they fail with ENOSPC on
a full disk, halfway through a file, without root or a mount. Python ignores SIGXFSZ, so it is an OSError.
"""

from __future__ import annotations

import os
import resource
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tailapp import jobs, runtime
from tailapp.app import create_app
from tailapp.archive import Archive
from tailapp.store import key
from tests.conftest import stop_process
from tests.e2e.test_tasks import log_lines

FULL_AT = 256 * 1024  # bytes a file may grow to on the "full" disk


@contextmanager
def file_size_limit(limit: int, pid: int = 0):
    """Writes past `limit` bytes of a file fail (EFBIG) for process `pid` (0: this one) meanwhile."""
    before = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, before[1]))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, before)


def noise(count: int) -> list[str]:
    return [f"{1000 + n} {os.urandom(64).hex()}" for n in range(count)]


def files_of(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_a_full_disk_leaves_no_partial_file_and_a_retry_writes_it_whole(tmp_path):
    archive = Archive(str(tmp_path / "archive"))
    job, elements = {"id": "ef" * 16, "state": "succeeded", "lines": 8_000}, noise(8_000)
    with file_size_limit(FULL_AT), pytest.raises(OSError):
        archive.save(job, elements)
    assert files_of(tmp_path / "archive") == []  # not a partial .log.gz, nor a temporary file
    assert archive.job(job["id"]) is None and archive.read_lines(job["id"], 0, 10) == ([], [])
    archive.save(job, elements)  # the disk has room again
    assert files_of(tmp_path / "archive") == sorted(f"{job['id']}{s}" for s in (".json", ".index.json", ".log.gz"))
    assert archive.read_lines(job["id"], 7_990, 100)[0] == [e.split(" ")[1] for e in elements[7_990:]]


def test_job_archived_on_a_full_disk_keeps_its_keys_and_a_server_retries_it(stack):
    worker = stack.spawn_worker("worker-full-disk", 1, "-P", "solo", "-Q", "fulldisk")
    retrier = None
    try:
        stack.wait(lambda: requests.get(f"{stack.url}/healthz", timeout=2).json()["workers"] >= 2, "the worker")
        celery = create_app({"REDIS_URL": stack.redis_url}, serve=False).extensions["celery"]
        job_id = uuid.uuid4().hex
        with file_size_limit(FULL_AT, worker.pid):  # -P solo: the task, and the archiving, run in this process
            celery.send_task("tailapp.noise", kwargs={"lines": 8_000}, queue="fulldisk", task_id=job_id)
            stack.wait(lambda: requests.get(f"{stack.url}/api/jobs/{job_id}", timeout=2).ok, "the worker to take it")
            assert stack.wait_job(job_id, timeout=60)["state"] == "succeeded"
            stack.wait(lambda: "not archived" in stack.log("worker-full-disk"), "the worker to try to archive it")
            archive_dir = stack.tmp / "data" / "archive" / job_id[:2]
            assert [f for f in files_of(archive_dir) if f.startswith(job_id)] == []  # nothing half-written
            assert stack.redis.ttl(key.job(job_id)) == -1 and stack.redis.ttl(key.lines(job_id)) == -1
            assert stack.redis.sismember(key.unarchived, job_id)
            assert len(log_lines(stack, job_id)) == 8_000  # still served from Redis
        retrier, _ = stack.spawn_server("server-archive-retry", {"TAILAPP_ARCHIVE_RETRY_SECONDS": "1"})
        stack.wait(lambda: not stack.redis.sismember(key.unarchived, job_id), "a server to retry the archive", 60)
    finally:
        stop_process(worker)
        if retrier is not None:
            stop_process(retrier)
    # The folder is shared by every job whose id starts with the same two digits: look at this job's files.
    assert {f"{job_id}{s}" for s in (".index.json", ".json", ".log.gz")} <= set(files_of(archive_dir))
    assert 0 < stack.redis.ttl(key.job(job_id)) <= stack.env.get("TAILAPP_REDIS_TTL_SECONDS", 7 * 24 * 3600)
    assert 0 < stack.redis.ttl(key.lines(job_id))
    store = runtime.get(create_app({"REDIS_URL": stack.redis_url, "DATA_DIR": str(stack.tmp / "data")},
                                   serve=False)).store
    assert store.archive.read_lines(job_id, 0, 8_000)[0] == log_lines(stack, job_id)


def test_unwritable_archive_keeps_the_job_in_redis(stack, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the archive directory should be")
    store = runtime.get(create_app({"REDIS_URL": stack.redis_url, "ARCHIVE_URL": str(blocker / "archive")},
                                   serve=False)).store
    job = jobs.create(store, "demo", {})
    store.append_lines(job["id"], ["1 one"], before=0)
    assert jobs.finish(store, job["id"], "succeeded", 0) is not None
    assert stack.redis.ttl(key.job(job["id"])) == -1 and stack.redis.sismember(key.unarchived, job["id"])
    blocker.unlink()
    assert jobs.retry_archives(store) >= 1  # this job, and any of the shared stack's that was just finishing
    assert store.archive.read_lines(job["id"], 0, 5)[0] == ["one"]
    assert not stack.redis.sismember(key.unarchived, job["id"]) and stack.redis.ttl(key.job(job["id"])) > 0

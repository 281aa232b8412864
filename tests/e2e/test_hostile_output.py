"""What a task may print, through the real worker: lone surrogates, and emoji logs at the byte limit."""

from __future__ import annotations

import uuid

import requests

from tailapp.app import create_app
from tailapp.writer import LINE_OVERHEAD
from tests.conftest import stop_process
from tests.e2e.test_tasks import log_lines

LIMIT = 200_000  # TAILAPP_MAX_LOG_BYTES of the worker below
TAIL = 1_000


def test_lone_surrogate_from_a_file_name_loses_no_line(stack):
    job_id = stack.start_job("odd_names", count=3)
    job = stack.wait_job(job_id)
    assert job["state"] == "succeeded", job
    assert log_lines(stack, job_id) == ["listing", "found caf\ufffd.txt", "found caf\ufffd.txt",
                                        "found caf\ufffd.txt", "done"]


def test_emoji_log_is_truncated_at_the_byte_limit(stack):
    worker = stack.spawn_worker("worker-limits", 1, "-Q", "limits",
                                env={"TAILAPP_MAX_LOG_BYTES": str(LIMIT), "TAILAPP_LOG_TAIL_BYTES": str(TAIL)})
    try:
        celery = create_app({"REDIS_URL": stack.redis_url}, serve=False).extensions["celery"]
        job_id = uuid.uuid4().hex
        # 3,000 lines of 32 characters: 96,000 characters, far below the limit if it counted characters;
        # 107 bytes each in UTF-8, 324,000 bytes with their newlines.
        celery.send_task("tailapp.emoji", kwargs={"lines": 3_000, "width": 25}, queue="limits", task_id=job_id)
        stack.wait(lambda: requests.get(f"{stack.url}/api/jobs/{job_id}", timeout=2).ok, "the worker to take it")
        job = stack.wait_job(job_id, timeout=60)
    finally:
        stop_process(worker)
    assert job["state"] == "succeeded" and job["truncated"] is True, job
    got = log_lines(stack, job_id)
    per_line = 7 + 25 * 4 + LINE_OVERHEAD
    fit = LIMIT // per_line
    assert got[:fit] == [f"{n:06d} " + "\U0001f600" * 25 for n in range(fit)]
    assert "skipped: the log passed its" in got[fit] and got[-1].startswith("002999 ")
    kept = got[fit + 1 :]
    assert len(kept) == TAIL // per_line  # the tail holds the last lines that fit in TAIL bytes

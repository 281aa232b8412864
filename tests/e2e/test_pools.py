"""Workers with a threads or gevent pool: several jobs in one process keep their logs apart and cancel.

The rest of the suite runs prefork workers (one job per process); these pools run jobs side by side in
one interpreter, where capture is per context and cancel cannot use a signal.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tailapp.app import create_app
from tests.conftest import stop_process
from tests.e2e.test_tasks import log_lines


@pytest.mark.parametrize("pool", ["threads", "gevent"])
def test_pool_keeps_concurrent_logs_apart_and_cancels_a_sleeping_job(stack, pool):
    worker = stack.spawn_worker(f"worker-{pool}", 4, "-P", pool, "-Q", pool)
    try:
        stack.wait(lambda: requests.get(f"{stack.url}/healthz", timeout=2).json()["workers"] >= 2,
                   f"the {pool} worker to beat")
        celery = create_app({"REDIS_URL": stack.redis_url}, serve=False).extensions["celery"]

        def send(task: str, **params) -> str:
            job_id = uuid.uuid4().hex
            celery.send_task(f"tailapp.{task}", kwargs=params, queue=pool, task_id=job_id)
            return job_id

        sleeper = send("slow_exit", code=0, lines=600, interval=0.5)
        tagged = {tag: send("tagged", tag=tag, lines=40, interval=0.01) for tag in "abc"}
        stack.wait(lambda: all(requests.get(f"{stack.url}/api/jobs/{j}", timeout=2).ok
                               for j in [sleeper, *tagged.values()]), "the worker to take the jobs")
        for tag, job_id in tagged.items():
            assert stack.wait_job(job_id, timeout=60)["state"] == "succeeded"
            expected = [line for n in range(40) for line in (f"{tag} print {n}", f"WARNING sample: {tag} log {n}")]
            assert log_lines(stack, job_id) == expected
        jobs = [stack.job(j) for j in tagged.values()]
        assert max(j["started_at"] for j in jobs) < min(j["finished_at"] for j in jobs), "the jobs did not overlap"

        assert stack.job(sleeper)["state"] == "running"
        asked = time.monotonic()
        assert requests.post(f"{stack.url}/api/jobs/{sleeper}/cancel", json={}, timeout=5).status_code == 202
        job = stack.wait_job(sleeper, timeout=10)
        took = time.monotonic() - asked
        assert job["state"] == "cancelled", job
        assert took < 5, f"cancel took {took:.1f} s while the task slept in 0.5 s steps"
        assert "Job cancelled." in log_lines(stack, sleeper)[-1]

        after = send("tagged", tag="d", lines=5, interval=0)  # the worker goes on taking jobs
        stack.wait(lambda: requests.get(f"{stack.url}/api/jobs/{after}", timeout=2).ok, "the worker to take it")
        assert stack.wait_job(after, timeout=30)["state"] == "succeeded"
    finally:
        stop_process(worker)

"""Job lifecycle against a real worker: cancel queued and running jobs, restart, lost workers."""

from __future__ import annotations

import os
import signal
import time

import requests

from tests.conftest import SAMPLE_SECRET_KEY, SAMPLE_TOKEN


def post(stack, path: str, **kwargs) -> requests.Response:
    return requests.post(f"{stack.url}{path}", json=kwargs.get("json", {}), timeout=10)


def test_cancel_running_job_stops_within_two_seconds(stack):
    job_id = stack.start_job(lines=1000, interval=5)  # sleeps between lines: cancel must interrupt the sleep
    stack.wait_job(job_id, states={"running"})
    viewer = stack.viewer().connect()
    assert viewer.subscribe(job_id)["ok"]
    viewer.wait_for(1)
    asked = time.monotonic()
    response = post(stack, f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 202
    job = stack.wait_job(job_id, timeout=10)
    took = time.monotonic() - asked
    assert job["state"] == "cancelled" and took < 2.0, (job, took)
    viewer.wait_done(5)
    assert "Job cancelled" in viewer.texts[viewer.last]
    assert viewer.events[-1] == ("job", "cancelled")
    viewer.disconnect()


def test_cancel_queued_job_never_starts(stack):
    busy = [stack.start_job(lines=100, interval=0.05) for _ in range(4)]  # fill the worker's 4 slots
    for job_id in busy:
        stack.wait_job(job_id, states={"running"})
    queued = stack.start_job(lines=5, interval=0)
    assert stack.job(queued)["state"] == "queued"
    response = post(stack, f"/api/jobs/{queued}/cancel")
    assert response.status_code == 202 and response.json()["job"]["state"] == "cancelled"
    for job_id in busy:
        stack.wait_job(job_id)
    time.sleep(0.5)
    job = stack.job(queued)
    assert job["state"] == "cancelled" and job["started_at"] is None and job["lines"] == 0


def test_cancel_finished_job_is_a_conflict(stack):
    job_id = stack.start_job(lines=1, interval=0)
    stack.wait_job(job_id)
    response = post(stack, f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 409 and response.json()["error"] == "job already succeeded"


def test_restart_makes_a_new_job_with_same_params(stack):
    job_id = stack.start_job(lines=3, interval=0)
    stack.wait_job(job_id)
    response = post(stack, f"/api/jobs/{job_id}/restart")
    assert response.status_code == 201
    new = response.json()
    assert new["id"] != job_id
    assert stack.wait_job(new["id"])["params"] == stack.job(job_id)["params"]


def test_task_exception_puts_traceback_in_log_and_summary_on_job(stack):
    job_id = stack.start_job("demo", lines=2, interval=0, fail=True)
    job = stack.wait_job(job_id)
    assert job["state"] == "failed" and job["exit_code"] == 1


def test_killed_worker_marks_job_lost(stack):
    job_id = stack.start_job(lines=10_000, interval=0.05)
    stack.wait_job(job_id, states={"running"})
    viewer = stack.viewer().connect()
    assert viewer.subscribe(job_id)["ok"]
    viewer.wait_for(2)
    killed = time.monotonic()
    os.killpg(stack.worker.pid, signal.SIGKILL)
    stack.worker.wait()
    try:
        job = stack.wait_job(job_id, timeout=30)
        assert job["state"] == "lost", job
        took = time.monotonic() - killed
        assert took < 30
        viewer.wait_done(5)
        assert "Job lost" in viewer.texts[viewer.last]
        assert viewer.seqs == list(range(1, viewer.last + 1))
    finally:
        viewer.disconnect()
        stack.start_worker()
    assert stack.wait_job(stack.start_job(lines=1, interval=0), timeout=60)["state"] == "succeeded"


def test_task_exception_puts_its_traceback_in_the_log(stack):
    job_id = stack.start_job("boom", message="disk on fire")
    job = stack.wait_job(job_id)
    assert job["state"] == "failed" and job["exit_code"] == 1 and job["error"] == "ValueError: disk on fire"
    log = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=5).text
    assert log.startswith("about to fail\nTraceback (most recent call last):")
    assert "ValueError: disk on fire" in log.split("\n")[-2]


def test_secrets_never_reach_redis_or_viewers(stack):
    job_id = stack.start_job("leaky")
    assert stack.wait_job(job_id)["state"] == "succeeded"
    log = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=5).text
    assert log.split("\n")[:3] == ["token=*** done", "WARNING sample: header Authorization: Bearer ***", "key ***"]
    raw = "\n".join(stack.redis.lrange(f"tailapp:lines:{job_id}", 0, -1))
    assert SAMPLE_TOKEN not in raw and SAMPLE_SECRET_KEY not in raw and "tok-" not in raw


def test_time_limit_ends_the_job_failed_saying_so(stack):
    started = time.monotonic()
    job = stack.wait_job(stack.start_job("overtime"), timeout=20)
    assert job["state"] == "failed" and job["exit_code"] == 124 and job["error"] == "time limit exceeded"
    assert time.monotonic() - started < 10
    log = requests.get(f"{stack.url}/api/jobs/{job['id']}/log", timeout=5).text
    assert log.split("\n")[:2] == ["working", "\x1b[31m\u25a0 Job stopped: it ran past its time limit.\x1b[0m"]

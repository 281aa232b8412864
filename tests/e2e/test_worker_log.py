"""What the Celery worker's own log and the job log say about how a job ended."""

from __future__ import annotations

import re

import requests

from tests.e2e.test_tasks import log_lines


def worker_lines(stack, job_id: str) -> list[str]:
    return [line for line in stack.log("worker").splitlines() if job_id in line]


def test_worker_log_does_not_call_a_failed_or_cancelled_job_succeeded(stack):
    failed = stack.start_job("slow_exit", code=3, lines=1, interval=0)
    assert stack.wait_job(failed)["state"] == "failed"
    cancelled = stack.start_job("long_command", seconds=60)
    stack.wait(lambda: "child started" in log_lines(stack, cancelled), "the child to start")
    requests.post(f"{stack.url}/api/jobs/{cancelled}/cancel", json={}, timeout=5)
    assert stack.wait_job(cancelled, timeout=15)["state"] == "cancelled"
    succeeded = stack.start_job(lines=1, interval=0)
    assert stack.wait_job(succeeded)["state"] == "succeeded"
    expected = {failed: "job failed: gave up with 3", cancelled: "job cancelled", succeeded: "succeeded"}
    for job_id, said in expected.items():
        stack.wait(lambda job_id=job_id: any(re.search(r"\] (succeeded|raised)", line)
                                              for line in worker_lines(stack, job_id)), "the worker's log line")
        ended = [line for line in worker_lines(stack, job_id) if re.search(r"\] (succeeded|raised)", line)]
        assert len(ended) == 1 and said in ended[0], ended
        assert "Traceback" not in "\n".join(worker_lines(stack, job_id))
    assert "succeeded" not in "".join(worker_lines(stack, failed) + worker_lines(stack, cancelled))


def test_cancel_inside_run_notes_it_once(stack):
    for _ in range(3):  # the second note came from a race between the pump and the cancel signal
        job_id = stack.start_job("long_command", seconds=60)
        stack.wait(lambda job_id=job_id: "child started" in log_lines(stack, job_id), "the child to start")
        requests.post(f"{stack.url}/api/jobs/{job_id}/cancel", json={}, timeout=5)
        assert stack.wait_job(job_id, timeout=15)["state"] == "cancelled"
        lines = log_lines(stack, job_id)
        assert sum("Job cancelled" in line for line in lines) == 1, lines
        assert "Job cancelled" in lines[-1]

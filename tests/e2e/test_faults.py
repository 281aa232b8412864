"""Injected faults: Redis and server restarts mid-job lose and duplicate nothing."""

from __future__ import annotations

import time

from tailapp.store import key
from tests.e2e.steps import start_and_watch


def step_lines(stack, job_id: str) -> list[str]:
    return [e.partition(" ")[2] for e in stack.redis.lrange(key.lines(job_id), 0, -1)]


def test_redis_restart_mid_job_loses_and_duplicates_nothing(stack):
    n = 4_000
    job_id, viewer = start_and_watch(stack, lines=n, interval=0.002)
    viewer.wait_for(300)
    stack.restart_redis(down_seconds=2.0)
    job = stack.wait_job(job_id, timeout=120)
    viewer.wait_done(60)
    stored = step_lines(stack, job_id)
    assert job["state"] == "succeeded" and job["lines"] == n == len(stored)
    assert [line for line in stored if "step" in line] == [
        line for line in stored if "step" in line and line.split("step ")[1].startswith(tuple("0123456789"))]
    numbers = [int(line.split("step ")[1].split("/")[0]) for line in stored if "step " in line]
    assert numbers == sorted(set(numbers)) and len(numbers) == n - 9  # every step line once, in order
    assert viewer.seqs == list(range(1, n + 1)), (len(viewer.seqs), viewer.resyncs)
    assert viewer.resyncs >= 1  # the relay told it to resubscribe
    viewer.disconnect()


def test_server_restart_mid_job_viewer_resumes_from_its_last_line(stack):
    n = 2_000
    job_id, viewer = start_and_watch(stack, lines=n, interval=0.003)
    viewer.wait_for(200)
    stack.restart_server()
    time.sleep(0.2)
    viewer.reconnect()
    assert viewer.subscribe(job_id)["ok"]
    viewer.wait_done(60)
    assert viewer.seqs == list(range(1, n + 1))
    viewer.disconnect()


def test_redis_outage_longer_than_a_heartbeat_does_not_mark_running_jobs_lost(stack):
    job_id = stack.start_job(lines=150, interval=0.1)
    stack.wait_job(job_id, states={"running"})
    stack.restart_redis(down_seconds=12.0)  # every heartbeat key expires meanwhile
    job = stack.wait_job(job_id, timeout=120)
    assert job["state"] == "succeeded" and job["lines"] == 150, job

"""Delivery through the relay: every viewer gets every line exactly once, in order, then the end."""

from __future__ import annotations

import random
import threading
import time

from tailapp.config import DEFAULTS
from tests.e2e.steps import all_lines_once, assert_exactly, describe, start_and_watch, watch

N = 5_000


def test_twenty_viewers_joining_at_random_moments_get_every_line_once(gapless_stack):
    stack = gapless_stack  # one Redis, then the Redis Cluster
    job_id = stack.start_job(lines=N, interval=0.0005)
    viewers = [stack.viewer() for _ in range(20)]
    errors = []

    def join_later(viewer, delay):
        time.sleep(delay)
        try:
            ack = viewer.connect().subscribe(job_id, after=0)
            assert ack["ok"], ack
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=join_later, args=(v, random.uniform(0, 2.5))) for v in viewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    all_lines_once(viewers, N)
    assert stack.job(job_id)["lines"] == N


def test_viewer_that_reconnects_resumes_without_gap_or_duplicate(gapless_stack):
    stack = gapless_stack  # one Redis, then the Redis Cluster
    job_id, viewer = start_and_watch(stack, lines=3_000, interval=0.001)
    for _ in range(5):
        time.sleep(random.uniform(0.2, 0.5))
        viewer.disconnect()
        time.sleep(random.uniform(0.05, 0.3))  # lines keep coming while it is away
        viewer.reconnect()
        assert viewer.subscribe(job_id)["ok"]  # after = the last seq it holds
    viewer.wait_done(60)
    assert viewer.seqs == list(range(1, 3_001)), describe(viewer.seqs, 3_000)
    viewer.disconnect()


def test_finished_job_replays_in_full_then_reports_its_state(gapless_stack):
    stack = gapless_stack  # one Redis, then the Redis Cluster
    job_id = stack.start_job(lines=12_000, interval=0)
    stack.wait_job(job_id)
    viewer = stack.viewer().connect()
    ack = viewer.subscribe(job_id, after=0)
    assert ack["ok"] and ack["job"]["state"] == "succeeded" and ack["job"]["lines"] == 12_000
    viewer.wait_done(30)
    assert_exactly(viewer, 12_000)
    assert viewer.texts[12_000].endswith("Build succeeded\x1b[0m")
    late = watch(stack, job_id, after=11_990)
    late.wait_done(30)
    assert late.seqs == list(range(11_991, 12_001))
    for v in (viewer, late):
        v.disconnect()


def server_connections(stack) -> int:
    clients = stack.redis.client_list()
    return sum(1 for c in clients if c.get("name") in ("tailapp-server", "tailapp-relay"))


def test_redis_connections_do_not_grow_with_viewers(stack):
    job_id = stack.start_job(lines=400, interval=0.02)
    first = watch(stack, job_id)
    first.wait_for(1)
    with_one = server_connections(stack)
    others = [watch(stack, job_id) for _ in range(49)]
    for viewer in others:
        viewer.wait_for(first.last)
    with_fifty = server_connections(stack)
    assert with_one == with_fifty, (with_one, with_fifty)
    assert with_fifty <= 1 + DEFAULTS["REDIS_POOL_SIZE"]  # one pub/sub connection and the fixed pool
    for viewer in [first, *others]:
        viewer.disconnect()

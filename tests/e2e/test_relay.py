"""Delivery through the relay: every viewer gets every line exactly once, in order, then the end."""

from __future__ import annotations

import random
import threading
import time

from tailapp.config import DEFAULTS

N = 5_000


def assert_exactly(viewer, n: int) -> None:
    """The server sent seqs 1..n once each, in order, and the terminal job event after the last line."""
    assert viewer.seqs == list(range(1, n + 1)), _describe(viewer.seqs, n) + f"; events {viewer.events[:12]}"
    assert viewer.events[-1][0] == "job" and viewer.events[-1][1] in ("succeeded", "failed")
    last_lines = max(i for i, e in enumerate(viewer.events) if e[0] == "lines")
    assert last_lines < len(viewer.events) - 1


def _describe(seqs: list[int], n: int) -> str:
    dupes = len(seqs) - len(set(seqs))
    missing = sorted(set(range(1, n + 1)) - set(seqs))
    return f"{len(seqs)} received, {dupes} duplicates, {len(missing)} missing (first {missing[:5]})"


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
    for viewer in viewers:
        viewer.wait_done(60)
        assert_exactly(viewer, N)
        viewer.disconnect()
    assert stack.job(job_id)["lines"] == N


def test_viewer_that_reconnects_resumes_without_gap_or_duplicate(gapless_stack):
    stack = gapless_stack  # one Redis, then the Redis Cluster
    job_id = stack.start_job(lines=3_000, interval=0.001)
    viewer = stack.viewer().connect()
    assert viewer.subscribe(job_id)["ok"]
    for _ in range(5):
        time.sleep(random.uniform(0.2, 0.5))
        viewer.disconnect()
        time.sleep(random.uniform(0.05, 0.3))  # lines keep coming while it is away
        viewer.reconnect()
        assert viewer.subscribe(job_id)["ok"]  # after = the last seq it holds
    viewer.wait_done(60)
    assert viewer.seqs == list(range(1, 3_001)), _describe(viewer.seqs, 3_000)
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
    late = stack.viewer().connect()
    assert late.subscribe(job_id, after=11_990)["ok"]
    late.wait_done(30)
    assert late.seqs == list(range(11_991, 12_001))
    for v in (viewer, late):
        v.disconnect()


def server_connections(stack) -> int:
    clients = stack.redis.client_list()
    return sum(1 for c in clients if c.get("name") in ("tailapp-server", "tailapp-relay"))


def test_redis_connections_do_not_grow_with_viewers(stack):
    job_id = stack.start_job(lines=400, interval=0.02)
    first = stack.viewer().connect()
    assert first.subscribe(job_id)["ok"]
    first.wait_for(1)
    with_one = server_connections(stack)
    others = [stack.viewer().connect() for _ in range(49)]
    for viewer in others:
        assert viewer.subscribe(job_id, after=0)["ok"]
    for viewer in others:
        viewer.wait_for(first.last)
    with_fifty = server_connections(stack)
    assert with_one == with_fifty, (with_one, with_fifty)
    assert with_fifty <= 1 + DEFAULTS["REDIS_POOL_SIZE"]  # one pub/sub connection and the fixed pool
    for viewer in [first, *others]:
        viewer.disconnect()

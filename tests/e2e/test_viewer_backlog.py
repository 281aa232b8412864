"""A big log opens from its backlog over HTTP (backlog.py, static/js/backlog.js), then follows the live feed
exactly once: real Redis, server and Chromium, with lines still being written while the page loads."""

from __future__ import annotations

import threading
import time

import redis
import requests

from bench.log_stream import fill
from tailapp.store import Store, encode_line
from tests.e2e.test_viewer import browser, open_job, page  # fixtures and helpers

__all__ = ["browser", "page"]

OPENING = 50_000


def live_writer(store: Store, job_id: str, after: int, stop: threading.Event, sent: list[int]) -> None:
    """Append numbered lines ("live <seq>") in small batches until stopped; sent[0] is the last seq."""
    seq = after
    while not stop.is_set():
        ms = int(time.time() * 1000)
        batch = [encode_line(ms, f"live {seq + k + 1}") for k in range(50)]
        store.append_lines(job_id, batch, before=seq)
        seq += len(batch)
        sent[0] = seq
        time.sleep(0.01)


def test_backlog_endpoint_sends_stored_lines_after_a_seq(stack):
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    job_id = fill(store, 3000)
    r = requests.get(f"{stack.url}/api/jobs/{job_id}/backlog", params={"after": 2990}, timeout=10)
    assert r.status_code == 200 and r.headers["X-Next-Seq"] == "3000"
    lines = r.text.split("\n")
    assert lines[-1] == "" and len(lines) == 11
    ms, _, text = lines[0].partition(" ")
    assert ms.isdigit() and text.startswith("[0002991] compiling")
    assert requests.get(f"{stack.url}/api/jobs/{job_id}/backlog", params={"after": -1}, timeout=10).status_code == 400
    assert requests.get(f"{stack.url}/api/jobs/nope/backlog", timeout=10).status_code == 404


def test_big_log_opens_at_its_end_then_follows_live_lines_exactly_once(stack, page):
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    job_id = fill(store, OPENING, alive_seconds=600)
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url))
    stop, sent = threading.Event(), [OPENING]
    writer = threading.Thread(target=live_writer, args=(store, job_id, OPENING, stop, sent), daemon=True)
    writer.start()
    try:
        time.sleep(0.3)  # the job is writing before, while and after the page loads its backlog
        open_job(page, stack, job_id)
        page.wait_for_function("tailapp.bulk !== null", timeout=30_000)
        time.sleep(1.0)
    finally:
        stop.set()
        writer.join()
    total = sent[0]
    page.wait_for_function(f"tailapp.store.length >= {total} && !tailapp.store.pending", timeout=30_000)
    bulk = page.evaluate("tailapp.bulk")
    assert any(f"/api/jobs/{job_id}/backlog" in url for url in asked)
    assert OPENING < bulk < total  # the backlog had lines written after the job began; the rest came live
    texts = page.evaluate("""() => { const s = tailapp.store; const out = [];
        for (let i = 0; i < s.length; i++) out.push(s.plain(i)); return out; }""")
    assert len(texts) == total  # no duplicate row
    assert texts[OPENING - 1].startswith(f"[{OPENING:07d}] compiling")
    assert texts[OPENING:] == [f"live {n}" for n in range(OPENING + 1, total + 1)]  # no gap, in order
    page.wait_for_selector(f'.log .row[data-i="{total - 1}"]')  # opened, and stays, at its end
    assert page.evaluate("tailapp.view.follow")


def test_small_log_still_opens_over_the_live_feed(stack, page):
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    job_id = fill(store, 100, alive_seconds=600)
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url))
    open_job(page, stack, job_id)
    page.wait_for_function("tailapp.store.length >= 100")
    assert not any(f"/api/jobs/{job_id}/backlog" in url for url in asked)

"""A big log opens from its backlog over HTTP (backlog.py, static/js/backlog.js), then follows the live feed
exactly once: real Redis, server and Chromium, with lines still being written while the page loads."""

from __future__ import annotations

import threading
import time

import redis
import requests
from playwright.sync_api import expect

from bench.log_stream import fill
from tailapp import backlog, jobs
from tailapp.store import Store, encode_line
from tests.e2e.test_viewer import browser, open_job, page  # fixtures and helpers

__all__ = ["browser", "page"]

OPENING = 50_000
PREVIEWED = 25_000  # a log that opens with its last lines shown first (backlog.TAIL_FIRST_LINES = 20,000)


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
    end = requests.get(f"{stack.url}/api/jobs/{job_id}/backlog", params={"tail": 5}, timeout=10)
    assert end.headers["X-First-Seq"] == "2995" and end.headers["X-Next-Seq"] == "3000"
    assert [t.partition(" ")[2][:9] for t in end.text.split("\n")[:-1]] == [f"[{n:07d}]" for n in range(2996, 3001)]
    too_many = requests.get(f"{stack.url}/api/jobs/{job_id}/backlog", params={"tail": 10_001}, timeout=10)
    assert too_many.status_code == 400 and "tail" in too_many.json()["error"]
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


class HeldBacklog:
    """Holds the page's full backlog request (`?after=0`) until released: the whole log cannot load before the
    test has looked at the preview of its last lines."""

    def __init__(self, page):
        self.routes: list = []
        page.route("**/backlog?after=0", lambda route: self.routes.append(route))

    def release(self) -> None:
        assert len(self.routes) == 1, "the page asked for the whole backlog once"
        self.routes.pop().continue_()


def open_previewed(stack, page) -> tuple[str, HeldBacklog]:
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    job_id = fill(store, PREVIEWED, alive_seconds=600)
    held, asked = HeldBacklog(page), []
    page.on("request", lambda req: asked.append(req.url))
    open_job(page, stack, job_id)
    page.wait_for_selector(f'.log-tail .trow[data-t="{PREVIEWED - 1}"]', timeout=15_000)
    tails = [url for url in asked if "/backlog?tail=" in url]
    assert len(tails) == 1, tails  # asked for once, by the page's preload link, and that answer used
    return job_id, held


def test_a_big_log_shows_its_last_lines_while_the_whole_log_loads(stack, page):
    _, held = open_previewed(stack, page)
    last = page.locator(f'.log-tail .trow[data-t="{PREVIEWED - 1}"]')
    expect(last).to_be_in_viewport()  # opened at its end
    assert last.locator(".num").inner_text() == f"{PREVIEWED}"  # numbered as in the log
    assert last.locator(".txt").inner_text().startswith(f"[{PREVIEWED:07d}] compiling")
    rows = page.locator(".log-tail .trow")
    assert rows.count() == 1_000 and rows.first.get_attribute("data-t") == str(PREVIEWED - 1_000)
    assert last.locator(".txt span").last.get_attribute("class") == "ansi-green-fg"  # coloured as in the view
    note = page.locator(".log-tail-note").inner_text()
    assert "last 1,000 lines" in note and "25,000 lines" in note
    assert page.locator(".log .row").count() == 0  # the full view has nothing yet
    held.release()
    page.wait_for_selector(".log-tail", state="detached", timeout=30_000)
    expect(page.locator(f'.log .row[data-i="{PREVIEWED - 1}"]')).to_be_in_viewport()
    assert page.evaluate("tailapp.view.follow") and page.evaluate("tailapp.store.length") == PREVIEWED


def test_a_reader_who_scrolled_the_preview_finds_the_same_line_in_the_full_view(stack, page):
    _, held = open_previewed(stack, page)
    top = PREVIEWED - 700  # line 24,300 (index 24,299) just under the preview's note
    page.evaluate(f"""() => {{ const tail = document.querySelector('.log-tail');
        const row = tail.querySelector('.trow[data-t="{top - 1}"]');
        tail.scrollTop = row.offsetTop - tail.querySelector('.log-tail-note').offsetHeight; }}""")
    page.wait_for_timeout(100)
    held.release()
    page.wait_for_selector(".log-tail", state="detached", timeout=30_000)
    assert not page.evaluate("tailapp.view.follow")
    at_top = page.evaluate("tailapp.sections.lineAt(tailapp.view.layout.rowAt(tailapp.view.scroller.scrollTop))")
    assert at_top == top - 1
    expect(page.locator(f'.log .row[data-i="{top - 1}"]')).to_be_in_viewport()


def test_a_line_number_clicked_in_the_preview_opens_the_full_view_at_that_line(stack, page):
    _, held = open_previewed(stack, page)
    line = PREVIEWED - 500
    page.click(f'.log-tail .trow[data-t="{line - 1}"] a.num')
    page.wait_for_selector(".log-tail", state="detached", timeout=5_000)  # at once, before the whole log loaded
    assert page.evaluate("location.hash") == f"#L{line}" and page.locator(".log .row").count() == 0
    held.release()
    target = page.locator(f'.log .row[data-i="{line - 1}"]')
    expect(target).to_be_in_viewport(timeout=30_000)
    expect(target).to_have_class("row hl")


def test_only_a_big_log_that_did_not_fail_asks_for_its_last_lines_first(stack):
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    big, small = fill(store, backlog.TAIL_FIRST_LINES), fill(store, backlog.TAIL_FIRST_LINES - 1)
    preload = f'href="/api/jobs/{big}/backlog?tail=1000"'
    assert preload in requests.get(f"{stack.url}/jobs/{big}", timeout=10).text
    assert "log-tail-preload" not in requests.get(f"{stack.url}/jobs/{small}", timeout=10).text
    jobs.finish(store, big, "failed", 1)  # a failed job's page opens at its first error instead
    assert "log-tail-preload" not in requests.get(f"{stack.url}/jobs/{big}", timeout=10).text

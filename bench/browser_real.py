"""Browser benchmark through the real stack: Redis, a Celery worker and a server run a 100,000-line demo job,
then headless Chromium opens its page; prints the time until the last line is on screen, three times.

    .venv/bin/python bench/browser_real.py
    .venv/bin/python bench/browser_real.py --big [lines]   # 1,000,000 lines: first rows, end, heap, search, live

`--big` fills a running job's log straight into Redis (build-like lines of ~90 bytes), opens its page three
times (first rows on screen; last row on screen, in the preview of the last lines a big log shows while it
loads or in the full view; last row in the full view; every line ingested; JS heap; a search over all rows
timed in the page; 200 jumps across the log, each checked for rows missing once painted), then appends
5,000 lines/s for 10 s into the open 1M-line page and reports its long tasks.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

import redis
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from tailapp.store import Store, encode_line
from tests.conftest import Stack

LINES = 100_000
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def open_once(browser, url: str) -> tuple[float, float]:
    """Seconds from navigation until the last row is rendered, and the JS heap in MiB then."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    started = time.monotonic()
    page.goto(url)
    page.wait_for_selector(f'.log .row[data-i="{LINES - 1}"]', timeout=30_000)
    shown = time.monotonic() - started
    heap = page.evaluate("() => performance.memory.usedJSHeapSize / 1048576")
    context.close()
    return shown, heap


def main() -> None:
    stack = Stack(pathlib.Path(tempfile.mkdtemp()))
    try:
        job_id = stack.start_job(lines=LINES, interval=0)
        stack.wait_job(job_id, timeout=120)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for run in range(1, 4):
                shown, heap = open_once(browser, f"{stack.url}/jobs/{job_id}")
                print(f"run {run}: last of {LINES:,} lines on screen {shown:.2f} s after navigation; "
                      f"JS heap {heap:.0f} MiB")
            browser.close()
    finally:
        stack.close()


# -- 1,000,000 lines (issue 16): `bench/browser_real.py --big [lines]` ---------------------------------

LONGTASKS = """window.__long = []; new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__long.push(e.duration); }).observe({ entryTypes: ['longtask'] });"""


# A search over every row, timed in the page: [ms until done, matches, longest task meanwhile in ms].
SEARCH = """async (q) => { window.__long = []; const t = performance.now(); await tailapp.search.run(q);
    const took = performance.now() - t; await new Promise((r) => setTimeout(r, 100));
    return [took, tailapp.search.lines.length, Math.max(0, ...window.__long)]; }"""


# Scrolling the whole log: `jumps` jumps to places spread over it, each checked after the frame that follows
# it was painted: [frames with part of the pane blank (no row drawn where a row belongs), longest frame ms].
SCROLL = """async (jumps) => { const v = tailapp.view, sc = v.scroller; let blank = 0, longest = 0;
    const painted = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    for (let k = 0; k < jumps; k++) {
      const t = performance.now();
      sc.scrollTop = ((k * 7919) % jumps) / jumps * (sc.scrollHeight - sc.clientHeight);
      await painted();
      longest = Math.max(longest, performance.now() - t);
      const [top, bottom] = [sc.scrollTop, sc.scrollTop + sc.clientHeight];
      const first = v.layout.rowAt(top), last = Math.min(v.sections.rowCount - 1, v.layout.rowAt(bottom - 1));
      for (let r = first; r <= last; r++) if (!v.els.has(v.sections.lineAt(r))) { blank++; break; }
    }
    return [blank, longest]; }"""


# Seconds from navigation until the bulk backlog's last byte had arrived (0 when it came over Socket.IO).
RECEIVED = """(performance.getEntriesByType('resource').find((e) => e.name.includes('/backlog?after='))?.responseEnd
    ?? 0) / 1000"""


def open_big(browser, url: str, lines: int) -> dict:
    """First row and last row on screen after navigation, heap once loaded, then a search over all rows."""
    # The probes (wait_for_function) poll by evaluating strings, which the page's CSP forbids.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.add_init_script(LONGTASKS)
    started = time.monotonic()
    page.goto(url)
    page.wait_for_selector(".log .row, .log .trow", timeout=60_000)
    first = time.monotonic() - started
    # The end on screen: in the preview of the last lines (tail.js) or in the full view, whichever comes first.
    shown = page.wait_for_selector(f'.log .row[data-i="{lines - 1}"], .log .trow[data-t="{lines - 1}"]',
                                   timeout=120_000)
    end = time.monotonic() - started
    preview = shown.get_attribute("data-t") is not None
    page.wait_for_selector(f'.log .row[data-i="{lines - 1}"]', timeout=120_000)
    full_end = time.monotonic() - started
    page.wait_for_function(f"tailapp.store.length >= {lines} && !tailapp.store.pending", timeout=120_000)
    loaded = time.monotonic() - started
    load_long = page.evaluate("Math.max(0, ...window.__long)")
    received = page.evaluate(RECEIVED)
    heap = page.evaluate("() => performance.memory.usedJSHeapSize / 1048576")
    heap_gc = page.evaluate("() => { gc(); return performance.memory.usedJSHeapSize / 1048576; }")
    search, none = (page.evaluate(SEARCH, q) for q in ("module_500.c", "no such text"))
    scroll = page.evaluate(SCROLL, 200)
    page.evaluate("tailapp.view.followEnd()")
    return {"page": page, "context": context, "first": first, "end": end, "preview": preview,
            "full_end": full_end, "loaded": loaded, "heap": heap,
            "search": search, "none": none, "scroll": scroll, "load_long": load_long,
            "received": received, "heap_gc": heap_gc}


def live_into(store, job_id: str, page, after: int, rate: int, seconds: float) -> dict:
    """Append `rate` lines/s for `seconds` to a running job whose page is open; the page's long tasks then."""
    page.evaluate("window.__long = []")
    step, sent, began = 0.1, after, time.monotonic()
    while time.monotonic() - began < seconds:
        tick = time.monotonic()
        batch = [encode_line(int(time.time() * 1000), f"live {sent + k + 1} compiling module_{k % 97}.c ok")
                 for k in range(int(rate * step))]
        store.append_lines(job_id, batch, before=sent)
        sent += len(batch)
        time.sleep(max(0.0, step - (time.monotonic() - tick)))
    page.wait_for_function(f"tailapp.store.length >= {sent} && !tailapp.store.pending", timeout=60_000)
    behind = time.monotonic() - began - seconds
    longest = page.evaluate("Math.max(0, ...window.__long)")
    count = page.evaluate("window.__long.length")
    return {"sent": sent - after, "longest": longest, "long_tasks": count, "caught_up": behind}


def big(lines: int) -> None:
    from bench.log_stream import fill
    from bench.stack import load_average

    stack = Stack(pathlib.Path(tempfile.mkdtemp()))
    try:
        store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
        job_id = fill(store, lines, alive_seconds=3600)  # left running, so the page stays live
        print(f"{lines:,} lines stored (~{lines * 90 / 1e6:.0f} MB); load {load_average()}", flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=[*ARGS, "--enable-precise-memory-info", "--js-flags=--expose-gc"])
            for run in range(1, 4):
                r = open_big(browser, f"{stack.url}/jobs/{job_id}", lines)
                where = "in the preview of the last lines" if r["preview"] else "in the full view"
                print(f"run {run}: first rows {r['first']:.2f} s, last row {r['end']:.2f} s ({where}), in the full "
                      f"view {r['full_end']:.2f} s, all ingested {r['loaded']:.2f} s after navigation (whole backlog "
                      f"received {r['received']:.2f} s); longest task "
                      f"while loading {r['load_long']:.0f} ms; JS heap {r['heap']:.0f} MiB ({r['heap_gc']:.0f} MiB "
                      f"after a full GC); search 'module_500.c' {r['search'][0]:.0f} ms "
                      f"({r['search'][1]:,} matches, longest task meanwhile {r['search'][2]:.0f} ms), no match "
                      f"{r['none'][0]:.0f} ms (longest task {r['none'][2]:.0f} ms); 200 jumps across the log: "
                      f"{r['scroll'][0]} frames with rows missing, longest jump to painted {r['scroll'][1]:.0f} ms; "
                      f"load {load_average()}",
                      flush=True)
                if run == 3:
                    live = live_into(store, job_id, r["page"], lines, 5_000, 10)
                    print(f"live: {live['sent']:,} lines at 5,000/s for 10 s into the {lines:,}-line page: longest "
                          f"task {live['longest']:.0f} ms, {live['long_tasks']} tasks over 50 ms, all shown "
                          f"{live['caught_up']:.2f} s after the last was sent; load {load_average()}", flush=True)
                r["context"].close()
            browser.close()
    finally:
        stack.close()


if __name__ == "__main__":
    if "--big" in sys.argv:
        rest = [a for a in sys.argv[1:] if a != "--big"]
        big(int(rest[0]) if rest else 1_000_000)
    else:
        main()

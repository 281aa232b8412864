"""Browser benchmark of the log viewer on the static harness (no server needed).

Prints: time until the end of a 100k-line ANSI log is shown, search time over it, JS heap used,
DOM size, the longest task while scrolling, and the longest task during a live feed at 2,000 lines/s.

    /work/main/.venv/bin/python bench/browser_bench.py [--lines 100000] [--rate 2000] [--seconds 10]
"""
import argparse
import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
LONGTASK_OBSERVER = """
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({start: e.startTime, duration: e.duration});
}).observe({type: 'longtask', buffered: true});
"""
SCROLL_TEST = """async () => {
  const sc = document.querySelector('.log-scroll');
  const gaps = [];
  let last = performance.now();
  for (let k = 0; k < 240; k++) {
    sc.scrollTop = (k % 2 ? sc.scrollHeight * (k / 240) : sc.scrollTop - 3000);
    await new Promise(requestAnimationFrame);
    const now = performance.now(); gaps.push(now - last); last = now;
  }
  return Math.max(...gaps);
}"""


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def harness_server():
    """bench/serve.py on a free port, stopped on exit."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve.py"), str(port)])
    try:
        for _ in range(50):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(5)


def longest(tasks: list, since: float = 0.0, until: float = float("inf")) -> float:
    """Longest long task (ms) that started in [since, until), 0 if none."""
    return max((t["duration"] for t in tasks if since <= t["start"] < until), default=0.0)


def run(lines: int, rate: int, seconds: int) -> None:
    """Open the harness, wait for each phase, print the figures."""
    with harness_server() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script(LONGTASK_OBSERVER)
        page.goto(f"{base}/bench/viewer_harness.html?lines={lines}&live={rate}&seconds={seconds}")
        page.wait_for_function("window.__harness && window.__harness.done", timeout=60000)
        h = page.evaluate("({end: __harness.endShownAt, t0: __harness.t0, liveStart: __harness.liveStartedAt})")
        print(f"end of {lines:,}-line log shown after: {h['end']:.0f} ms (from first batch delivered; "
              f"{h['t0'] + h['end']:.0f} ms from navigation start)")
        page.wait_for_function("__harness.liveDone", timeout=(seconds + 30) * 1000)
        live = page.evaluate("({n: __harness.liveLines, tasks: __longtasks, frame: __harness.frameMax, "
                             "liveFrame: __harness.liveFrameMax})")
        backlog_task = longest(live["tasks"], h["t0"], h["liveStart"])
        live_task = longest(live["tasks"], h["liveStart"])
        print(f"live feed: {live['n']:,} lines in {seconds} s at {rate:,} lines/s target; "
              f"longest task while the backlog loads (after generation): {backlog_task:.0f} ms, "
              f"during live: {live_task:.0f} ms (0 = no task over 50 ms)")
        print(f"longest viewer frame (its own JS): {live['frame']:.0f} ms while loading, "
              f"{live['liveFrame']:.0f} ms during live")
        page.wait_for_timeout(500)
        total = page.evaluate("__harness.store.length")
        for query in ("needlexyz", "lorem", "no such text"):
            took, count = page.evaluate("""async (q) => { const t = performance.now(); await __harness.search.run(q);
                return [performance.now() - t, __harness.search.lines.length]; }""", query)
            print(f"search {query!r} over {total:,} lines: {took:.0f} ms, {count:,} matches")
        page.evaluate("__harness.search.run('')")
        mark = page.evaluate("performance.now()")
        gap = page.evaluate(SCROLL_TEST)
        tasks = page.evaluate("__longtasks")
        print(f"scroll test (240 jumps across the log): longest frame {gap:.0f} ms, "
              f"longest task {longest(tasks, mark):.0f} ms")
        cdp = page.context.new_cdp_session(page)
        cdp.send("HeapProfiler.collectGarbage")
        heap = cdp.send("Runtime.getHeapUsage")
        nodes = page.evaluate("document.getElementsByTagName('*').length")
        print(f"JS heap used after GC: {heap['usedSize'] / 2**20:.1f} MiB (total {heap['totalSize'] / 2**20:.1f} MiB); "
              f"DOM elements: {nodes:,} for {total:,} lines")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    run(args.lines, args.rate, args.seconds)


if __name__ == "__main__":
    main()

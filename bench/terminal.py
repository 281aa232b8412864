"""Terminal rendering benchmarks; each figure says which layer it measures.

    .venv/bin/python -m bench.terminal [--lines 100000] [--rate 1000] [--seconds 10]

1. worker: LogWriter into a real Redis, a heavy-cursor log vs plain text of the same size (the model does
   not run in the worker, so the two should cost the same).
2. server/CLI: the Python model (tailapp/terminal.py) in lines per second, plain vs heavy-cursor lines.
3. browser, real stack: a job prints a 100k-line heavy-cursor log; Chromium opens its page; seconds from
   navigation until every line is rendered into rows and the last row is on screen (budget 2 s).
4. browser, real stack: a job redraws a 3-row progress area 1,000 times a second for 10 s while Chromium
   follows it; longest task (budget 50 ms), rows at the end, redraws that reached the page.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time
import uuid

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from bench.browser_bench import CHROMIUM_ARGS, LONGTASK_OBSERVER, longest
from tailapp.embedded import EmbeddedRedis
from tailapp.store import Store, connect
from tailapp.terminal import render
from tailapp.writer import LogWriter
from tests.conftest import Stack
from tests.stress import stress_log


def plain_like(log: str) -> str:
    """Lines of plain text with the same lengths as `log`'s."""
    return "\n".join("x" * len(line) for line in log.split("\n"))


def time_writer(store: Store, text: str) -> float:
    """Seconds for a LogWriter to take `text` in 4 KiB writes and have it all in Redis."""
    writer = LogWriter(store, uuid.uuid4().hex)
    started = time.perf_counter()
    for k in range(0, len(text), 4096):
        writer.write(text[k : k + 4096])
    writer.close()
    return time.perf_counter() - started


def bench_worker(lines: int) -> None:
    heavy = stress_log(lines, seed=3)
    plain = plain_like(heavy)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(pathlib.Path(tmp) / "redis").start()
        try:
            store = Store(connect(server.url))
            for name, text in (("plain", plain), ("heavy-cursor", heavy), ("plain", plain), ("heavy-cursor", heavy)):
                took = time_writer(store, text)
                print(f"worker  LogWriter -> Redis, {lines:,} {name} lines ({len(text) / 2**20:.1f} MiB): "
                      f"{took:.2f} s, {lines / took:,.0f} lines/s")
        finally:
            server.stop()


def bench_model(lines: int) -> None:
    heavy = stress_log(lines, seed=3).split("\n")[:-1]
    plain = plain_like("\n".join(heavy)).split("\n")
    for name, log in (("plain", plain), ("heavy-cursor", heavy)):
        started = time.perf_counter()
        rows = render(log)
        took = time.perf_counter() - started
        print(f"python  model, {len(log):,} {name} lines -> {len(rows):,} rows: {took:.2f} s, "
              f"{len(log) / took:,.0f} lines/s")


def open_log(browser, url: str, raw_lines: int) -> tuple[float, int, float]:
    """Seconds from navigation until every raw line is rendered and the last row is on screen; rows; longest task."""
    page = browser.new_page()
    page.add_init_script(LONGTASK_OBSERVER)
    started = time.monotonic()
    page.goto(url)
    page.wait_for_function(f"window.tailapp && tailapp.store.rawCount === {raw_lines} && !tailapp.store.pending"
                           " && tailapp.view.els.has(tailapp.store.length - 1)", timeout=60_000, polling="raf")
    took = time.monotonic() - started
    rows, tasks = page.evaluate("[tailapp.store.length, __longtasks]")
    page.close()
    return took, rows, longest(tasks)


def open_heavy_log(stack: Stack, browser, lines: int) -> None:
    """The heavy-cursor log, each run next to a plain log of as many lines (the demo task) as the baseline."""
    jobs = {"heavy-cursor": stack.start_job("stress", lines=lines, seed=3),
            "plain (demo)": stack.start_job("demo", lines=lines, interval=0)}
    raw = {name: stack.wait_job(job_id, timeout=180)["lines"] for name, job_id in jobs.items()}
    for run in range(1, 4):
        for name, job_id in jobs.items():
            took, rows, task = open_log(browser, f"{stack.url}/jobs/{job_id}", raw[name])
            print(f"browser {raw[name]:,} {name} lines -> {rows:,} rows, last row on screen {took:.2f} s after "
                  f"navigation (run {run}); longest task {task:.0f} ms")


def follow_redraws(stack: Stack, browser, rate: int, seconds: float) -> None:
    page = browser.new_page()
    page.add_init_script(LONGTASK_OBSERVER)
    job_id = stack.start_job("redraw_area", rate=rate, seconds=seconds, rows=3)
    page.goto(f"{stack.url}/jobs/{job_id}")
    page.wait_for_function("window.tailapp && tailapp.feed")
    page.evaluate("""() => {
      window.__changes = 0; window.__frameMax = 0;
      tailapp.store.onChange((rows) => { __changes += rows.length; });
      const frame = tailapp.view.frame.bind(tailapp.view);  // the viewer's own work per frame
      tailapp.view.frame = () => {
        const t = performance.now();
        frame();
        __frameMax = Math.max(__frameMax, performance.now() - t);
      };
    }""")
    mark = page.evaluate("performance.now()")
    job = stack.wait_job(job_id, timeout=seconds + 60)
    page.wait_for_function(f"tailapp.store.rawCount === {job['lines']} && !tailapp.store.pending", timeout=30_000)
    rows, changes, tasks, frame = page.evaluate("[tailapp.store.length, __changes, __longtasks, __frameMax]")
    over = [t for t in tasks if t["start"] >= mark]
    print(f"browser {rate:,} redraws/s of a 3-row area for {seconds:g} s ({job['lines']:,} raw lines): "
          f"{rows} rows at the end, {changes:,} row redraws reached the page; while following: "
          f"{len(over)} tasks over 50 ms, longest {longest(tasks, mark):.0f} ms; longest viewer frame {frame:.1f} ms")
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    bench_worker(args.lines)
    bench_model(args.lines)
    stack = Stack(pathlib.Path(tempfile.mkdtemp()))
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            # The probes evaluate strings, which the app's CSP forbids.
            browser = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
            open_heavy_log(stack, browser, args.lines)
            follow_redraws(stack, browser, args.rate, args.seconds)
            chromium.close()
    finally:
        stack.close()
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()

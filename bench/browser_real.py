"""Browser benchmark through the real stack: Redis, a Celery worker and a server run a 100,000-line demo job,
then headless Chromium opens its page; prints the time until the last line is on screen, three times.

    .venv/bin/python bench/browser_real.py
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
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


if __name__ == "__main__":
    main()

"""The screenshots in docs/VIEWER.md, taken on a real stack:  .venv/bin/python -m tests.screenshots"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT, Stack, stop_process
from tests.e2e.test_viewer import CHROMIUM, CHROMIUM_ARGS

OUT = ROOT / "docs" / "img"
TOKEN = "screenshot-token-8c1d5e"


def jobs(stack: Stack) -> dict:
    """A failed, a cancelled, a compared and a running job."""
    failed = stack.start_job("sectioned", fail=True)
    stack.wait_job(failed)
    good = stack.start_job("report", result="ok")
    stack.wait_job(good)
    changed = stack.start_job("report", result="2 tests failed", fail=True)
    stack.wait_job(changed)
    cancelled = stack.start_job("long_command", seconds=60)
    stack.wait_job(cancelled, states={"running"})
    time.sleep(1)
    requests.post(f"{stack.url}/api/jobs/{cancelled}/cancel", json={}, timeout=10)
    stack.wait_job(cancelled)
    running = stack.start_job("demo", lines=400, interval=0.05)
    return {"failed": failed, "compare": changed, "cancelled": cancelled, "running": running}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    stack = Stack(Path(tempfile.mkdtemp()))
    login, login_url = stack.spawn_server("server-login", {"TAILAPP_AUTH_TOKEN": TOKEN})
    try:
        made = jobs(stack)
        shots = [("job-running", f"/jobs/{made['running']}", 1000, "light", 3.0),
                 ("job-failed", f"/jobs/{made['failed']}", 1000, "light", 1.5),
                 ("job-cancelled", f"/jobs/{made['cancelled']}", 1000, "dark", 1.5),
                 ("job-list", "/", 1000, "light", 1.0),
                 ("compare", f"/jobs/{made['compare']}/compare", 1000, "light", 1.0),
                 ("search", "/search?q=result&task=report", 1000, "dark", 1.0),
                 ("job-360", f"/jobs/{made['failed']}", 360, "light", 1.5),
                 ("list-360", "/", 360, "dark", 1.0)]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, path, width, scheme, settle in shots:
                page = browser.new_page(viewport={"width": width, "height": 620 if width > 360 else 700},
                                        color_scheme=scheme)
                page.goto(stack.url + path)
                time.sleep(settle)
                if name == "job-360":
                    page.click("#tools-btn")
                page.screenshot(path=str(OUT / f"{name}.png"))
                page.close()
            page = browser.new_page(viewport={"width": 1000, "height": 480})
            page.goto(f"{login_url}/login")
            page.screenshot(path=str(OUT / "login.png"))
            browser.close()
    finally:
        stop_process(login)
        stack.close()
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT), png.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()

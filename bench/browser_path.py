"""The browser as the stock client: headless Chromium (Playwright, /usr/bin/chromium) on the real job page
while a real Celery task prints ~1,000 lines/s.

An init script wraps the page's WebSocket only to observe: every `lines` frame is timed when it reaches the
page (before the viewer handles it) against the stamp the task printed at the start of each line. The run
ends when the last line is rendered on screen.
"""

from __future__ import annotations

import time

import psutil
from playwright.sync_api import sync_playwright

from bench import userpath as u
from bench.stack import load_average

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PROBE = """
window.__probe = { acked: false, received: 0, messages: 0, latencies: [], last_at: 0 };
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (event) => {
      const probe = window.__probe;
      const at = (performance.timeOrigin + performance.now()) / 1000;
      if (typeof event.data !== 'string') return;
      if (event.data.startsWith('43/tail,')) probe.acked = true;
      if (!event.data.startsWith('42/tail,["lines"')) return;
      const msg = JSON.parse(event.data.slice('42/tail,'.length))[1];
      probe.messages += 1;
      probe.received += msg.lines.length;
      probe.last_at = at;
      for (const text of msg.lines) probe.latencies.push(at - parseFloat(text.slice(0, text.indexOf(' '))));
    });
  }
};
"""


def browser_latency(pool: str, count: int = 5000, rate: float = 1000) -> dict:
    with u.user_stack(pool, 2) as (stack, url, worker), sync_playwright() as pw:
        gate = stack.tmp / "gate"
        job = u.start_job(url, lines=count, rate=rate, gate=str(gate))
        u.wait_running(url, [job])
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script(PROBE)
        page.goto(f"{url}/jobs/{job}")
        _wait_acked(page)
        meter, chromium = u.CpuMeter(stack, worker).start(), _chromium_cpu()
        released = time.time()
        gate.touch()
        page.wait_for_selector(f'.log .row[data-i="{count - 1}"]', timeout=60_000)
        on_screen = time.time()
        probe = page.evaluate("window.__probe")
        cpu = {**meter.stop(), "chromium": round(_chromium_cpu() - chromium, 2)}
        browser.close()
    lat = probe["latencies"]
    return {"p50 ms": u._pct(lat, 50), "p99 ms": u._pct(lat, 99), "max ms": u._pct(lat, 100),
            "received": probe["received"], "expected": count, "messages": probe["messages"],
            "last line on screen s": round(on_screen - released, 3),
            "last frame to on screen ms": round((on_screen - probe["last_at"]) * 1000, 1),
            "cpu s": cpu, "server ms/message": cpu["server"] / max(probe["messages"], 1) * 1000, "load": load_average()}


def _wait_acked(page, timeout: float = 60) -> None:
    """Until the subscribe is acknowledged. Polled with evaluate(): wait_for_function() would build the
    predicate with eval, which the page's CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate("() => window.__probe.acked"):
        if time.monotonic() > deadline:
            raise TimeoutError("the job page did not subscribe")
        time.sleep(0.02)


def _chromium_cpu() -> float:
    """CPU seconds of the Chromium processes this bench started (children of Playwright's driver)."""
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name():
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total

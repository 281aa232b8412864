"""Hostile conditions, for real: slow links, big frames, clients that never read, floods of connections.

Viewers reach the server through tests.hostile.ThrottledProxy (bandwidth + latency) where the fault
only shows on a slow link; the clients are stock ones (python-socketio, node's socket.io-client,
Chromium) besides tests.viewer.
"""

from __future__ import annotations

import json
import resource
import shutil
import socket
import subprocess
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
import socketio

from tailapp.api import MAX_LOG_PAGE_BYTES
from tests.conftest import ROOT, TERMINAL, stop_process
from tests.hostile import RawSocketIO, ThrottledProxy, process_rss

NS = "/tail"
HEADER_SECONDS = 10  # tailapp.serve.HEADER_SECONDS (importing tailapp.serve would monkey-patch the tests)
BIG_LINES = 100_000


@pytest.fixture(scope="module")
def big_backlog(stack) -> str:
    """A finished job of 100,000 lines (about 7 MB)."""
    job_id = stack.start_job(lines=BIG_LINES, interval=0)
    stack.wait_job(job_id, timeout=120)
    return job_id


@pytest.fixture(scope="module")
def wide_job(stack) -> str:
    """A finished job of 100 lines of 65,000 characters (6.5 MB): every packet spans many TCP writes."""
    job_id = stack.start_job("wide", lines=100, width=65_000)
    stack.wait_job(job_id, timeout=60)
    return job_id


def is_wide_line(text: str, n: int) -> bool:
    """Is `text` line n of the `wide` task, whole?"""
    return len(text) == 65_000 and text.startswith(f"<{n}>") and text.endswith(f"<{n}>")


@pytest.fixture
def proxy(stack):
    link = ThrottledProxy(stack.url, bytes_per_second=4_000_000, latency=0.02)
    yield link
    link.close()


def stock_python_client(url: str, job_id: str, timeout: float, auth: dict | None = None,
                        transports: list[str] | None = ("websocket",)) -> set[int]:
    """A plain python-socketio client (handlers in threads, order not kept): the seqs it received.
    transports None: the client's default, long-polling first and then the upgrade."""
    seqs: set[int] = set()
    done = threading.Event()
    client = socketio.Client(reconnection=False)
    client.on("lines", lambda m: seqs.update(range(m["seq"], m["seq"] + len(m["lines"]))), namespace=NS)
    client.on("job", lambda job: job["state"] in TERMINAL and done.set(), namespace=NS)
    client.connect(url, namespaces=[NS], transports=transports and list(transports), wait_timeout=10, auth=auth)
    try:
        ack = client.call("subscribe", {"job": job_id, "after": 0}, namespace=NS, timeout=10)
        assert ack["ok"], ack
        done.wait(timeout)
        time.sleep(0.5)  # lines handled in other threads
        assert client.connected, "the server dropped a client that was reading"
    finally:
        client.disconnect()
    return seqs


def test_stock_python_client_through_a_slow_link_gets_a_100k_line_backlog(stack, big_backlog, proxy):
    seqs = stock_python_client(proxy.url, big_backlog, timeout=60)
    assert seqs == set(range(1, BIG_LINES + 1)), f"{len(seqs)} of {BIG_LINES} lines"


def test_stock_clients_with_their_default_options_get_a_100k_line_backlog(stack, big_backlog):
    """Directly, at full speed: long-polling, then the upgrade to a WebSocket while lines flow, with the
    server batching frames; node offers permessage-deflate (the server declines it)."""
    seqs = stock_python_client(stack.url, big_backlog, timeout=60, transports=None)
    assert seqs == set(range(1, BIG_LINES + 1)), f"{len(seqs)} of {BIG_LINES} lines"
    report = node_client(stack.url, big_backlog, "defaults")
    assert report == {"lines": BIG_LINES, "unique": BIG_LINES, "first": 1, "last": BIG_LINES, "state": "succeeded"}


def test_stock_python_client_on_long_polling_gets_every_line_of_a_running_job(stack, big_backlog):
    """python-engineio's client gives up on a poll answer of more than 16 packets ("Unexpected packet
    from server"). A job writing in many small batches fills the queue past that while a poll travels
    a slow link (first seen behind nginx under load); a big backlog is sent paced, so it does not."""
    link = ThrottledProxy(stack.url, bytes_per_second=2_000_000, latency=0.15)
    try:
        running = stack.start_job(lines=3_000, interval=0.001)
        seqs = stock_python_client(link.url, running, timeout=90, transports=["polling"])
        assert seqs == set(range(1, 3_001)), f"{len(seqs)} of 3000 lines"
        seqs = stock_python_client(stack.url, big_backlog, timeout=90, transports=["polling"])
        assert seqs == set(range(1, BIG_LINES + 1)), f"{len(seqs)} of {BIG_LINES} lines"
    finally:
        link.close()


def test_viewer_through_a_slow_link_gets_every_big_line_whole(stack, wide_job, proxy):
    viewer = stack.viewer(proxy.url).connect()
    assert viewer.subscribe(wide_job, after=0)["ok"]
    viewer.wait_done(60)
    assert viewer.seqs == list(range(1, 101))
    for n in (1, 50, 100):
        assert is_wide_line(viewer.texts[n], n)
    viewer.disconnect()


def test_log_pages_are_bounded_in_bytes_and_add_up_to_the_whole_log(stack, wide_job):
    # Paging (`limit`); without it the whole log is streamed (tests/test_logstream.py).
    pages, after = [], 0
    while True:
        response = requests.get(f"{stack.url}/api/jobs/{wide_job}/log", params={"after": after, "limit": 100_000},
                                timeout=30)
        assert response.ok
        if not response.content:
            break
        assert len(response.content) <= MAX_LOG_PAGE_BYTES + 65_001, len(response.content)
        pages.append(response.text)
        after = int(response.headers["X-Next-Seq"])
    assert len(pages) >= 2  # 6.5 MB does not fit in one page
    lines = "".join(pages).splitlines()
    assert len(lines) == 100 and all(is_wide_line(line, n) for n, line in enumerate(lines, 1))


@pytest.fixture(scope="module")
def strict_server(stack):
    """A server of its own (its memory is measured) that gives up on a client taking nothing for 3 s."""
    process, url = stack.spawn_server("server-strict", {"TAILAPP_SEND_STALL_SECONDS": "3"})
    yield process, url
    stop_process(process)  # its Redis connections would count in tests/test_relay.py


def closed_by_server(client: RawSocketIO, within: float) -> bool:
    """Read what the client left unread; True if the server ended the connection."""
    deadline = time.monotonic() + within
    client.sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not client.sock.recv(1 << 20):
                return True
        except TimeoutError:
            continue
        except OSError:  # reset
            return True
    return False


class PeakRss(threading.Thread):
    """Samples a process's resident memory until stopped; `peak` is the highest seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, process_rss(pid), True
        self.start()

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, process_rss(self.pid))
            time.sleep(0.1)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def test_a_viewer_that_never_reads_is_dropped_and_costs_bounded_memory(stack, strict_server):
    process, url = strict_server
    stuck = RawSocketIO(url, receive_buffer=4096)
    stuck.connect_namespace()
    job_id = stack.start_job("wide", lines=920, width=65_000, interval=0.01)  # 60 MB in ~10 s
    stuck.emit("subscribe", {"job": job_id, "after": 0})
    assert stuck.receive().startswith("43/tail,1[{\"ok\":true")  # in the room before the first line
    baseline = process_rss(process.pid)
    sampler = PeakRss(process.pid)
    try:  # from now on it reads nothing
        stack.wait_job(job_id, timeout=120)
        time.sleep(2)
    finally:
        growth = sampler.stop() - baseline
    assert closed_by_server(stuck, within=10), "the server kept a client that read nothing"
    assert growth < 50_000_000, f"server grew by {growth / 1e6:.0f} MB"  # it held all 60 MB for it
    stuck.close()


def test_a_resubscribe_flood_on_one_connection_is_refused_with_a_reason(stack, big_backlog):
    viewer = stack.viewer().connect()
    acks = [viewer.subscribe(big_backlog, after=BIG_LINES - 10) for _ in range(80)]
    refused = [ack for ack in acks if not ack["ok"]]
    assert len(refused) >= 20, f"{len(refused)} of 80 refused"
    assert all("too many subscribe requests" in ack["error"] for ack in refused)
    time.sleep(1.2)
    assert viewer.subscribe(big_backlog, after=BIG_LINES - 5)["ok"]  # allowed again a moment later
    viewer.disconnect()


def half_sent_request(url: str) -> socket.socket:
    """A connection that sends half a request head, then nothing."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=3)
    sock.sendall(b"GET /api/jobs HTTP/1.1\r\nHost: x\r\n")
    return sock


def flood(url: str, refused: int, half_sent: int) -> list:
    """Open refused Socket.IO clients that stay and answer pings, and half-sent requests, as many as
    the server lets in."""
    opened = []
    for _ in range(refused):
        try:
            client = RawSocketIO(url, timeout=3)
            assert client.connect_namespace().startswith("44/tail,")  # refused: no token
            opened.append(client)
        except OSError:
            break
    for _ in range(half_sent):
        try:
            opened.append(half_sent_request(url))
        except OSError:
            break
    return opened


def test_after_a_connection_flood_a_client_with_the_token_still_gets_in(stack):
    token = "flood-test-token"
    process, url = stack.spawn_server("server-flooded", {"TAILAPP_AUTH_TOKEN": token})
    resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (256, 256))  # a small server, soon full
    job_id = stack.start_job(lines=20, interval=0)
    stack.wait_job(job_id)
    hostile = flood(url, refused=150, half_sent=150)
    try:
        time.sleep(HEADER_SECONDS + 3)
        response = requests.get(f"{url}/api/jobs/{job_id}/log", headers={"Authorization": f"Bearer {token}"},
                                timeout=10)
        assert response.ok and response.text.count("\n") == 20
        seqs = stock_python_client(url, job_id, timeout=20, auth={"token": token})
        assert seqs == set(range(1, 21))
        refused = [c for c in hostile if isinstance(c, RawSocketIO)]
        assert refused and not any(c.is_open(wait=0.5) for c in refused[:5])  # closed by the server
    finally:
        for conn in hostile:
            conn.close()
        stop_process(process)


def test_malformed_packets_never_get_an_http_answer_inside_the_websocket(stack):
    handshake = requests.get(f"{stack.url}/socket.io/?EIO=4&transport=polling", timeout=5)
    sid = json.loads(handshake.text[1:])["sid"]
    upgrading = RawSocketIO(stack.url, sid=sid)
    upgrading.send_text("x")  # not an Engine.IO packet, where the upgrade probe belongs
    assert b"HTTP/" not in upgrading.rest(wait=2)  # was "HTTP/1.1 500 Internal Server Error"
    upgrading.close()
    client = RawSocketIO(stack.url)
    assert client.connect_namespace().startswith("40/tail,")
    client.send_text('451-/tail,1["subscribe",{"_placeholder":true,"num":0}]')  # a binary Socket.IO event
    client.send_bytes(b"\x00\xffnot json")
    client.send_bytes(b"\x93binary engine.io frame")
    client.close_frame()
    assert b"HTTP/" not in client.rest(wait=2)  # the close frame was read as a request and answered 400
    client.close()
    assert requests.get(f"{stack.url}/healthz", timeout=5).ok


def node_client(url: str, job_id: str, *mode: str) -> dict:
    """Run tests/node_viewer.mjs (socket.io-client from node_modules): its report."""
    node = shutil.which("node")
    assert node, "node is needed (./dev.sh installs nodejs)"
    result = subprocess.run([node, str(ROOT / "tests" / "node_viewer.mjs"), url, job_id, *mode], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("job", ["big_backlog", "wide_job"])
def test_stock_node_client_through_a_slow_link_gets_every_line(stack, proxy, job, request):
    job_id = request.getfixturevalue(job)
    total = BIG_LINES if job == "big_backlog" else 100
    report = node_client(proxy.url, job_id)
    assert report == {"lines": total, "unique": total, "first": 1, "last": total, "state": "succeeded"}


CHROMIUM = "/usr/bin/chromium"


def test_chromium_through_a_slow_link_shows_a_job_of_big_lines_completely(stack, wide_job):
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_viewer import CHROMIUM_ARGS

    link = ThrottledProxy(stack.url, bytes_per_second=1_000_000, latency=0.05)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(bypass_csp=True).new_page()
            page.goto(f"{link.url}/jobs/{wide_job}")
            page.wait_for_function("window.tailapp && tailapp.store.length >= 100", timeout=60_000)
            page.evaluate("tailapp.view.revealLine(99)")
            last = page.locator('.log .row[data-i="99"] .txt').inner_text()
            count = page.evaluate("tailapp.store.length")
            browser.close()
    finally:
        link.close()
    assert count == 100 and is_wide_line(last, 100)

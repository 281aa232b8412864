"""Hostile conditions, for real: slow links, big frames, clients that never read, floods of connections.

Viewers reach the server through tests.hostile.ThrottledProxy (bandwidth + latency) where the fault
only shows on a slow link; the clients are stock ones (python-socketio, node's socket.io-client,
Chromium) besides tests.viewer.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

from tailapp.api import MAX_LOG_PAGE_BYTES
from tests.hostile import ThrottledProxy

NS = "/tail"
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


@pytest.fixture
def proxy(stack):
    link = ThrottledProxy(stack.url, bytes_per_second=4_000_000, latency=0.02)
    yield link
    link.close()


def stock_python_client(url: str, job_id: str, timeout: float) -> set[int]:
    """A plain python-socketio client (handlers in threads, order not kept): the seqs it received."""
    seqs: set[int] = set()
    done = threading.Event()
    client = socketio.Client(reconnection=False)
    client.on("lines", lambda m: seqs.update(range(m["seq"], m["seq"] + len(m["lines"]))), namespace=NS)
    client.on("job", lambda job: done.set(), namespace=NS)
    client.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=10)
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


def test_viewer_through_a_slow_link_gets_every_big_line_whole(stack, wide_job, proxy):
    viewer = stack.viewer(proxy.url).connect()
    assert viewer.subscribe(wide_job, after=0)["ok"]
    viewer.wait_done(60)
    assert viewer.seqs == list(range(1, 101))
    for n in (1, 50, 100):
        assert viewer.texts[n].startswith(f"<{n}>x") and viewer.texts[n].endswith(f"x<{n}>")
        assert len(viewer.texts[n]) == 65_000
    viewer.disconnect()


def test_log_pages_are_bounded_in_bytes_and_add_up_to_the_whole_log(stack, wide_job):
    pages, after = [], 0
    while True:
        response = requests.get(f"{stack.url}/api/jobs/{wide_job}/log", params={"after": after}, timeout=30)
        assert response.ok
        if not response.content:
            break
        assert len(response.content) <= MAX_LOG_PAGE_BYTES + 65_001, len(response.content)
        pages.append(response.text)
        after = int(response.headers["X-Next-Seq"])
    assert len(pages) >= 2  # 6.5 MB does not fit in one page
    lines = "".join(pages).splitlines()
    assert len(lines) == 100 and all(line.startswith(f"<{n}>x") for n, line in enumerate(lines, 1))

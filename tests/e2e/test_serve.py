"""The server process: clean shutdown on SIGTERM and structured logs."""

from __future__ import annotations

import ipaddress
import json
import signal
import socket
import subprocess
import sys
import threading

import pytest
import requests
import socketio

from tailapp.embedded import free_port
from tests.conftest import ROOT, stop_process
from tests.e2e.steps import assert_exactly
from tests.viewer import NS, in_order


def test_sigterm_disconnects_viewers_and_exits_zero(stack):
    process, url = stack.spawn_server("server-sigterm", {"TAILAPP_LOG_FORMAT": "json"})
    job_id = stack.start_job(lines=100_000, interval=0.01)
    gone = threading.Event()
    client = in_order(socketio.Client(reconnection=False))
    client.on("disconnect", lambda *args: gone.set(), namespace=NS)
    client.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=10)
    assert client.call("subscribe", {"job": job_id, "after": 0}, namespace=NS, timeout=10)["ok"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert gone.wait(5), "the viewer was not disconnected"
    requests.post(f"{stack.url}/api/jobs/{job_id}/cancel", json={}, timeout=10)
    records = [json.loads(row) for row in stack.log("server-sigterm").splitlines() if row.startswith("{")]
    assert any(r["level"] == "INFO" and "SIGTERM" in r["message"] for r in records), records[-5:]



NODELAY_PROBE = """
from tailapp.serve import NoDelayHandler
import gevent, socket
from gevent import pywsgi

seen = []

class Probe(NoDelayHandler):
    def run_application(self):
        seen.append(self.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        super().run_application()

def app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]

server = pywsgi.WSGIServer(("127.0.0.1", 0), app, handler_class=Probe, log=None)
server.start()
with socket.create_connection(("127.0.0.1", server.server_port)) as conn:
    conn.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    reply = conn.recv(1024)
print(reply.split(b"\\r\\n", 1)[0].decode(), seen)
"""


def test_server_connections_have_nagle_off():
    """With Nagle on, a viewer's first lines after a quiet moment waited for its delayed ack (40 ms)."""
    out = subprocess.run([sys.executable, "-c", NODELAY_PROBE], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.split() == ["HTTP/1.1", "200", "OK", "[1]"], out


def outside_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


def test_gunicorn_entry_relays_live_lines_and_answers_only_local_clients_without_a_token(stack):
    """The documented alternative to `python server.py`: gunicorn's gevent worker and `tailapp.serve:wsgi()`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = stack._spawn("gunicorn", [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1",
                                        "--bind", f"0.0.0.0:{port}", "tailapp.serve:wsgi()"])
    stack.extras.append(process)
    try:
        stack.wait(lambda: requests.get(f"{url}/healthz", timeout=1).json()["relay"] == "connected",
                   "gunicorn to answer with its relay connected")
        job_id = stack.start_job(lines=2_000, interval=0.001)
        viewer = stack.viewer(url).connect()
        assert viewer.subscribe(job_id, after=0)["ok"]
        viewer.wait_done(60)
        assert_exactly(viewer, 2_000)
        assert viewer.resyncs == 0
        viewer.disconnect()

        outside = outside_address()
        if outside is None:
            pytest.skip("no non-loopback address here to play a client on another host")
        refused = requests.get(f"http://{outside}:{port}/api/jobs", timeout=5)
        assert refused.status_code == 403 and "TAILAPP_AUTH_TOKEN" in refused.json()["error"]
        client, errors = socketio.Client(reconnection=False), []
        client.on("connect_error", errors.append, namespace=NS)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(f"http://{outside}:{port}", namespaces=[NS], transports=["websocket"], wait_timeout=5)
        assert "TAILAPP_AUTH_TOKEN" in str(errors), errors
        assert requests.get(f"http://{outside}:{port}/healthz", timeout=5).status_code == 200  # for balancers
    finally:
        stop_process(process)

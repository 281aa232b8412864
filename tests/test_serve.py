"""The server process: clean shutdown on SIGTERM and structured logs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import requests
import socketio

from tests.conftest import ROOT
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

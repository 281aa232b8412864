"""The server process: clean shutdown on SIGTERM and structured logs."""

from __future__ import annotations

import json
import signal
import threading

import requests
import socketio

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


"""A Python client of a tailapp server: the HTTP API, and following a job's log over Socket.IO.

`tailapp start/tail/jobs/cancel/logs` are built on it. It speaks the protocol of docs/PROTOCOL.md.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

import requests
import socketio

from tailapp import protocol as p

EXIT_CANCELLED = 130  # what a shell reports for a job stopped by Ctrl-C
EXIT_LOST = 75  # EX_TEMPFAIL: the worker went away; trying again may work
RETRY_FIRST, RETRY_MAX = 0.25, 5.0  # backoff of a subscribe the server refused with "retry": true


class ClientError(Exception):
    """A request failed; the message is one line for people."""


def exit_code(job: dict) -> int:
    """The exit code a command following `job` should end with."""
    if job["state"] == p.SUCCEEDED:
        return 0
    if job["state"] == p.CANCELLED:
        return EXIT_CANCELLED
    if job["state"] == p.LOST:
        return EXIT_LOST
    code = job.get("exit_code")
    return code if isinstance(code, int) and 1 <= code <= 255 else 1


def _authorization(token: str | None, user: str | None) -> dict:
    if not token:
        return {}
    if user:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}
    return {"Authorization": f"Bearer {token}"}


class Client:
    """The HTTP API of one server; a token is sent when given (with `user`, as HTTP Basic name:token)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0, user: str | None = None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"X-Tailapp-Client": "cli", **_authorization(token, user)}
        self.session = requests.Session()
        self.session.headers.update(self.headers)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request; a ClientError with the server's message for anything but 2xx."""
        try:
            response = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ClientError(f"cannot reach {self.url}: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise ClientError(_error_message(response))
        return response

    def tasks(self) -> list[dict]:
        return self.request("GET", "/api/tasks").json()["tasks"]

    def start(self, task: str, params: dict) -> dict:
        """Start a job; its object."""
        return self.request("POST", "/api/jobs", json={"task": task, "params": params}).json()["job"]

    def jobs(self, limit: int = 50, *, task: str = "", state: str = "", text: str = "",
             before: str | None = None) -> dict:
        """A page of the job list: {"jobs", "next", "scanned"}, filtered as GET /api/jobs is."""
        params = {"limit": limit, "task": task or None, "state": state or None, "q": text or None, "before": before}
        return self.request("GET", "/api/jobs", params=params).json()

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/api/jobs/{job_id}").json()

    def cancel(self, job_id: str) -> dict:
        return self.request("POST", f"/api/jobs/{job_id}/cancel", json={}).json()["job"]

    def log(self, job_id: str, after: int = 0) -> Iterator[bytes]:
        """The log written so far, as raw UTF-8 text in pages (each at most a few MB, whatever the log's size)."""
        while True:
            response = self.request("GET", f"/api/jobs/{job_id}/log", params={"after": after, "limit": LOG_PAGE})
            if not response.content:
                return
            yield response.content
            after = int(response.headers["X-Next-Seq"])

    def follow(self, job_id: str, out: BinaryIO, after: int = 0) -> dict:
        """Write the job's lines after `after` to `out` until it ends; its final object."""
        return Follower(self, job_id, out, after).run()


LOG_PAGE = 100_000  # lines a `log` page asks for; the server also stops a page at 4 MiB


class Follower:
    """Follows one job: lines in seq order, each once; resubscribes from the last seq after any blip."""

    def __init__(self, client: Client, job_id: str, out: BinaryIO, after: int = 0):
        self.client, self.job_id, self.out, self.last = client, job_id, out, after
        self.job: dict | None = None
        self.error: str | None = None
        self.done = threading.Event()
        self.retry_delay = RETRY_FIRST  # before the next subscribe after a retryable refusal
        self.sio = in_order(socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=5))
        for event, handler in (("connect", self._subscribe), ("disconnect", self._on_disconnect),
                               (p.LINES, self._on_lines), (p.JOB, self._on_job), (p.RESYNC, self._on_resync)):
            self.sio.on(event, handler, namespace=p.NAMESPACE)

    def run(self) -> dict:
        """Connect, wait for the job's terminal state, and leave."""
        try:
            self._connect()
        except socketio.exceptions.ConnectionError as exc:
            raise ClientError(f"cannot reach {self.client.url}: {exc}") from None
        try:
            while not self.done.wait(0.5):  # a timed wait lets Ctrl-C through
                pass
        finally:
            # websocket-client waits seconds for a close frame the server may not send: leave in the background.
            threading.Thread(target=self.sio.disconnect, daemon=True).start()
        if self.error:
            raise ClientError(self.error)
        return self.job

    def _connect(self) -> None:
        self.sio.connect(self.client.url, headers=self.client.headers, namespaces=[p.NAMESPACE], wait_timeout=10)

    def _on_disconnect(self, reason=None) -> None:
        # After a transport error the client reconnects by itself; a server that closes the connection
        # (it is shutting down) gets no such retry, so reconnect here, to it restarted or to its peer.
        if reason == socketio.Client.reason.SERVER_DISCONNECT and not self.done.is_set():
            threading.Thread(target=self._reconnect, daemon=True).start()

    def _reconnect(self, delay: float = 0.5) -> None:
        while not self.done.is_set():
            time.sleep(delay)
            try:
                self._connect()
                return
            except socketio.exceptions.ConnectionError:
                delay = min(delay * 2, 5.0)

    def _subscribe(self) -> None:
        payload = {"job": self.job_id, "after": self.last}
        self.sio.emit(p.SUBSCRIBE, payload, namespace=p.NAMESPACE, callback=self._on_ack)

    def _on_ack(self, answer: dict) -> None:
        if answer.get("ok"):
            self.retry_delay = RETRY_FIRST
        elif answer.get("retry") and not self.done.is_set():  # Redis restarting or loading: ask again later
            threading.Timer(self.retry_delay, self._subscribe_if_connected).start()
            self.retry_delay = min(self.retry_delay * 2, RETRY_MAX)
        else:
            self.error = answer.get("error") or "subscribe failed"
            self.done.set()

    def _subscribe_if_connected(self) -> None:
        if p.NAMESPACE in self.sio.namespaces and not self.done.is_set():  # else the next connect subscribes
            self._subscribe()

    def _on_lines(self, message: dict) -> None:
        if message.get("job") != self.job_id:
            return
        first = message["seq"]
        if first > self.last + 1:  # a gap: ask again from what we have
            self._subscribe()
            return
        fresh = message["lines"][self.last + 1 - first :]
        if fresh:
            self.out.write("".join(text + "\n" for text in fresh).encode("utf-8", "replace"))
            self.out.flush()
            self.last = first + len(message["lines"]) - 1

    def _on_job(self, job: dict) -> None:
        if job.get("id") == self.job_id:
            self.job = job
            if job["state"] in p.TERMINAL:
                self.done.set()

    def _on_resync(self, message: dict) -> None:
        if message.get("job") == self.job_id:
            self._subscribe()


def in_order(client: socketio.Client) -> socketio.Client:
    """Handle messages on the read loop's thread, in the order they arrived.

    python-engineio's client runs each message handler in a new thread, so lines could be handled out
    of the order the server sent them in.
    """
    trigger = client.eio._trigger_event

    def trigger_in_order(event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)

    client.eio._trigger_event = trigger_in_order
    return client


def _error_message(response: requests.Response) -> str:
    try:
        message = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        message = response.reason or "error"
    return f"{message} (HTTP {response.status_code})"

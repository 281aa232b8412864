"""A test viewer: a python-socketio client that records every `lines` and `job` event it receives."""

from __future__ import annotations

import logging
import threading
import time

import requests
import socketio

from tailapp.client import in_order

NS = "/tail"


class TransportLog(logging.Logger):
    """python-engineio's log of one client, keeping why its transport gave up (requests that failed)."""

    def __init__(self):
        super().__init__("tests.viewer.engineio", logging.INFO)
        self.failures: list[str] = []

    def handle(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING or "failed" in message or "aborting" in message:
            self.failures.append(message[:300])


class Viewer:
    """Connects to /tail, subscribes, and keeps every seq the server sent (duplicates included)."""

    def __init__(self, url: str, transports: tuple[str, ...] = ("websocket",), ssl_verify: bool = True):
        self.url = url
        self.transports = list(transports)
        self.ssl_verify = ssl_verify
        self.client = self._new_client()
        self.seqs: list[int] = []  # every seq received, in order of arrival
        self.texts: dict[int, str] = {}
        self.events: list[tuple] = []  # ("lines", first, last) / ("job", state), in order
        self.jobs: list[dict] = []  # every job object received
        self.last = 0
        self.done = threading.Event()
        self.resyncs = 0
        self.acks: list[dict] = []  # the answers to resubscriptions after a resync

    def connect(self) -> Viewer:
        self.client.connect(self.url, namespaces=[NS], transports=self.transports, wait_timeout=10)
        return self

    def call(self, event: str, payload=None, timeout: float = 10):
        return self.client.call(event, payload, namespace=NS, timeout=timeout)

    def subscribe(self, job_id: str, after: int | None = None) -> dict:
        return self.call("subscribe", {"job": job_id, "after": self.last if after is None else after})

    def disconnect(self) -> None:
        """Leave at once. websocket-client's close() waits up to 3 s for a close frame that gevent's
        server never answers, so the wait happens in a thread; the server sees the disconnect at once."""
        client, session = self.client, self._session
        if not client.connected and session is None:
            return

        def close() -> None:
            if client.connected:
                client.disconnect()
            if session is not None:  # also after a dropped connection: its TLS sockets are still open
                session.close()  # else they are left to the garbage collector (ResourceWarning)

        self._session = None
        self._closer = threading.Thread(target=close, daemon=True)
        self._closer.start()

    def close(self, timeout: float = 10) -> None:
        """Disconnect and wait until the client's sockets are closed (TLS ones are otherwise left to the
        garbage collector of a later test, whose run then fails on the ResourceWarning)."""
        self.disconnect()
        closer = getattr(self, "_closer", None)
        if closer is not None:
            closer.join(timeout)

    def reconnect(self) -> Viewer:
        """Disconnect, then connect again with a new client (a page reload or a network blip)."""
        self.disconnect()
        self.client = self._new_client()
        return self.connect()

    def _new_client(self) -> socketio.Client:
        options = {}
        self._session = None
        if not self.ssl_verify:  # a session of its own: REQUESTS_CA_BUNDLE would override verify=False
            options["http_session"] = session = self._session = requests.Session()
            session.trust_env, session.verify = False, False
        self.transport_log = TransportLog()
        client = in_order(socketio.Client(reconnection=False, ssl_verify=self.ssl_verify,
                                          engineio_logger=self.transport_log, **options))
        for event, handler in (("lines", self._on_lines), ("job", self._on_job), ("resync", self._on_resync)):
            client.on(event, self._only_current(client, handler), namespace=NS)
        return client

    def _only_current(self, client: socketio.Client, handler):
        """The handler, for messages of the current client only. A replaced client is closed in a thread
        (see disconnect) and may still hand over lines it had read: a reloaded page never sees those."""
        def handle(message):
            if client is self.client:
                handler(message)
        return handle

    def _on_lines(self, message: dict) -> None:
        seq = message["seq"]
        assert len(message["lines"]) == len(message["times"])
        for offset, text in enumerate(message["lines"]):
            self.seqs.append(seq + offset)
            self.texts[seq + offset] = text
        self.last = max(self.last, seq + len(message["lines"]) - 1)
        self.events.append(("lines", seq, seq + len(message["lines"]) - 1))

    def _on_resync(self, message: dict) -> None:
        self.resyncs += 1
        self._resubscribe(message["job"], 0.1)

    def _resubscribe(self, job_id: str, delay: float) -> None:
        """Subscribe from the last seq; a retryable refusal (Redis loading) is retried with backoff."""
        def on_ack(ack: dict) -> None:
            self.acks.append(ack)
            if not ack.get("ok") and ack.get("retry") and self.client.connected:
                threading.Timer(delay, self._resubscribe, (job_id, min(delay * 2, 2.0))).start()

        # Runs on the read loop (in_order), so no blocking call() here: emit and let the ack come later.
        self.client.emit("subscribe", {"job": job_id, "after": self.last}, namespace=NS, callback=on_ack)

    def _on_job(self, job: dict) -> None:
        self.jobs.append(job)
        self.events.append(("job", job["state"]))
        if job["state"] in ("succeeded", "failed", "cancelled", "lost"):
            self.done.set()

    def wait_done(self, timeout: float = 60) -> None:
        if not self.done.wait(timeout):
            raise TimeoutError(f"no terminal job event; last seq {self.last}; {self.state()}")

    def state(self) -> str:
        """What a failed wait needs to say: is the client still connected, on which transport, what came."""
        client = self.client
        transport = client.transport() if client.connected else "-"
        return (f"transports={self.transports} connected={client.connected} transport={transport} "
                f"sid={client.get_sid(NS)} "
                f"events={len(self.events)} last events={self.events[-3:]} resyncs={self.resyncs} "
                f"transport failures={self.transport_log.failures[-3:]}")

    def wait_for(self, seq: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.last < seq:
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited for seq {seq}, have {self.last}")
            time.sleep(0.01)

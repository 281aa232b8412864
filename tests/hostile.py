"""Hostile network conditions for tests: a throttling TCP proxy and raw clients that misbehave."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Request, TextMessage

CHUNK = 16 * 1024


class ThrottledProxy:
    """Forwards TCP connections to `target` (host, port) with a bandwidth limit and a one-way latency.

    Each direction is a reader thread and a writer thread joined by a small queue, so the writer's pace
    pushes back on the reader and from there on the sender's TCP window, as a slow link does.
    """

    def __init__(self, target_url: str, bytes_per_second: float, latency: float = 0.0):
        parts = urlsplit(target_url)
        self.target = (parts.hostname, parts.port)
        self.rate = bytes_per_second
        self.latency = latency
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.sockets += [client, server]
            self._pipe(client, server)
            self._pipe(server, client)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        chunks: queue.Queue = queue.Queue(maxsize=4)
        threading.Thread(target=self._read, args=(source, chunks), daemon=True).start()
        threading.Thread(target=self._write, args=(sink, chunks), daemon=True).start()

    def _read(self, source: socket.socket, chunks: queue.Queue) -> None:
        while True:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            chunks.put((time.monotonic() + self.latency, data))
            if not data:
                return

    def _write(self, sink: socket.socket, chunks: queue.Queue) -> None:
        while True:
            due, data = chunks.get()
            time.sleep(max(0.0, due - time.monotonic()))
            if not data:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            try:
                sink.sendall(data)
            except OSError:
                return
            time.sleep(len(data) / self.rate)

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


class RawSocketIO:
    """A Socket.IO client over one raw WebSocket that we drive by hand (it can stop reading, or never
    answer a ping), built on wsproto."""

    def __init__(self, url: str, *, receive_buffer: int | None = None, headers: dict | None = None,
                 timeout: float = 10, sid: str | None = None):
        parts = urlsplit(url)
        self.sock = socket.socket()
        if receive_buffer:  # a small window: the server's writes block sooner
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending: list[str] = []
        self.closed = False
        try:
            self.sock.connect((parts.hostname, parts.port))
            extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
            target = "/socket.io/?EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")
            self._send(Request(host=parts.netloc, target=target, extra_headers=extra))
            self._wait(lambda e: isinstance(e, AcceptConnection))
            self.open = None if sid else self.receive()  # the Engine.IO open packet; none on an upgrade
        except BaseException:
            self.sock.close()
            raise

    def _send(self, event) -> None:
        self.sock.sendall(self.ws.send(event))

    def send_text(self, text: str) -> None:
        self._send(TextMessage(data=text))

    def send_bytes(self, data: bytes) -> None:
        self._send(BytesMessage(data=data))

    def close_frame(self) -> None:
        self._send(CloseConnection(code=1000))

    def rest(self, wait: float) -> bytes:
        """Every raw byte the server sends within `wait` seconds or until it closes."""
        received, deadline = b"", time.monotonic() + wait
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            except OSError:
                break
            if not data:
                break
            received += data
        return received

    def _wait(self, done) -> None:
        while True:
            for event in self._events():
                if done(event):
                    return

    def _events(self) -> list:
        """The events of the next read; text messages are kept in `pending`."""
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            raise ConnectionError("server closed the connection")
        self.ws.receive_data(data)
        events = list(self.ws.events())
        for event in events:
            if isinstance(event, CloseConnection):
                self.closed = True
                raise ConnectionError(f"server closed the WebSocket: {event.code} {event.reason}")
            if isinstance(event, TextMessage):
                self.pending.append(event.data)
        return events

    def receive(self) -> str:
        """The next text message; answers Engine.IO pings on the way."""
        while True:
            while self.pending:
                message = self.pending.pop(0)
                if message == "2":
                    self.send_text("3")
                    continue
                return message
            self._events()

    def connect_namespace(self, auth: dict | None = None) -> str:
        self.send_text("40/tail," + (json.dumps(auth) if auth else ""))
        return self.receive()

    def emit(self, event: str, payload: dict, ack_id: int = 1) -> None:
        self.send_text(f"42/tail,{ack_id}" + json.dumps([event, payload]))

    def is_open(self, wait: float) -> bool:
        """Does the server keep the connection open for `wait` seconds (pings answered meanwhile)?"""
        deadline = time.monotonic() + wait
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    self.receive()
                except TimeoutError:
                    return True
        except (ConnectionError, OSError):
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def process_rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * 4096

"""The WebSocket transport under Engine.IO: whole frames, stalled readers dropped, bounded send queues.

Two faults of the stock stack under gevent, fixed at the one seam python-engineio offers, the async
driver's `websocket` and `queue` factories (`install()` swaps them on our Engine.IO server only):

- simple-websocket writes each frame with `sock.send(data)` and ignores a partial write, which gevent
  returns whenever the kernel's send buffer is full: the rest of the frame was lost and a slow reader
  saw "Invalid frame header". `WholeSendSocket` makes every send a sendall, one writer at a time (the
  writer greenlet and the reader's pong replies share the socket), and gives up when the client takes
  nothing for `stall_seconds`.
- Engine.IO queues packets per client without a bound: a client that stops reading held every packet
  its room got. `SendQueue` counts the bytes it holds; past `limit` it drops them and closes the client
  (the browser reconnects and resumes from its last seq, see docs/PROTOCOL.md).
- A long-polling answer carries every packet queued, but a stock python-socketio client gives up on
  more than 16: `SendQueue` hands a poll at most `POLL_PACKETS`, the rest goes with the next.

And what each delivered message costs the server (bench/userpath.py, BENCHMARKS.md "User's path"):

- simple-websocket accepts permessage-deflate whenever the client offers it (every browser and node's
  `ws` do), and wsproto then compresses every frame, per connection: most of the server's CPU under
  fan-out. `WholeFrameServer` accepts without extensions.
- Engine.IO's writer greenlet sends each queued packet with its own `send()` syscall. `WebSocketWSGI`
  collects the frames of one batch (what one `Socket.poll` took from the queue) and `SendQueue` flushes
  them with one `sendall` before the writer waits for more.
- python-socketio encodes a room's message once and hands every viewer the same string; `text_frame`
  builds its WebSocket frame once too (frames carry no per-connection state without compression).
- A room's `lines` (the outbox's emits, `emit_to_room`) skip the queue of every WebSocket viewer whose
  queue is empty and whose writer is idle: the frame is written from the relay's greenlet with a send
  that does not wait, and only a rest the kernel did not take goes to a writer greenlet, ahead of
  anything queued later. Waking a writer greenlet per viewer per message was half the server's CPU at
  100,000 deliveries/s (issue 17's many jobs).

And what an idle viewer holds (issue 17: 10,000 viewers on one process; bench/idle_viewers.py): its socket
is not dup()ed, no reader greenlet waits on it (`WholeFrameServer.receive` reads in the greenlet that
waits for a message), pywsgi's 8 kB read buffer is freed once upgraded, and the 25 s wait for the next
Engine.IO ping is a timer, not a sleeping greenlet (`PingLater`).
"""

from __future__ import annotations

import logging
import socket
import sys
import time

import gevent
import gevent.event
import gevent.lock
import gevent.socket
from engineio import packet as engineio_packet
from engineio.async_drivers import gevent as engineio_gevent
from engineio.socket import Socket as EngineIOSocket
from gevent import queue
from simple_websocket import Server as SimpleWebSocketServer
from simple_websocket.ws import Base as SimpleWebSocketBase
from socketio import packet as socketio_packet
from wsproto import ConnectionType
from wsproto.events import AcceptConnection
from wsproto.frame_protocol import FrameProtocol
from wsproto.utilities import LocalProtocolError

log = logging.getLogger(__name__)
UPGRADED = "tailapp.upgraded"  # the WSGI environ key of an UpgradeMark
FLUSH_BYTES = 256 * 1024  # a batch bigger than this goes out at once: the client starts reading sooner
# python-engineio's client (engineio.payload.Payload.max_decode_packets) drops a connection whose poll
# answer holds more packets than this; browsers and node take any number.
POLL_PACKETS = 16


class UpgradeMark:
    """Put in the WSGI environ by the server's handler, set once a 101 answer is on the wire (the app
    gets a copy of the environ; this object is shared). It carries the handler's socket and its buffered
    reader, so that a WebSocket takes the socket as it is and frees the reader's buffer."""

    done = False

    def __init__(self, sock=None, rfile=None):
        self.socket, self.rfile = sock, rfile


class StalledSend(TimeoutError):
    """The client took no byte for too long."""


class WholeSendSocket:
    """A socket whose send() sends everything or fails, and which breaks when the reader stalls."""

    def __init__(self, sock, stall_seconds: float):
        self._sock = sock
        self._stall = stall_seconds
        # gevent's socket wraps a non-blocking one: its send raises BlockingIOError instead of waiting, and
        # calling it directly skips gevent's Python wrapper (send_if_free runs once per viewer per message).
        # Only a plain one: a TLS socket (gevent's SSLSocket is a subclass) must encrypt what it sends.
        raw = getattr(sock, "_sock", None) if type(sock) is gevent.socket.socket else None
        self._send_free = raw.send if raw is not None and raw.gettimeout() == 0.0 else self._send_now
        self._lock = gevent.lock.Semaphore()
        self._broken: OSError | None = None
        self.ahead = None  # set by the writer: the bytes that must go before any other (a frame's rest)

    def send(self, data) -> int:
        with self._lock:
            if self._broken is not None:  # a frame was cut: nothing more may follow it
                raise BrokenPipeError(f"connection broken: {self._broken}")
            first = self.ahead() if self.ahead is not None else b""  # e.g. a pong after half a frame
            view = memoryview(first + bytes(data) if first else data).cast("B")
            try:
                view = view[self._send_now(view):]  # most sends fit the kernel's buffer: no timer to arm
                while view:
                    with gevent.Timeout(self._stall, StalledSend(f"client read nothing for {self._stall:g}s")):
                        sent = self._sock.send(view)
                    view = view[sent:]
            except OSError as exc:
                self.abort(exc)
                raise
        return len(data)

    sendall = send

    def send_if_free(self, data: bytes) -> int | None:
        """What the kernel takes of `data` now, without waiting for it or for another writer; None when
        nothing could be sent (another writer on the socket, the kernel's buffer full, or broken)."""
        if self._broken is not None or self._lock.locked():
            return None
        # Not taken: a send that does not wait never switches greenlets, so no other writer can come between.
        try:
            sent = self._send_free(data)
        except BlockingIOError:
            return None
        except OSError as exc:
            self.abort(exc)
            return None
        return sent or None

    def _send_now(self, view) -> int:
        """Bytes of `view` the kernel takes without waiting (gevent's send with a zero timeout)."""
        try:
            return self._sock.send(view, 0, 0.0)
        except BlockingIOError:
            return 0

    @property
    def broken(self) -> bool:
        """True once the connection was cut."""
        return self._broken is not None

    def abort(self, reason: OSError) -> None:
        """Cut the connection: the reader greenlet sees end of file and Engine.IO closes the session."""
        if self._broken is None:
            self._broken = reason
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __getattr__(self, name):  # recv, close, fileno, ... of the real socket
        return getattr(self._sock, name)


class _ReadWhenAsked:
    """Stands in for simple-websocket's reader thread, which is not started: the greenlet that waits for
    a message reads the socket itself (`WholeFrameServer.receive`). An idle viewer parks one greenlet less."""

    def __init__(self, target):
        self.name = "simple_websocket.Base._thread (read by the receiver)"

    def start(self) -> None:
        pass


class WholeFrameServer(SimpleWebSocketServer):
    """simple-websocket's server on a WholeSendSocket, read by the greenlet that receives.

    What an idle connection holds counts (issue 17: 10,000 viewers per process): simple-websocket `dup()`s
    the HTTP socket (a second fd and two more libev watchers) and runs a reader greenlet per connection, and
    gevent's pywsgi keeps the request's 8 kB read buffer. Under gevent's server we take the handler's socket
    as it is (nothing reads it but us once it is upgraded), read it in `receive`, and close the buffer.
    """

    stall_seconds = 30.0
    reads_itself = False  # True: the handler's own socket, read in `receive`; False: simple-websocket's way

    def __init__(self, environ, **kwargs):
        mark = environ.get(UPGRADED)
        if mark is None or mark.socket is None:  # not our handler (e.g. a test server): the stock way
            super().__init__(environ, **kwargs)
            return
        self.environ, self.subprotocols, self.mode, self.reads_itself = environ, [], "gevent", True
        SimpleWebSocketBase.__init__(self, mark.socket, connection_type=ConnectionType.SERVER,
                                     **{**kwargs, "thread_class": _ReadWhenAsked})

    def handshake(self):
        # Base.__init__ has set self.sock and is about to write the handshake answer through it.
        self.sock.settimeout(None)  # no read timeout on a long-lived connection
        self.sock = WholeSendSocket(self.sock, self.stall_seconds)
        mark = self.environ.get(UPGRADED)
        if mark is not None:  # from here on the socket carries frames: no HTTP answer may follow
            mark.done = True
            if self.reads_itself and mark.rfile is not None:
                mark.rfile.close()  # frees its 8 kB buffer; pywsgi reads no more requests from it
        connection = self.ws
        connection.send = _without_extensions(connection.send)
        try:
            super().handshake()
        finally:
            del connection.send  # the class's send again: no wrapper on every frame
        if self.reads_itself and connection.connection is not None:
            # wsproto's connection after the handshake (same send, receive_data, events and state): the
            # handshake's HTTP parser, its buffers and its state machine are not kept for the connection's life.
            self.ws = connection.connection

    def receive(self, timeout=None):
        """The next message, None once the connection is closed; read here when no reader thread runs.
        (Engine.IO waits without a timeout; `timeout` applies to the stock path only.)"""
        if self.reads_itself:
            while self.connected and not self.input_buffer:
                self._read()
            timeout = 0
        return super().receive(timeout)

    def _read(self) -> None:
        """One read of the socket: frames to messages, control frames answered (simple-websocket's own
        event handling), the socket closed at its end."""
        try:
            data = self.sock.recv(self.receive_bytes)
            if not data:
                raise ConnectionResetError("the client closed the connection")
            self.ws.receive_data(data)
            self.connected = self._handle_events()
        except (OSError, LocalProtocolError):
            self.connected = False
        if not self.connected:
            self.sock.close()


def _without_extensions(send):
    """wsproto's send, accepting the connection without extensions: no permessage-deflate."""
    def accept(event):
        if isinstance(event, AcceptConnection) and event.extensions:
            event = AcceptConnection(subprotocol=event.subprotocol, extra_headers=event.extra_headers)
        return send(event)
    return accept


_framer = FrameProtocol(client=False, extensions=[])  # server frames: unmasked, no state between messages
_last_frame: list = [None, b""]  # (message, its frame): the previous viewer of the room got the same text


def text_frame(message: str) -> bytes:
    """The WebSocket text frame carrying `message`, built once for all the viewers of a room.

    Each viewer's Engine.IO packet encodes to a string of its own ("4" + the Socket.IO packet), so the
    texts are compared, not the objects: a different message almost always differs in length, which
    Python compares first."""
    if message != _last_frame[0]:
        _last_frame[:] = [message, bytes(_framer.send_data(message))]
    return _last_frame[1]


class WebSocketWSGI(engineio_gevent.WebSocketWSGI):
    """python-engineio's gevent WebSocket wrapper, building a WholeFrameServer."""

    server_class = WholeFrameServer
    queue = None  # the session's SendQueue

    def __call__(self, environ, start_response):
        session = getattr(self.app, "__self__", None)  # the engineio Socket whose handler we run
        queue = session.queue if session is not None and isinstance(session.queue, SendQueue) else None
        self.attach(self.server_class(environ, **self.server_args), queue)
        result = self.app(self)
        if self.ws.mode == "gunicorn":  # as the stock wrapper: the response was written on the socket
            raise StopIteration()
        return result

    def attach(self, ws, queue: SendQueue | None) -> None:
        """Write to `ws` the packets of the session's `queue` (None: not a SendQueue, no direct sends)."""
        self.ws = ws
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        # What was batched (the rest of a frame the kernel did not take, first) goes before anything another
        # greenlet sends on the socket: the reader's pong or close reply must not land inside a frame.
        ws.sock.ahead = self._take_pending
        if queue is not None:
            self.queue = queue
            queue.transport = ws.sock  # so an overflow can cut a writer stuck in send
            queue.writer = self

    def _take_pending(self) -> bytes:
        data = b"".join(self._pending)
        self._pending, self._pending_bytes = [], 0
        return data

    def send(self, message) -> None:
        """Send a message; from the writer greenlet, join it to the batch that `flush` sends."""
        if not self.ws.connected or self.ws.sock.broken:
            raise OSError("the WebSocket is closed")
        batching = self.queue is not None and self.queue.getter is gevent.getcurrent()
        if not batching or not isinstance(message, str):  # e.g. the upgrade's probe answer: now
            self.flush()
            super().send(message)
            return
        frame = text_frame(message)
        self._pending.append(frame)
        self._pending_bytes += len(frame)
        if self._pending_bytes >= FLUSH_BYTES:
            self.flush()

    def send_now(self, frame: bytes, waker: WriteWhenQueued) -> bool:
        """Write a frame from the calling greenlet when nothing waits to go before it and the kernel takes
        some of it at once; a rest goes first in the next batch, which `waker`'s writer sends. False:
        nothing was written."""
        if self._pending or not self.ws.connected:
            return False
        sent = self.ws.sock.send_if_free(frame)
        if sent is None:
            return False
        if sent < len(frame):
            self._pending.append(frame[sent:])
            self._pending_bytes += len(frame) - sent
            waker.wake(rest=True)
        return True

    def flush(self) -> None:
        """Send the frames collected so far, with one sendall."""
        if self._pending:
            self.ws.sock.sendall(self._take_pending())

    def close(self):
        try:
            self.flush()
        except OSError:
            pass  # broken: the close below finds the connection gone
        super().close()


def emit_to_room(server, room: str, event: str, data: dict, namespace: str) -> None:
    """python-socketio's emit of one event to a room of this server (what `Server.emit(..., to=room,
    ignore_queue=True)` does), with a WebSocket viewer whose queue is empty and whose writer is idle
    written to from here: the message is framed once, and each such viewer costs one send() and no
    greenlet (issue 17: 100,000 deliveries/s). The others get the packet through their queue as usual."""
    members = rooms_table(server, namespace).get(room)
    if not members:
        return
    encoded = server.packet_class(socketio_packet.EVENT, namespace=namespace, data=[event, data]).encode()
    if not isinstance(encoded, str):  # binary attachments: python-socketio's own way
        server.emit(event, data, to=room, namespace=namespace, ignore_queue=True)
        return
    eio_pkt = engineio_packet.Packet(engineio_packet.MESSAGE, encoded)
    frame = text_frame(eio_pkt.encode())
    sessions = server.eio.sockets
    for eio_sid in list(members.values()):
        session = sessions.get(eio_sid)
        if session is None:
            continue
        sends = session.queue
        if isinstance(sends, SendQueue) and sends.waker is not None and not session.closing and sends.send_now(frame):
            continue
        server.eio.send_packet(eio_sid, eio_pkt)


def rooms_table(server, namespace: str) -> dict:
    """python-socketio's rooms of a namespace: room -> {sid: eio_sid}."""
    return server.manager.rooms.get(namespace, {})


def packet_bytes(pkt) -> int:
    """Memory held by a queued Engine.IO packet (its data; None and control packets count little)."""
    return sys.getsizeof(getattr(pkt, "data", None))


class SendQueue(queue.JoinableQueue):
    """An Engine.IO client's packets, bounded by the bytes they hold."""

    limit = 16 * 1024 * 1024
    on_overflow = None  # callable(queue), set by install()
    transport = None  # the WholeSendSocket under a WebSocket client
    writer = None  # the WebSocketWSGI whose batch to flush before waiting
    getter = None  # the greenlet that last waited for packets: Engine.IO's writer
    on_put = None  # called after each put: a WebSocket's WriteWhenQueued wakes
    waker = None  # that WriteWhenQueued, while it writes the session's packets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bytes = 0
        self.overflowed = False
        self.batch = 0  # packets taken since the last blocking get (one Socket.poll)
        self._drained = gevent.event.Event()

    def put(self, item, block=True, timeout=None):
        if self.overflowed:
            return  # the client is being closed; it resumes from its last seq
        size = packet_bytes(item) if item is not None else 0
        if self.bytes + size > self.limit and item is not None:
            self._overflow()
            return
        self.bytes += size
        super().put(item, block, timeout)
        if self.on_put is not None:
            self.on_put()

    def get(self, block=True, timeout=None):
        if block:  # Socket.poll starts a batch: the previous one goes out first
            self.getter = gevent.getcurrent()
            self.batch = 0
            if self.writer is not None:
                self._flush()
        elif self.writer is None and self.batch >= POLL_PACKETS:  # a long-polling answer is full
            raise queue.Empty
        item = super().get(block, timeout)
        self.batch += 1
        if item is not None:
            self.bytes -= packet_bytes(item)
            self._drained.set()
        return item

    def send_now(self, frame: bytes) -> bool:
        """Write a WebSocket text frame straight to the socket (see `emit_to_room`) when the queue is empty
        and its writer idle; False: nothing written, the packet goes through the queue."""
        waker = self.waker
        if waker is None or waker.task is not None or waker.ended or self.overflowed or self.queue:
            return False  # (`queue`: gevent's deque of the packets waiting; empty() is two calls more)
        return self.writer.send_now(frame, waker)

    def _flush(self) -> None:
        try:
            self.writer.flush()
        except OSError:
            pass  # the transport is cut: the reader sees end of file and Engine.IO ends the session

    def wait_room(self, below: int, timeout: float) -> bool:
        """Wait until the queue holds at most `below` bytes; False on timeout or overflow."""
        while self.bytes > below and not self.overflowed:
            self._drained.clear()
            if not self._drained.wait(timeout):
                return False
        return not self.overflowed

    def _overflow(self) -> None:
        self.overflowed = True
        while not self.empty():
            super().get(block=False)
            self.task_done()
        self.bytes = 0
        self._drained.set()
        super().put(None)  # the writer stops at once instead of sending what is left
        if self.on_put is not None:
            self.on_put()
        if self.transport is not None:
            self.transport.abort(StalledSend(f"over {self.limit} bytes waiting to be sent"))
        if self.on_overflow is not None:
            gevent.spawn(self.on_overflow, self)  # not inside an emit that is iterating over a room


class PingLater:
    """An Engine.IO session's next ping, sent by a libev timer: python-engineio's `Socket._send_ping` is a
    greenlet asleep for the whole ping interval (25 s), one per viewer, ~8 kB each while it waits. What
    it does once awake is done here: nothing if the session is closing, else note the time and send PING."""

    def __init__(self, session):
        self.session = session
        self._timer = gevent.get_hub().loop.timer(session.server.ping_interval)

    def start(self) -> None:
        self._timer.start(gevent.spawn_raw, self._ping)  # the send in a greenlet: never block the hub

    def _ping(self) -> None:
        self._timer.close()
        session = self.session
        if not session.closing and not session.closed:
            session.last_ping = time.time()
            session.send(engineio_packet.Packet(engineio_packet.PING))

    def join(self, timeout=None) -> None:  # the Thread interface; nobody waits for a ping
        pass


class WriteWhenQueued:
    """An Engine.IO WebSocket session's writer, with no greenlet while there is nothing to send.

    python-engineio runs a writer greenlet per WebSocket for the session's life, parked on the send queue
    (~8 kB per idle viewer, issue 17). This does its work (`Socket._websocket_handler`'s `writer`: send
    what is queued, stop and close the WebSocket at None or a send error) in a greenlet started by the
    queue's `put` and ended once the queue is empty: one at a time, so packets go out in order.
    """

    def __init__(self, session, ws):
        self.queue, self.ws = session.queue, ws
        self.task: gevent.Greenlet | None = None
        self.ended = False

    def start(self) -> None:
        self.queue.on_put = self.wake
        self.queue.waker = self
        self.wake()

    def wake(self, rest: bool = False) -> None:
        """Start writing if packets wait (or `rest`: a frame's rest waits in the WebSocket's batch)."""
        if self.task is None and not self.ended and (rest or not self.queue.empty()):
            self.task = gevent.spawn(self._write)

    def join(self, timeout=None) -> None:
        if self.task is not None:
            self.task.join(timeout)

    def _write(self) -> None:
        sends, ws = self.queue, self.ws
        sends.getter = gevent.getcurrent()  # the WebSocketWSGI batches this greenlet's frames
        try:
            while True:
                try:
                    pkt = sends.get(block=False)
                except queue.Empty:
                    ws.flush()  # may wait for the socket: packets queued meanwhile are taken next
                    if sends.empty():
                        self.task = sends.getter = None  # no switch since the test above: a put sees it
                        return
                    continue
                sends.task_done()
                if pkt is None:
                    break
                ws.send(pkt.encode())
        except Exception:  # noqa: BLE001 - as Engine.IO's writer: any send error ends the session's writing
            pass
        self.ended, self.task, sends.waker = True, None, None
        ws.close()


def background_task(target, args=(), kwargs=None):
    """Engine.IO's background tasks: a greenlet each (python-engineio's gevent Thread), but a ping's wait
    is a timer (`PingLater`) and a WebSocket's writer runs only while there is something to send
    (`WriteWhenQueued`)."""
    if getattr(target, "__func__", None) is EngineIOSocket._send_ping:
        return PingLater(target.__self__)
    writer = _websocket_writer(target)
    if writer is not None:
        return writer
    return engineio_gevent.Thread(target, args, kwargs or {})


def _websocket_writer(target) -> WriteWhenQueued | None:
    """A WriteWhenQueued for python-engineio's WebSocket writer (the `writer` closure of
    `Socket._websocket_handler`, over the session and its WebSocket), None for any other task."""
    if getattr(target, "__qualname__", "") != "Socket._websocket_handler.<locals>.writer":
        return None
    cells = dict(zip(target.__code__.co_freevars, (c.cell_contents for c in target.__closure__ or ()), strict=True))
    session, ws = cells.get("self"), cells.get("ws")
    if not isinstance(getattr(session, "queue", None), SendQueue) or not isinstance(ws, WebSocketWSGI):
        return None
    return WriteWhenQueued(session, ws)


def install(eio, *, queue_limit: int, stall_seconds: float) -> None:
    """Use whole-frame WebSockets, bounded send queues and timer pings on the python-engineio server `eio`."""
    frames = type("WholeFrameServer", (WholeFrameServer,), {"stall_seconds": stall_seconds})
    websocket = type("WebSocketWSGI", (WebSocketWSGI,), {"server_class": frames})
    queue_class = type("SendQueue", (SendQueue,), {"limit": queue_limit,
                                                    "on_overflow": staticmethod(lambda q: _close_owner(eio, q))})
    eio._async = {**eio._async, "websocket": websocket, "queue": queue_class, "thread": background_task}


def _close_owner(eio, send_queue: SendQueue) -> None:
    for eio_sid, client in list(eio.sockets.items()):
        if client.queue is send_queue:
            close(eio, eio_sid, f"it reads too slowly (over {send_queue.limit} bytes waiting to be sent); "
                                "it may reconnect and resume")
            return


def close(eio, eio_sid: str, why: str) -> None:
    """Close an Engine.IO client now, saying why in the log."""
    client = eio.sockets.get(eio_sid)
    if client is not None and not client.closed:
        log.warning("closing client %s: %s", eio_sid, why)
        client.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)  # no wait: its writer may be gone
        transport = getattr(client.queue, "transport", None)
        if transport is not None:  # a client that ignores the close frame must not keep its socket
            transport.abort(ConnectionAbortedError(why))

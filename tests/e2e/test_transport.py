"""The transport shim: whole sends on a socketpair, the bounded send queue, batched frames, and (against the
real server) no permessage-deflate."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import engineio
import gevent
import pytest
import socketio
from engineio import packet
from engineio.socket import Socket as EngineIOSocket
from gevent import socket as gsocket
from gevent import ssl as gssl
from wsproto.connection import Connection as WsprotoConnection
from wsproto.frame_protocol import FrameProtocol, Opcode

from tailapp import protocol as p
from tailapp.socket_json import TextPacket
from tailapp.transport import (
    UPGRADED,
    PingLater,
    SendQueue,
    StalledSend,
    UpgradeMark,
    WebSocketWSGI,
    WholeFrameServer,
    WholeSendSocket,
    WriteWhenQueued,
    background_task,
    emit_to_room,
    install,
    text_frame,
)
from tests.e2e.steps import self_signed_cert
from tests.hostile import RawSocketIO


@pytest.fixture
def pair():
    """A connected pair of gevent sockets, (writer, reader)."""
    writer, reader = gsocket.socketpair()
    yield writer, reader
    writer.close()
    reader.close()


def test_a_send_bigger_than_the_socket_buffers_arrives_whole(pair):
    writer, reader = pair
    writer.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    data = bytes(range(256)) * 16_384  # 4 MiB: many partial writes
    partial = writer.send(data)
    assert partial < len(data)  # what simple-websocket did: the rest of the frame was lost
    while partial:
        partial -= len(reader.recv(partial))
    whole = WholeSendSocket(writer, stall_seconds=5)
    received = bytearray()

    def read_all():
        while len(received) < len(data):
            received.extend(reader.recv(65536))

    sender = gevent.spawn(whole.send, data)
    gevent.joinall([sender, gevent.spawn(read_all)], timeout=10, raise_error=True)
    assert sender.value == len(data) and bytes(received) == data


def test_a_reader_that_takes_nothing_breaks_the_connection(pair):
    writer, reader = pair
    whole = WholeSendSocket(writer, stall_seconds=0.3)
    with pytest.raises(StalledSend):
        whole.send(b"x" * 50_000_000)
    with pytest.raises(BrokenPipeError):  # nothing may follow half a frame
        whole.send(b"close frame")
    assert reader.recv(1 << 30)  # the bytes that made it, then end of file
    while data := reader.recv(1 << 30):
        assert data


def lines_packet(size: int) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, data="x" * size)


def test_send_queue_counts_bytes_and_overflows_into_a_close():
    closed = []
    queue_class = type("Q", (SendQueue,), {"limit": 10_000, "on_overflow": staticmethod(closed.append)})
    q = queue_class()
    q.put(lines_packet(4_000))
    q.put(lines_packet(4_000))
    assert 8_000 < q.bytes < 8_200 and not q.overflowed
    q.get()
    q.task_done()
    assert q.bytes < 4_200
    q.put(lines_packet(4_000))
    q.put(lines_packet(4_000))  # over 10,000: everything is dropped, the writer told to stop
    assert q.overflowed and q.bytes == 0
    q.put(lines_packet(10))  # ignored from now on
    assert q.get(block=False) is None and q.empty()
    gevent.sleep(0)
    assert closed == [q]


def test_wait_room_returns_once_the_writer_took_enough():
    q = SendQueue()
    for _ in range(4):
        q.put(lines_packet(1_000))
    assert not q.wait_room(1_500, timeout=0.05)
    gevent.spawn_later(0.05, lambda: [q.get() for _ in range(3)])
    assert q.wait_room(1_500, timeout=2)


def test_split_lines_bounds_packets_in_bytes_and_keeps_every_line():
    texts = ["a" * 400, "é" * 300, "b" * 10, "c" * 2_000, "d"]
    payload = {"job": "j", "seq": 7, "lines": texts, "times": list(range(5))}
    packets = list(p.split_lines(payload, max_bytes=1_000))
    assert [pk["seq"] for pk in packets] == [7, 9, 10, 11]  # "é" is two bytes: 400 + 600 > 1000
    assert [t for pk in packets for t in pk["lines"]] == texts
    assert [t for pk in packets for t in pk["times"]] == list(range(5))
    assert all(p.text_bytes(pk["lines"]) <= 1_000 or len(pk["lines"]) == 1 for pk in packets)
    assert list(p.split_lines(payload, max_bytes=10_000)) == [payload]


class CountingSocket:
    """A socket that counts the send calls made on it."""

    def __init__(self, sock):
        self.sock, self.sends = sock, 0

    def send(self, data, *args):  # args: gevent's flags and timeout
        self.sends += 1
        return self.sock.send(data, *args)


class OpenWebSocket:
    """The part of simple-websocket's Server that WebSocketWSGI.send reads."""

    connected = True

    def __init__(self, sock):
        self.sock = sock


def test_the_frames_of_one_batch_go_out_in_one_send(pair):
    writer, reader = pair
    counting = CountingSocket(writer)
    q = SendQueue()
    wsgi = WebSocketWSGI(None, None)
    wsgi.attach(OpenWebSocket(WholeSendSocket(counting, 5)), q)
    messages = ["4" + "x" * n for n in (10, 200, 70_000)]

    def engineio_writer():  # what Socket.poll and the writer greenlet do with two batches
        for sent_before, batch in enumerate((messages[:2], messages[2:])):
            for m in batch:
                q.put(packet.Packet(packet.MESSAGE, data=m[1:]))
            taken = [q.get(timeout=1)] + [q.get(block=False) for _ in batch[1:]]
            assert counting.sends == sent_before  # a batch goes out when the next poll starts
            for pkt in taken:
                wsgi.send(pkt.encode())
        with pytest.raises(gevent.queue.Empty):
            q.get(timeout=0.01)  # the next poll: the batch goes out before waiting

    gevent.spawn(engineio_writer).get(timeout=5)
    assert counting.sends == 2
    client = FrameProtocol(client=True, extensions=[])
    received = b""
    while len(received) < sum(len(text_frame(m)) for m in messages):
        received += reader.recv(1 << 20)
    client.receive_bytes(received)
    frames = list(client.received_frames())
    assert [(f.opcode, f.payload) for f in frames] == [(Opcode.TEXT, m) for m in messages]


def test_a_room_message_is_framed_once():
    data = "2/tail," + "x" * 100  # one Socket.IO packet to a room: an Engine.IO packet (and string) per viewer
    first, second = (packet.Packet(packet.MESSAGE, data=data).encode() for _ in range(2))
    assert first is not second
    assert text_frame(first) is text_frame(second)
    assert text_frame(first[:50]) != text_frame(first)


def test_the_server_declines_permessage_deflate(stack):
    """Every browser and node client offers it; compressing each frame per viewer cost most of the server's
    CPU under fan-out (BENCHMARKS.md, "User's path")."""
    parts = urlsplit(stack.url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
    head = answer.split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 101")
    assert "sec-websocket-extensions" not in head


def _server_fds(stack) -> int:
    return len(os.listdir(f"/proc/{stack.server.pid}/fd"))


def test_a_websocket_viewer_holds_one_socket_in_the_server_and_is_read_without_a_thread(stack):
    """simple-websocket dup()ed each connection's socket (two fds per viewer, issue 17's 10,000 viewers) and
    read it in a greenlet of its own; the transport takes pywsgi's socket as it is and reads it in the
    greenlet that waits for messages. The connection still answers: the namespace connect is read."""
    log = stack.tmp / "server.log"
    log_before = log.stat().st_size
    before = _server_fds(stack)
    clients = [RawSocketIO(stack.url) for _ in range(30)]
    try:
        for client in clients:
            assert client.open.startswith("0{")  # Engine.IO open
            assert client.connect_namespace().startswith("40/tail,")  # read by the waiting greenlet, answered
        assert _server_fds(stack) - before <= 30 + 3  # 3: Redis connections the server may open meanwhile
    finally:
        for client in clients:
            client.close()
    deadline = time.monotonic() + 10
    while _server_fds(stack) > before + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _server_fds(stack) <= before + 3  # closed connections leave nothing behind
    with open(log, "rb") as f:  # and no HTTP answer was tried on a closed WebSocket (EBADF, logged)
        f.seek(log_before)
        assert b"Traceback" not in f.read()


def test_a_sessions_ping_waits_on_a_timer_and_is_sent_unless_the_session_closed():
    """python-engineio parked a greenlet per viewer for the 25 s between pings; `install` makes the wait a
    timer, and the ping still goes out (or not, once the session closed), like `Socket._send_ping`."""
    eio = engineio.Server(async_mode="gevent", ping_interval=0.05)
    install(eio, queue_limit=1 << 20, stall_seconds=5)
    live, closed = EngineIOSocket(eio, "live"), EngineIOSocket(eio, "closed")
    tasks = [eio.start_background_task(s._send_ping) for s in (live, closed)]
    assert all(isinstance(task, PingLater) for task in tasks)
    closed.closed = True
    gevent.sleep(0.3)
    assert live.queue.get(timeout=1).packet_type == packet.PING and live.last_ping
    assert closed.queue.empty()
    assert isinstance(eio.start_background_task(lambda: None), gevent.Greenlet)  # other tasks: greenlets


def test_a_quiet_websocket_viewer_is_pinged_by_the_server(stack):
    """The whole path of the timer ping: a viewer that sends nothing gets Engine.IO's PING after the
    server's ping interval (25 s), so clients do not give the connection up."""
    client = RawSocketIO(stack.url, timeout=40)
    try:
        interval = json.loads(client.open[1:])["pingInterval"] / 1000
        started = time.monotonic()
        assert client.connect_namespace().startswith("40/tail,")  # joined: not closed as a stray
        while "2" not in client.pending:
            client._events()
        assert interval - 1 <= time.monotonic() - started <= interval + 10
    finally:
        client.close()


def test_a_stock_client_that_upgraded_and_left_leaves_no_error_in_the_server_log(stack):
    """A client that starts on long-polling and upgrades (the stock default) leaves a WSGI request whose
    status was set; once its WebSocket closed, pywsgi tried to write that HTTP answer into the closed
    socket (EBADF, logged with a traceback) now that the socket is not a dup."""
    log = stack.tmp / "server.log"
    log_before = log.stat().st_size
    client = socketio.Client(reconnection=False)
    client.connect(stack.url, namespaces=["/tail"], transports=["polling", "websocket"], wait_timeout=10)
    deadline = time.monotonic() + 10
    while client.transport() != "websocket" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.transport() == "websocket"
    client.disconnect()
    time.sleep(1)
    with open(log, "rb") as f:
        f.seek(log_before)
        assert b"Traceback" not in f.read()


def test_an_open_websocket_keeps_no_handshake_state_and_still_talks(pair):
    server_end, client_end = pair
    environ = {"HTTP_HOST": "x", "HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "Upgrade",
               "HTTP_SEC_WEBSOCKET_KEY": base64.b64encode(os.urandom(16)).decode(), "HTTP_SEC_WEBSOCKET_VERSION": "13",
               UPGRADED: UpgradeMark(server_end)}
    ws = WholeFrameServer(environ)
    assert client_end.recv(4096).startswith(b"HTTP/1.1 101")
    # wsproto's connection itself: not its WSConnection, whose handshake keeps an HTTP parser and its buffers
    assert type(ws.ws) is WsprotoConnection and ws.reads_itself
    client_end.sendall(FrameProtocol(client=True, extensions=[]).send_data("4hello", fin=True))
    assert ws.receive() == "4hello"
    ws.send("3pong")
    assert client_end.recv(4096) == text_frame("3pong")


class _FakeWebSocket(WebSocketWSGI):
    """What WriteWhenQueued writes to: the frames sent, flushes and the close, in order."""

    def __init__(self):  # no server, no socket
        self.log: list = []

    def send(self, message):
        self.log.append(message)

    def flush(self):
        self.log.append("flush")

    def close(self):
        self.log.append("close")


def test_a_websocket_writer_runs_only_while_packets_wait_and_keeps_their_order():
    q = SendQueue()
    ws = _FakeWebSocket()
    writer = WriteWhenQueued(SimpleNamespace(queue=q), ws)
    writer.start()
    assert writer.task is None  # nothing queued: no greenlet
    for n in range(3):
        q.put(packet.Packet(packet.MESSAGE, f"m{n}"))
    assert writer.task is not None
    gevent.sleep(0)
    assert writer.task is None and ws.log == ["4m0", "4m1", "4m2", "flush"]  # sent, flushed, ended
    q.put(packet.Packet(packet.MESSAGE, "m3"))
    q.put(None)  # Engine.IO's handler ends the session: the writer closes the WebSocket
    writer.join()
    assert ws.log[4:] == ["4m3", "close"] and writer.ended
    q.put(packet.Packet(packet.MESSAGE, "late"))
    assert writer.task is None  # an ended writer starts no more


def test_engineios_websocket_writer_is_replaced_by_one_that_runs_when_queued():
    class Started(Exception):
        pass

    def start_background_task(target):
        raise Started(background_task(target))

    server = SimpleNamespace(ping_interval=25, ping_timeout=20, max_http_buffer_size=1_000,
                             start_background_task=start_background_task)
    session = SimpleNamespace(server=server, connected=False, queue=SendQueue())
    with pytest.raises(Started) as started:
        EngineIOSocket._websocket_handler(session, _FakeWebSocket())
    assert isinstance(started.value.args[0], WriteWhenQueued)  # python-engineio's writer, recognised


def _viewer_of_room(sock) -> tuple[SimpleNamespace, SendQueue, WebSocketWSGI, WriteWhenQueued]:
    """A python-socketio server (what emit_to_room reads of it) with one WebSocket viewer in room "r"
    on `sock`: its queue, its WebSocket and its writer, as python-engineio's handler sets them up."""
    q = SendQueue()
    wsgi = WebSocketWSGI(None, None)
    wsgi.attach(OpenWebSocket(WholeSendSocket(sock, 5)), q)
    writer = WriteWhenQueued(SimpleNamespace(queue=q), wsgi)
    writer.start()
    session = SimpleNamespace(queue=q, closing=False, send=q.put)
    server = SimpleNamespace(manager=SimpleNamespace(rooms={p.NAMESPACE: {"r": {"sid": "eio"}}}),
                             packet_class=TextPacket,
                             eio=SimpleNamespace(sockets={"eio": session},
                                                 send_packet=lambda eio_sid, pkt: session.send(pkt)))
    return server, q, wsgi, writer


def _frames(reader, count: int) -> list[str]:
    """The next `count` text messages read from `reader` (wsproto hands a long one over in parts)."""
    client, messages, part = FrameProtocol(client=True, extensions=[]), [], ""
    while len(messages) < count:
        client.receive_bytes(reader.recv(1 << 20))
        for frame in client.received_frames():
            part += frame.payload
            if frame.message_finished:
                messages.append(part)
                part = ""
    return messages


def test_a_room_message_goes_straight_to_an_idle_viewers_socket_with_no_writer(pair):
    writer_end, reader = pair
    counting = CountingSocket(writer_end)
    server, q, _, writer = _viewer_of_room(counting)
    emit_to_room(server, "r", "lines", {"seq": 1, "lines": ["one"]}, p.NAMESPACE)
    assert counting.sends == 1 and q.empty() and writer.task is None  # written here: nothing queued or woken
    assert _frames(reader, 1) == ['42' + p.NAMESPACE + ',["lines",{"seq":1,"lines":["one"]}]']


def test_a_pong_sent_while_a_frame_is_half_written_goes_after_the_frame(pair):
    """The reader greenlet answers a client's ping on the same socket (simple-websocket's event handling):
    it must not land inside a frame whose rest still waits for the writer."""
    writer_end, reader = pair
    writer_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    server, _, wsgi, writer = _viewer_of_room(writer_end)
    frames = []

    def client_reads():
        client = FrameProtocol(client=True, extensions=[])
        while not any(frame.opcode is Opcode.PONG for frame in frames):
            client.receive_bytes(reader.recv(1 << 20))
            frames.extend(client.received_frames())  # raises on bytes that are not a valid frame

    reading = gevent.spawn(client_reads)
    big = "x" * 500_000
    emit_to_room(server, "r", "lines", {"seq": 1, "lines": [big]}, p.NAMESPACE)
    assert wsgi._pending  # part written at once, the rest waits for the writer greenlet
    # The reader greenlet's answer to a ping, before the writer greenlet has run:
    wsgi.ws.sock.send(bytes(FrameProtocol(client=False, extensions=[]).pong(b"ping data")))
    reading.get(timeout=10)
    writer.join(5)
    text = "".join(frame.payload for frame in frames if frame.opcode in (Opcode.TEXT, Opcode.CONTINUATION))
    assert frames[-1].opcode is Opcode.PONG and frames[-1].payload == b"ping data"
    assert json.loads(text[len("42" + p.NAMESPACE + ","):])[1]["lines"] == [big]


def test_the_rest_of_a_frame_the_kernel_did_not_take_goes_before_the_next_messages(pair):
    writer_end, reader = pair
    writer_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    server, q, wsgi, writer = _viewer_of_room(writer_end)
    big = "x" * 500_000
    emit_to_room(server, "r", "lines", {"seq": 1, "lines": [big]}, p.NAMESPACE)
    assert wsgi._pending and writer.task is not None  # part written at once, the rest left to the writer
    emit_to_room(server, "r", "lines", {"seq": 2, "lines": ["two"]}, p.NAMESPACE)
    assert not q.empty()  # the writer is busy: this one queues behind the rest
    frames = _frames(reader, 2)
    writer.join(5)
    assert [json.loads(f.split(",", 1)[1])[1]["seq"] for f in frames] == [1, 2]
    assert json.loads(frames[0].split(",", 1)[1])[1]["lines"] == [big]


def test_a_direct_send_over_tls_goes_encrypted(tmp_path):
    """`send_if_free` skips gevent's wrapper on a plain socket; over TLS (gunicorn's gevent worker with a
    certificate) its bytes must still go through the TLS layer, or the viewer's connection is garbage."""
    cert, key = self_signed_cert(tmp_path)
    server_side = gssl.SSLContext(gssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    client_side = gssl.SSLContext(gssl.PROTOCOL_TLS_CLIENT)
    client_side.load_verify_locations(cert)
    a, b = gsocket.socketpair()
    handshakes = [gevent.spawn(server_side.wrap_socket, a, server_side=True),
                  gevent.spawn(client_side.wrap_socket, b, server_hostname="localhost")]
    gevent.joinall(handshakes, timeout=10, raise_error=True)
    writer, reader = (handshake.value for handshake in handshakes)
    try:
        assert writer._sock.gettimeout() == 0.0  # what the fast path looks for: the test would prove nothing else
        assert WholeSendSocket(writer, stall_seconds=5).send_if_free(b"a whole frame") == len(b"a whole frame")
        with gevent.Timeout(5):
            assert reader.recv(100) == b"a whole frame"
    finally:
        writer.close()
        reader.close()

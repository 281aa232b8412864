"""The transport shim in-process: whole sends on a socketpair, and the bounded send queue."""

from __future__ import annotations

import socket

import gevent
import pytest
from engineio import packet
from gevent import socket as gsocket

from tailapp import protocol as p
from tailapp.transport import SendQueue, StalledSend, WholeSendSocket


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

"""The relay's backlog pacing, in-process against a fake Socket.IO server: a replay waits for the viewer's
queue, and a viewer too slow for its job's live lines is told to resync instead of holding them all."""

from __future__ import annotations

from types import SimpleNamespace

import gevent
import gevent.event
from engineio import packet

from tailapp import protocol as p
from tailapp.relay import HELD_BYTES, Handshake, Relay
from tailapp.socket_json import TextPacket
from tailapp.transport import SendQueue

JOB = "a" * 32


class FakeServer:
    """What the relay uses of python-socketio's Server: one client, "sid" on Engine.IO session "eio"."""

    def __init__(self):
        self.queue = SendQueue()
        self.eio = SimpleNamespace(sockets={"eio": SimpleNamespace(queue=self.queue, closed=False)},
                                   send_packet=self._send_packet)
        self.packet_class = TextPacket
        self.manager = SimpleNamespace(eio_sid_from_sid=lambda sid, ns: "eio", rooms={})
        self.emitted: list[tuple[str, dict]] = []

    def emit(self, event, payload, to=None, namespace=None, **_):
        self.emitted.append((event, payload))
        lines = payload["lines"] if event == p.LINES else []  # a job event's "lines" is a count, or None
        self.queue.put(packet.Packet(packet.MESSAGE, data="".join(lines)))

    def _send_packet(self, eio_sid: str, pkt: packet.Packet) -> None:  # a room's emit (transport.emit_to_room)
        self.emit(*TextPacket(encoded_packet=pkt.data).data)


class FakeStore:
    """A job of `count` lines of `width` characters."""

    def __init__(self, count: int, width: int):
        self.count, self.width = count, width
        self.archive = None

    def job_hash(self, job_id):
        return {"id": job_id, "state": "running"}

    def publish_marker(self, job_id, token):
        pass

    def read_lines(self, job_id, after, count):
        seqs = range(after + 1, min(self.count, after + count) + 1)
        return [str(s).rjust(self.width, "x") for s in seqs], list(seqs)


def relay_with(server: FakeServer, store: FakeStore) -> tuple[Relay, Handshake]:
    relay = Relay(server, store, feed=None)
    handshake = Handshake("sid", JOB)
    relay.syncing[JOB] = {"sid": handshake}
    return relay, handshake


def test_a_replay_waits_for_the_viewer_to_take_its_packets():
    server = FakeServer()
    relay, handshake = relay_with(server, FakeStore(count=40, width=200_000))  # 8 MB, 1 MiB packets
    replay = gevent.spawn(relay._send_backlog, handshake, 0)
    gevent.sleep(0.2)
    sent = [pk for event, pk in server.emitted if event == p.LINES]
    assert 2 <= len(sent) <= 4 and not replay.ready()  # paused on a queue of about 2 MiB
    while not replay.ready():  # the viewer reads
        while not server.queue.empty():
            server.queue.get()
        gevent.sleep(0.01)
    sent = [pk for event, pk in server.emitted if event == p.LINES]
    assert replay.value == 40 and [s for pk in sent for s in range(pk["seq"], pk["seq"] + len(pk["lines"]))] == \
        list(range(1, 41))


def test_a_viewer_too_slow_for_the_live_lines_gets_resync_not_unbounded_memory():
    server = FakeServer()
    relay, handshake = relay_with(server, FakeStore(count=40, width=200_000))
    listening = gevent.event.Event()
    listening.set()  # the job's channel is subscribed
    replay = gevent.spawn(relay._replay, handshake, 0, {"id": JOB}, listening)
    gevent.sleep(0.1)  # paused: the viewer reads nothing
    live = {"job": JOB, "seq": 41, "lines": ["y" * 1_000_000] * (HELD_BYTES // 1_000_000 + 1), "times": [0] * 5}
    handshake.held.append((p.LINES, live))  # what the relay's feed holds for it meanwhile
    replay.join(timeout=3)
    assert replay.ready()
    assert server.emitted[-1] == (p.RESYNC, {"job": JOB}) and not relay.syncing  # it resumes by seq

"""Fakes of what cannot run in-process: python-socketio's Server (rooms, per-client send queues, emit), and a
store whose Redis is a list of published messages."""

from __future__ import annotations

from types import SimpleNamespace

import gevent
import gevent.event
from engineio import packet

from tailapp import protocol as p
from tailapp.socket_json import TextPacket
from tailapp.store import Lines, decode, decode_elements, encode_marker
from tailapp.transport import SendQueue


class FakeServer:
    """The parts of python-socketio's Server the relay, the outbox and rooms.py use. Each client has an
    inbox of the (event, payload) it was sent; `emitted` lists every emit with its target."""

    def __init__(self):
        self.manager = SimpleNamespace(rooms={p.NAMESPACE: {}}, eio_sid_from_sid=lambda sid, ns: f"eio-{sid}",
                                       is_connected=lambda sid, ns: sid in self.manager.rooms[ns].get(None, {}))
        self.eio = SimpleNamespace(sockets={}, send_packet=self._send_packet)
        self.packet_class = TextPacket
        self.inbox: dict[str, list[tuple[str, dict]]] = {}
        self.emitted: list[tuple[object, str, dict]] = []

    def connect(self, sid: str) -> None:
        self.eio.sockets[f"eio-{sid}"] = SimpleNamespace(queue=SendQueue(), closed=False)
        self.inbox[sid] = []
        self.enter_room(sid, None)

    def queue_of(self, sid: str) -> SendQueue:
        return self.eio.sockets[f"eio-{sid}"].queue

    def emit(self, event, payload, to=None, namespace=None, **_options):
        self.emitted.append((to, event, payload))
        for room in to if isinstance(to, list) else [to]:
            for sid in self.manager.rooms[p.NAMESPACE].get(room, {sid: None for sid in self.inbox if sid == room}):
                self.inbox[sid].append((event, payload))

    def _send_packet(self, eio_sid: str, pkt: packet.Packet) -> None:
        """Engine.IO's send of a Socket.IO packet to one client (tailapp.transport.emit_to_room uses it)."""
        sid = eio_sid.removeprefix("eio-")
        event, payload = TextPacket(encoded_packet=pkt.data).data
        self.emitted.append((sid, event, payload))
        if sid in self.inbox:
            self.inbox[sid].append((event, payload))

    def enter_room(self, sid, room, namespace=None):
        self.manager.rooms[p.NAMESPACE].setdefault(room, {})[sid] = f"eio-{sid}"

    def leave_room(self, sid, room, namespace=None):
        self.manager.rooms[p.NAMESPACE].get(room, {}).pop(sid, None)

    def close_room(self, room, namespace=None):
        self.manager.rooms[p.NAMESPACE].pop(room, None)

    def rooms(self, sid, namespace=None):
        return [room for room, members in self.manager.rooms[p.NAMESPACE].items() if sid in members]

    def seqs(self, sid: str) -> list[int]:
        """The seq of every line the client was sent, in the order sent."""
        return [seq for event, pk in self.inbox[sid] if event == p.LINES
                for seq in range(pk["seq"], pk["seq"] + len(pk["lines"]))]

    def busy(self, sid: str) -> None:
        """The client's socket still has a packet to write."""
        self.queue_of(sid).put(packet.Packet(packet.MESSAGE, data="x"))


class RecordedStore:
    """A store whose Redis is what `published` holds: lines for read_lines, the job from the last J message.
    `publish_marker` adds the marker to `published` as Redis would."""

    def __init__(self, job_id: str, latency: bool = False):
        self.job_id = job_id
        self.published: list[str] = []
        self.elements: list[str] = []
        # With latency, Redis runs a call at once but its answer comes at the next `answer()`: the test's
        # other steps (writes, feed reads, subscribes) can happen in between.
        self.latency = latency
        self._answers = gevent.event.Event()

    def _answer(self, value):
        if self.latency:
            self._answers.wait()
        return value

    def answer(self) -> None:
        """Answer the calls made so far; calls made from here on wait for the next answer()."""
        answers, self._answers = self._answers, gevent.event.Event()
        answers.set()

    def write(self, data: str) -> None:
        """Apply a recorded message as the Lua script does: store, then publish."""
        message = decode(data)
        if isinstance(message, Lines):
            self.elements += message.body.split("\n")
        self.published.append(data)

    def read_lines(self, job_id, after, count):
        return self._answer(decode_elements(self.elements[after : after + count]))

    def job_hash(self, job_id):
        fields = [decode(d).fields for d in self.published if d.startswith("J")]
        return self._answer(fields[-1] if fields else {})

    def publish_marker(self, job_id, token):
        self.published.append(encode_marker(token))
        self._answer(None)

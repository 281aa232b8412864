"""Lines on their way from the relay to a job's room, batched adaptively.

Lines go to the room at once when its viewers' sockets have nothing queued. While some viewer's socket
is still writing earlier packets, or more messages wait on the relay's feed, new lines of the job are
held and merged, and go together as soon as the room is idle again (MAX_HOLD at the latest). Holding
costs no latency a viewer would notice: its socket could not have sent them sooner. One viewer of a
1,000 lines/s job gets every line on its own; a hundred viewers get fewer, larger packets.
"""

from __future__ import annotations

import time

import gevent

from tailapp import protocol as p
from tailapp import rooms

RECHECK = 0.001  # how often a held job looks again whether its room is idle
MAX_HOLD = 0.02  # held lines go after this long, idle room or not


class Outbox:
    """Pending `lines` payloads per job; the relay calls flush() before anything that must follow them."""

    def __init__(self, server, emit_options: dict):
        self.server = server  # the python-socketio Server
        self.emit_options = emit_options
        self.behind = False  # set by the relay while more messages wait on its feed
        self.pending: dict[str, dict] = {}  # job id -> lines held back
        self.pending_bytes: dict[str, int] = {}  # job id -> text bytes held back
        self.since: dict[str, float] = {}  # job id -> when the oldest held line was held
        self._rechecking: set[str] = set()

    def lines(self, job_id: str, payload: dict) -> None:
        """Send a `lines` payload to the job's room now, or hold it to merge with the next ones."""
        held = self.pending.get(job_id)
        if held is not None:
            held["lines"].extend(payload["lines"])
            held["times"].extend(payload["times"])
            self.pending_bytes[job_id] += p.text_bytes(payload["lines"])
            if self.pending_bytes[job_id] >= p.PACKET_BYTES:  # a full packet: waiting would only grow it
                self.flush(job_id)
            return
        if not self.behind and not self._busy(job_id):
            self._emit(job_id, payload)
            return
        # A copy: the payload itself may also sit in a subscription's held list.
        self.pending[job_id] = {**payload, "lines": list(payload["lines"]), "times": list(payload["times"])}
        self.pending_bytes[job_id] = p.text_bytes(payload["lines"])
        self.since[job_id] = time.monotonic()
        if not self.behind:
            self._recheck_later(job_id)

    def flush(self, job_id: str) -> None:
        """Send the job's held lines now."""
        payload = self.pending.pop(job_id, None)
        self.since.pop(job_id, None)
        self.pending_bytes.pop(job_id, None)
        if payload is not None:
            self._emit(job_id, payload)

    def flush_all(self) -> None:
        for job_id in list(self.pending):
            self.flush(job_id)

    def tick(self) -> None:
        """The relay's feed is drained (or has been busy for a while): send what may go."""
        for job_id in list(self.pending):
            self._recheck(job_id)

    def _recheck(self, job_id: str) -> None:
        since = self.since.get(job_id)
        if since is None:
            return
        if self._busy(job_id) and time.monotonic() - since < MAX_HOLD:
            self._recheck_later(job_id)
        else:
            self.flush(job_id)

    def _recheck_later(self, job_id: str) -> None:
        if job_id not in self._rechecking:
            self._rechecking.add(job_id)
            gevent.spawn_later(RECHECK, self._timer, job_id)

    def _timer(self, job_id: str) -> None:
        self._rechecking.discard(job_id)
        self._recheck(job_id)

    def _busy(self, job_id: str) -> bool:
        """Has any viewer of the job a packet still waiting in its socket's queue?"""
        sockets = self.server.eio.sockets
        viewers = rooms.members(self.server, rooms.job_room(job_id)).values()
        return any(not sockets[eio_sid].queue.empty() for eio_sid in viewers if eio_sid in sockets)

    def _emit(self, job_id: str, payload: dict) -> None:
        for packet in p.split_lines(payload):
            self.server.emit(p.LINES, packet, to=rooms.job_room(job_id), namespace=p.NAMESPACE, **self.emit_options)

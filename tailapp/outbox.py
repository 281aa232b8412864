"""Lines on their way from the relay to a job's room, batched adaptively.

Lines go to the room at once when its viewers' sockets have nothing queued. While some viewer's socket
is still writing earlier packets, or more messages wait on the relay's feed, new lines of the job are
held and merged, and go together as soon as the room is idle again (MAX_HOLD at the latest). Holding
costs no latency a viewer would notice: its socket could not have sent them sooner. One viewer of a
1,000 lines/s job gets every line on its own; a hundred viewers get fewer, larger packets.

Under load the sockets are rarely busy: each takes its packet at once, and the server spends its CPU on
one send per viewer per message (issue 17: 100 jobs x 10 viewers x 100 lines/s, 100,000 deliveries/s, kept
one core busy and fell seconds behind). So the outbox also counts the deliveries offered to it (each `lines`
message times its room's viewers); while they come faster than LOADED_RATE, each job's room gets at most one
message per `hold` (LOADED_HOLD at first): a job's lines go at once if its last message went a hold ago or
more and no more messages wait on the relay's feed, else they are held until then and go together. The hold
is counted from the job's last message, not from its line: the time the server takes to send a round of
messages to every room is part of the hold, not added to it (stop 25: holding each line for 10 ms from its
arrival gave messages 29 ms apart and 52 ms p99 in the many-jobs bench). Held lines go in rounds, at most one
per ROUND: each round sends every job then due, so the server (and the viewers' machines) wake once for
several rooms' messages rather than once per room. While the relay catches up on its feed, every line waits
for a round: sent at once, each job's first line read would go alone (stop 26, a slower machine: 150-199 ms
p99 in the many-jobs bench that way). A viewer of a lone job never waits.

How often depends on how late the lines reach the relay: a slower machine, or one shared with other work,
cannot send one message per line per viewer. Each LOAD_WINDOW the outbox looks at the latest arrival of the
lines it was given (their writer's timestamp to now) and steps along a ladder:
- on time: rounds every ROUND, a job's messages ~30 ms apart (a job sent during a round is due just after
  the round a hold later, so it goes with the one after);
- later than ROUND_LATE: rounds every SLOW_ROUND, messages ~40 ms apart: fewer, larger messages cost the
  server and the viewers' machines less CPU (stop 26, many jobs p99: with half the viewers, as on a machine
  that keeps up, 49-54 ms with this ladder and 54-59 with rounds fixed at 20 ms; at full load on a machine
  that did not keep up, 85-124 with rounds fixed at 10 ms and 62-92 at 20);
- later than LATE: the hold grows too (up to MAX_LOADED_HOLD), for a machine that would otherwise fall
  seconds behind (stop 23: 4.7 s p99 with a fixed 10 ms hold on a machine where 20 ms kept up).
Each step goes back once arrivals are earlier than its on-time bound (ROUND_ON_TIME, ON_TIME). The
timestamps are the workers' clocks: a clock off by more than LATE only moves the outbox along its ladder.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Mapping

import gevent

from tailapp import protocol as p
from tailapp import rooms, transport

RECHECK = 0.001  # how often a held job looks again whether its room is idle
MAX_HOLD = 0.02  # held lines go after this long, idle room or not
LOADED_RATE = 20_000  # deliveries/s offered past which each job gets at most one message per hold
LOADED_HOLD = 0.02  # the hold under load (stops 25 and 26's figures in BENCHMARKS.md)
MAX_LOADED_HOLD = 0.04  # ... at most, while lines arrive late
ROUND = 0.01  # under load, held lines go in rounds at most this often: a wake-up sends several jobs' messages
SLOW_ROUND = 0.02  # ... while lines arrive later than ROUND_LATE
ROUND_LATE, ROUND_ON_TIME = 0.04, 0.02  # arrival delays (seconds) past which rounds slow down, below which not
LATE, ON_TIME = 0.1, 0.05  # arrival delays (seconds) past which the hold grows, below which it shrinks
LOAD_WINDOW = 0.1  # the offered rate and the arrival delay are looked at over this long


class Outbox:
    """Pending `lines` payloads per job; the relay calls flush() before anything that must follow them."""

    def __init__(self, server):
        self.server = server  # the python-socketio Server; lines go to this process's viewers only
        self.behind = False  # set by the relay while more messages wait on its feed
        self.pending: dict[str, dict] = {}  # job id -> lines held back
        self.pending_bytes: dict[str, int] = {}  # job id -> text bytes held back
        self.since: dict[str, float] = {}  # job id -> when the oldest held line was held (oldest first)
        self.due: dict[str, float] = {}  # under load: job id -> when its held lines go
        self.sent_at: dict[str, float] = {}  # under load: job id -> when its last message went
        self.loaded = False  # the deliveries offered in the last LOAD_WINDOW came faster than LOADED_RATE
        self.hold = LOADED_HOLD  # how long lines are held while loaded
        self.round = ROUND  # how often held lines go while loaded
        self._latest_ms = 0.0  # while loaded: the latest arrival this window, writer's timestamp to now (ms)
        self._offered = 0  # deliveries offered since _counting_since
        self._counting_since = time.monotonic()
        self._rechecking: set[str] = set()
        self._due_order: list[tuple[float, str]] = []  # heap of (due, job id); stale once the job was flushed
        self._timer_at = 0.0  # when _due fires
        self._next_round = 0.0  # under load: held lines go no sooner than this
        self._due: gevent.Greenlet | None = None  # under load: one timer, for the first held job due

    def lines(self, job_id: str, payload: dict) -> None:
        """Send a `lines` payload to the job's room now, or hold it to merge with the next ones."""
        viewers = self._viewers(job_id)
        self._count_offered(len(viewers))
        if self.loaded:
            self._latest_ms = max(self._latest_ms, time.time() * 1000 - payload["times"][-1])
        held = self.pending.get(job_id)
        if held is not None:
            held["lines"].extend(payload["lines"])
            held["times"].extend(payload["times"])
            self.pending_bytes[job_id] += p.text_bytes(payload["lines"])
            if self.pending_bytes[job_id] >= p.PACKET_BYTES:  # a full packet: waiting would only grow it
                self.flush(job_id)
            return
        now = time.monotonic()
        if self.loaded:
            due = self.sent_at.get(job_id, now - self.hold) + self.hold
            if due <= now and not self.behind:  # its last message went a hold ago, and nothing more waits
                self._emit(job_id, payload)
                return
        elif not self.behind and not self._busy(viewers):
            self._emit(job_id, payload)
            return
        # A copy: the payload itself may also sit in a subscription's held list.
        self.pending[job_id] = {**payload, "lines": list(payload["lines"]), "times": list(payload["times"])}
        self.pending_bytes[job_id] = p.text_bytes(payload["lines"])
        self.since[job_id] = now
        if self.loaded:
            self.due[job_id] = due
            heapq.heappush(self._due_order, (due, job_id))
            self._tick_when_due()
        elif not self.behind:
            self._recheck_later(job_id)

    def flush(self, job_id: str) -> None:
        """Send the job's held lines now."""
        payload = self.pending.pop(job_id, None)
        self.since.pop(job_id, None)
        self.due.pop(job_id, None)
        self.pending_bytes.pop(job_id, None)
        if payload is not None:
            self._emit(job_id, payload)

    def flush_all(self) -> None:
        for job_id in list(self.pending):
            self.flush(job_id)

    def tick(self) -> None:
        """The relay's feed is drained (or has been busy for a while): send what may go."""
        if self.loaded:  # only the jobs due: called for every message under load, so no scan of the others
            now, order = time.monotonic(), self._due_order
            if now < self._next_round or not order or order[0][0] > now:
                return
            self._next_round = now + self.round
            while order and order[0][0] <= now:
                due, job_id = heapq.heappop(order)
                if self.due.get(job_id) == due:  # else flushed before (a full packet, a job event), held anew
                    self.flush(job_id)
            return
        self._due_order.clear()
        for job_id in list(self.pending):
            self._recheck(job_id)

    def _recheck(self, job_id: str) -> None:
        since = self.since.get(job_id)
        if since is None:
            return
        if self.loaded:
            self._tick_when_due()  # it goes with the others held, at the end of its hold
        elif self._busy(self._viewers(job_id)) and time.monotonic() - since < MAX_HOLD:
            self._recheck_later(job_id)
        else:
            self.flush(job_id)

    def _recheck_later(self, job_id: str) -> None:
        if job_id not in self._rechecking:
            self._rechecking.add(job_id)
            gevent.spawn_later(RECHECK, self._timer, job_id)

    def _tick_when_due(self) -> None:
        """Under load: one timer for all held jobs, when the first is due (the relay ticks too, but only while
        messages come: lines held at the end of a burst must not wait for the next one)."""
        if not self._due_order:
            return
        first = max(self._due_order[0][0], self._next_round)
        if self._due is not None:
            if first >= self._timer_at:
                return
            self._due.kill(block=False)  # a job due sooner than the one the timer waits for
        self._timer_at = first
        self._due = gevent.spawn_later(max(0.0, first - time.monotonic()), self._on_due)

    def _on_due(self) -> None:
        self._due = None
        self.tick()
        if self.loaded:
            self._tick_when_due()

    def hold_now(self) -> float:
        """The hold in effect (0: lines go at once); for /metrics. `loaded` is only looked at again with the
        next message: a load that ended with its last message has passed once a window went by without one."""
        fresh = time.monotonic() - self._counting_since < 2 * LOAD_WINDOW
        return self.hold if self.loaded and fresh else 0.0

    def _count_offered(self, viewers: int) -> None:
        """Count a message's deliveries; once per LOAD_WINDOW, say whether they came faster than LOADED_RATE
        and set the rounds and the hold from how late lines arrived."""
        self._offered += viewers
        now = time.monotonic()
        if now - self._counting_since >= LOAD_WINDOW:
            if self.loaded and self._latest_ms > LATE * 1000:
                self.hold = min(self.hold * 1.5, MAX_LOADED_HOLD)
            elif self._latest_ms < ON_TIME * 1000:
                self.hold = max(self.hold / 1.5, LOADED_HOLD)
            if self.loaded and self._latest_ms > ROUND_LATE * 1000:
                self.round = SLOW_ROUND
            elif self._latest_ms < ROUND_ON_TIME * 1000:
                self.round = ROUND
            was_loaded = self.loaded
            self.loaded = self._offered >= LOADED_RATE * (now - self._counting_since)
            self._offered, self._counting_since, self._latest_ms = 0, now, 0.0
            if self.loaded and not was_loaded:  # lines held for a busy room or a busy feed go with the first tick
                for job_id in self.pending:
                    self.due[job_id] = now
                    heapq.heappush(self._due_order, (now, job_id))
            self._forget_sends(now)

    def _forget_sends(self, now: float) -> None:
        """Drop the send times that no longer hold anything back (all of them once the load has passed)."""
        if not self.loaded:
            self.sent_at.clear()
            self.due.clear()  # what is still held goes by the relay's ticks and rechecks now
        else:
            self.sent_at = {job_id: at for job_id, at in self.sent_at.items() if now - at < MAX_LOADED_HOLD}

    def _timer(self, job_id: str) -> None:
        self._rechecking.discard(job_id)
        self._recheck(job_id)

    def _viewers(self, job_id: str) -> Mapping[str, str]:
        """The job's viewers here: Socket.IO sid -> Engine.IO sid."""
        return rooms.members(self.server, rooms.job_room(job_id))

    def _busy(self, viewers: Mapping[str, str]) -> bool:
        """Has any of the job's viewers a packet waiting in its socket's queue?"""
        sockets = self.server.eio.sockets
        return any(not sockets[eio_sid].queue.empty() for eio_sid in viewers.values() if eio_sid in sockets)

    def _emit(self, job_id: str, payload: dict) -> None:
        if self.loaded:
            self.sent_at[job_id] = time.monotonic()
        for packet in p.split_lines(payload):
            transport.emit_to_room(self.server, rooms.job_room(job_id), p.LINES, packet, p.NAMESPACE)

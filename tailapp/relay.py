"""One Redis pub/sub connection per server process, fanned out to one Socket.IO room per job.

The connection listens to the job list's channel and to the channels of the jobs watched on this server
only (tailapp.watch). A new subscription first waits until Redis confirmed its job's channel, replays the
backlog, then joins the room. Live lines that reach the relay
meanwhile are held in the subscription's buffer. After the backlog read, the replay publishes a marker
on the job's channel: Redis delivers a channel's messages in order, so when the relay sees the marker,
every line the backlog read could contain has passed through the buffer (merged by seq) and the
subscriber can join the room. Each subscriber gets every line after its `after` exactly once, in order.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import gevent
import gevent.event
import redis

from tailapp import jobs, rooms
from tailapp import protocol as p
from tailapp.coalesce import Coalesced
from tailapp.outbox import Outbox
from tailapp.store import Feed, JobChanged, Lines, Marker, Store, Subscription, decode
from tailapp.watch import Watches

if TYPE_CHECKING:
    from tailapp.metrics import Metrics

log = logging.getLogger(__name__)
FEED_KINDS = {Lines: "lines", JobChanged: "job", Marker: "marker"}  # labels of tailapp_feed_messages_total
BEHIND_FLUSH = 0.02  # while the feed stays busy, held lines still go this often
FIRST_READ = 16  # lines of the first backlog read (1 MB at most); later reads are sized by the bytes per line seen
READ_BYTES = p.PACKET_BYTES  # what one backlog read aims at
ROOM_BYTES = 2 * p.PACKET_BYTES  # the next backlog packet waits until the viewer's queue holds less than this
HELD_BYTES = 4 * p.PACKET_BYTES  # live lines a replay may hold for its viewer; past it the viewer resyncs


@dataclass
class Handshake:
    """A subscription that is replaying its backlog; live messages wait in `held`."""

    sid: str
    job_id: str
    held: list = field(default_factory=list)
    last: int = 0  # the last seq sent from the backlog
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    joined: gevent.event.Event = field(default_factory=gevent.event.Event)
    behind: bool = False  # live lines held meanwhile outgrew HELD_BYTES: the viewer must resubscribe


class Relay:
    """Reads every job channel once and emits to the rooms; runs subscription handshakes."""

    def __init__(self, server, store: Store, feed: Feed | None, *, replay_chunk: int = 5000,
                 ignore_queue: bool = False, max_subscriptions: int = 50, metrics: Metrics | None = None):
        self.server = server  # the python-socketio Server
        self.store = store
        self.feed = feed
        self.replay_chunk = replay_chunk
        self.max_subscriptions = max_subscriptions
        self.marker_timeout = 10.0
        self.emit_options = {"ignore_queue": True} if ignore_queue else {}
        self.syncing: dict[str, dict[str, Handshake]] = {}  # job id -> sid -> handshake
        self.connected = False
        self.changed_at = time.monotonic()  # when `connected` last changed (from False: since the start)
        self.metrics = metrics
        self.outbox = Outbox(server)
        self.watches = Watches(self._listen, self._unlisten)
        self.room_last: dict[str, int] = {}  # job id -> the last seq its room was sent
        self.shared = Coalesced()  # a handshake's Redis calls, shared with the handshakes of a storm
        self._subscription: Subscription | None = None  # the feed connection, while there is one
        self._greenlet = self._sweeper = None

    # -- the feed -----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)
            self._sweeper = gevent.spawn(self._sweep)

    def stop(self) -> None:
        """Stop reading the feed (on shutdown)."""
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._sweeper.kill(block=False)
            self._greenlet = self._sweeper = None
            self._set_connected(False)

    def _run(self) -> None:
        delay, lost_feed = 0.1, False
        while True:
            subscription = self.feed.subscription(self.watches.confirmed)
            try:
                subscription.start()
                self._subscription = subscription
                self.watches.reconnected()
                if lost_feed:
                    self._recover()
                self._set_connected(True)
                delay = 0.1
                self._follow(subscription)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("relay lost Redis (%s); reconnecting in %.1fs", exc, delay)
            except Exception:
                log.exception("relay error; reconnecting")
            finally:
                self._subscription = None
                subscription.close()
            self._set_connected(False)
            lost_feed = True
            gevent.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _set_connected(self, connected: bool) -> None:
        if connected or self.connected:
            self.changed_at = time.monotonic()
        self.connected = connected

    def _recover(self) -> None:
        """After a lost feed: once Redis has loaded its data, reopen the pool and resync every viewer."""
        # Redis takes PSUBSCRIBE while it loads, but a resubscription's reads would get LOADING errors.
        self.store.wait_loaded()
        try:
            self.store.warm()  # reopen the whole fixed pool now, not one by one under the viewers' load
        except redis.RedisError as exc:  # not fatal: a pooled connection also reconnects when next used
            log.warning("Redis pool not reopened at once: %s", exc)
        self._tell_everyone_to_resync()

    def _handle_safely(self, job_id: str | None, data: str) -> None:
        try:
            message = decode(data)
            self._count_received(message)
            if job_id is None:
                self._job_listed(message)
            else:
                self._handle(job_id, message)
        except ValueError as exc:  # not a message tailapp wrote: skip it
            log.error("skipped a malformed message on the channel of job %s: %s", job_id or "list", exc)

    def _job_listed(self, message: Lines | JobChanged | Marker) -> None:
        """A job changed: tell the viewers of the job list (the job's own viewers hear it on its channel)."""
        if not isinstance(message, JobChanged):
            raise ValueError(f"a {type(message).__name__} on the job list's channel")
        if rooms.has_members(self.server, rooms.JOBS):
            self.server.emit(p.JOB, jobs.to_object(message.fields), to=rooms.JOBS, namespace=p.NAMESPACE,
                             **self.emit_options)

    def _count_received(self, message: Lines | JobChanged | Marker) -> None:
        if self.metrics is not None:
            self.metrics.received(FEED_KINDS[type(message)])

    # -- which job channels the feed holds (tailapp.watch) -------------------------------------------
    def _listen(self, job_ids: list[str]) -> None:
        self._change_feed(job_ids, listen=True)

    def _unlisten(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            self.room_last.pop(job_id, None)
        self._change_feed(job_ids, listen=False)

    def _change_feed(self, job_ids: list[str], listen: bool) -> None:
        # From any greenlet, while the relay's greenlet reads the same connection: redis-py locks only the
        # writers. Without a feed (or when the write fails) the next feed connection subscribes every
        # watched channel again.
        subscription = self._subscription
        if subscription is not None:
            try:
                (subscription.listen if listen else subscription.unlisten)(job_ids)
            except redis.RedisError as exc:
                log.warning("feed change for %d job channels not sent: %s", len(job_ids), exc)

    def _sweep(self) -> None:
        while True:
            gevent.sleep(max(0.5, self.watches.linger / 4))
            self.watches.sweep(self._in_use)

    def _in_use(self, job_id: str) -> bool:
        return bool(self.syncing.get(job_id)) or rooms.has_members(self.server, rooms.job_room(job_id))

    def _follow(self, subscription: Subscription) -> None:
        batch_started = time.monotonic()
        for job_id, data in subscription:
            self.outbox.behind = subscription.pending()
            self._handle_safely(job_id, data)
            now = time.monotonic()
            if not self.outbox.behind or now - batch_started > BEHIND_FLUSH:
                self.outbox.tick()
                batch_started = now
                if self.outbox.behind:
                    gevent.sleep(0)  # reads from a full buffer never yield: let writers and replays run
            elif self.outbox.loaded:
                self.outbox.tick()  # under load it sends only what was held long enough: cheap, and on time

    def _handle(self, job_id: str, message: Lines | JobChanged | Marker) -> None:
        waiting = self.syncing.get(job_id)
        if isinstance(message, Marker):
            self._marker_seen(waiting, message.token)
        elif isinstance(message, Lines):
            self._count_written(message)
            if waiting or rooms.has_members(self.server, rooms.job_room(job_id)):  # else never split
                self._live_lines(job_id, message, waiting)
            else:
                self.room_last.pop(job_id, None)  # nobody watches here: the next join says where the room starts
        else:
            job = jobs.to_object(message.fields)
            self._hold(waiting, p.JOB, job)
            self.outbox.flush(job_id)  # a job event comes after every line before it
            self.server.emit(p.JOB, job, to=rooms.job_room(job_id), namespace=p.NAMESPACE, **self.emit_options)

    def _live_lines(self, job_id: str, message: Lines, waiting: dict | None) -> None:
        payload = {"job": job_id, "seq": message.seq, "lines": message.texts, "times": message.times}
        self._count_relayed("live", len(payload["lines"]))
        self._hold(waiting, p.LINES, payload)
        self._to_room(job_id, payload)

    @staticmethod
    def _hold(waiting: dict | None, event: str, payload: dict) -> None:
        """Keep the message for each subscription still replaying its backlog (sent when it joins)."""
        for handshake in (waiting or {}).values():
            handshake.held.append((event, payload))

    def _count_written(self, lines: Lines) -> None:
        if self.metrics is not None:
            self.metrics.lines_seen(lines.count, lines.newest_ms)

    def _count_relayed(self, source: str, count: int) -> None:
        if self.metrics is not None:
            self.metrics.sent(source, count)

    def _marker_seen(self, waiting: dict | None, token: str) -> None:
        # The handshakes whose backlog reads ended before this marker was published: one marker serves all
        # those of a storm. None: another server's subscribers, or ones that left.
        for handshake in [s for s in (waiting or {}).values() if s.token == token]:
            self._drain_and_join(handshake)

    def _tell_everyone_to_resync(self) -> None:
        """Messages were missed while Redis was away: every viewer resubscribes from its last seq.

        The rooms are closed too, so no live line reaches a viewer before its resubscription has sent the
        lines it missed (that would be a gap, then a duplicate).
        """
        self.outbox.flush_all()
        self.room_last.clear()  # the rooms close: each starts again where its viewers' resubscriptions end
        for room in rooms.job_rooms(self.server):
            self.server.emit(p.RESYNC, {"job": rooms.job_of(room)}, to=room, namespace=p.NAMESPACE)
            rooms.close(self.server, room)
        for handshakes in list(self.syncing.values()):
            for handshake in list(handshakes.values()):
                self._resync(handshake)

    def _resync(self, handshake: Handshake) -> None:
        self._forget(handshake)
        self.server.emit(p.RESYNC, {"job": handshake.job_id}, to=handshake.sid, namespace=p.NAMESPACE)

    # -- subscriptions ------------------------------------------------------------------------------
    def subscribe(self, sid: str, job_id: str, after: int) -> dict:
        """Start a handshake for sid; return the ack. The backlog follows in a greenlet."""
        self.unsubscribe(sid, job_id)
        if self._subscriptions(sid) >= self.max_subscriptions:
            limit = self.max_subscriptions
            return {"ok": False, "error": f"too many subscriptions on one connection (at most {limit})"}
        handshake = Handshake(sid, job_id)
        self.syncing.setdefault(job_id, {})[sid] = handshake  # before any read: nothing published now is missed
        try:
            job = self._job(job_id)
        except redis.RedisError:
            self._forget(handshake)  # the client is told to try again; no handshake may stay behind
            raise
        if job is None:
            self._forget(handshake)
            return {"ok": False, "error": "unknown job"}
        listening = self.watches.need(job_id)  # subscribed for known jobs only
        gevent.spawn(self._replay, handshake, after, job, listening)
        return {"ok": True, "job": job}

    def _job(self, job_id: str) -> dict | None:
        return self.shared.call(("job", job_id), partial(jobs.get, self.store, job_id))

    def _subscriptions(self, sid: str) -> int:
        syncing = sum(1 for handshakes in self.syncing.values() if sid in handshakes)
        return rooms.jobs_joined(self.server, sid) + syncing

    def unsubscribe(self, sid: str, job_id: str) -> None:
        old = self.syncing.get(job_id, {}).get(sid)
        if old is not None:
            self._forget(old)
        rooms.leave(self.server, sid, rooms.job_room(job_id))

    def forget_sid(self, sid: str) -> None:
        """Drop the handshakes of a disconnected client (Socket.IO drops its rooms itself)."""
        for handshakes in list(self.syncing.values()):
            if sid in handshakes:
                self._forget(handshakes[sid])

    def _forget(self, handshake: Handshake) -> None:
        handshakes = self.syncing.get(handshake.job_id, {})
        if handshakes.get(handshake.sid) is handshake:
            del handshakes[handshake.sid]
            if not handshakes:
                del self.syncing[handshake.job_id]

    def _replay(self, handshake: Handshake, after: int, job: dict, listening: gevent.event.Event) -> None:
        """Once the job's channel is live, send the backlog, then let the relay finish the handshake when it
        sees our marker."""
        if not listening.wait(self.marker_timeout):
            if self._current(handshake):
                self._resync(handshake)  # the feed is down: start over once it is back
            return
        try:
            # The job again, now that its changes reach the relay: one published between the subscribe's read
            # and the channel going live would be in neither.
            job = self._job(handshake.job_id) or job
            handshake.last = self._send_backlog(handshake, after)
            if not self._current(handshake):
                return
            if handshake.behind:  # a slow viewer of a fast job: it resumes from what it got, by seq
                self._resync(handshake)
                return
            self._emit(handshake, p.JOB, job)
            self._publish_marker(handshake)
        except redis.RedisError as exc:
            log.warning("backlog of %s not sent: %s", handshake.job_id, exc)
        if not handshake.joined.wait(self.marker_timeout) and self._current(handshake):
            self._resync(handshake)  # the marker was lost with the Redis connection: start over

    def _publish_marker(self, handshake: Handshake) -> None:
        """Publish a marker after this handshake's backlog read, shared with the others of the job that are
        ready meanwhile; the handshake takes the marker's token before it is published."""
        job_id = handshake.job_id
        joined = self.shared.join(("marker", job_id), lambda r: self.store.publish_marker(job_id, r.token))
        handshake.token = joined.token
        joined.wait()

    def _send_backlog(self, handshake: Handshake, after: int) -> int:
        """Send lines after `after` in reads of about READ_BYTES, each in packets of at most PACKET_BYTES,
        each once the viewer has taken most of the previous ones; return the last seq sent."""
        count = min(FIRST_READ, self.replay_chunk)
        while self._current(handshake):
            key = ("lines", handshake.job_id, after, count)
            texts, times = self.shared.call(key, partial(self.store.read_lines, handshake.job_id, after, count))
            payload = {"job": handshake.job_id, "seq": after + 1, "lines": texts, "times": times}
            for packet in p.split_lines(payload) if texts else ():
                if not self._wait_for_room(handshake):
                    return after
                self._emit_now(handshake, p.LINES, packet)
                self._count_relayed("backlog", len(packet["lines"]))
                after += len(packet["lines"])
            if len(texts) < count:
                break
            count = max(1, min(self.replay_chunk, READ_BYTES * len(texts) // max(1, p.text_bytes(texts))))
        return after

    def _wait_for_room(self, handshake: Handshake) -> bool:
        """Wait while the viewer's send queue is full (a slow link); False once the subscription is gone,
        or is `behind`: live lines held for it outgrew HELD_BYTES meanwhile."""
        eio_sid = self.server.manager.eio_sid_from_sid(handshake.sid, p.NAMESPACE)
        client = self.server.eio.sockets.get(eio_sid) if eio_sid else None
        wait_room = getattr(getattr(client, "queue", None), "wait_room", None)
        while self._current(handshake):
            held = sum(p.text_bytes(body["lines"]) for event, body in handshake.held if event == p.LINES)
            handshake.behind = held > HELD_BYTES
            if handshake.behind:
                return False
            if wait_room is None or wait_room(ROOM_BYTES, 1.0):
                return True
            if client.queue.overflowed or client.closed:
                return False
        return False

    def _to_room(self, job_id: str, payload: dict) -> None:
        """Live lines to the job's room, but none the room had: a writer sends lines again, same seqs, when a
        Redis failover lost them, after the viewers got them from the old master."""
        last = self.room_last.get(job_id)  # kept while the job's lines flow here (see _handle), else dropped
        if last is not None:
            payload, last = _lines_after(payload, last)
        else:  # the room's first lines: nothing to compare with
            last = payload["seq"] + len(payload["lines"]) - 1
        self.room_last[job_id] = last
        if payload is not None:
            self.outbox.lines(job_id, payload)

    def _drain_and_join(self, handshake: Handshake) -> None:
        # Runs in the relay greenlet, between two messages: nothing can slip in between.
        last = handshake.last
        while handshake.held:
            event, payload = handshake.held.pop(0)
            if event == p.LINES:
                payload, last = _lines_after(payload, last)
            if payload is not None:
                self._emit(handshake, event, payload)
        self.room_last[handshake.job_id] = max(self.room_last.get(handshake.job_id, 0), last)
        self.outbox.flush(handshake.job_id)  # lines held back for the room are in `held` already: not twice
        rooms.enter(self.server, handshake.sid, rooms.job_room(handshake.job_id))
        self._forget(handshake)
        handshake.joined.set()

    def _current(self, handshake: Handshake) -> bool:
        return self.syncing.get(handshake.job_id, {}).get(handshake.sid) is handshake

    def _emit(self, handshake: Handshake, event: str, payload: dict) -> None:
        for packet in p.split_lines(payload) if event == p.LINES else (payload,):
            self._emit_now(handshake, event, packet)

    def _emit_now(self, handshake: Handshake, event: str, payload: dict) -> None:
        self.server.emit(event, payload, to=handshake.sid, namespace=p.NAMESPACE)


def _lines_after(payload: dict, last: int) -> tuple[dict | None, int]:
    """The part of a `lines` payload after seq `last` (None if nothing), and the new last seq."""
    seq, texts = payload["seq"], payload["lines"]
    end = seq + len(texts) - 1
    if end <= last:
        return None, last
    if seq > last + 1:
        # A gap cannot happen with one ordered feed; resync would be the answer if it ever did.
        log.error("gap in held lines for %s: have %d, got %d", payload["job"], last, seq)
    skip = max(0, last + 1 - seq)
    if skip:
        payload = {**payload, "seq": seq + skip, "lines": texts[skip:], "times": payload["times"][skip:]}
    return payload, end

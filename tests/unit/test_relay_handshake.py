"""The relay's subscription handshake (tailapp/relay.py), driven step by step against a fake Socket.IO server
and a job's recorded channel messages (tests/fixtures/feed/job.json).

A schedule orders what happens: `w` the writer stores and publishes the next recorded message, `f` the relay
reads the next message off its feed (Redis delivers in publish order, possibly much later), `r` a viewer
subscribes (the handshake is registered), `b` its replay reads and sends the backlog, then publishes its
marker. The relay hears the job's channel from the subscribe on (it listens to watched jobs only). Every
schedule that can matter is tried (4,977 of them); in each the viewer must get every line exactly once, in
order, and end on the job's last state. Without the marker (joining the room straight after the backlog
read), a line published before the backlog read but read off the feed after it reaches the viewer twice: the
race the marker exists for.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path

import gevent
import pytest

from tailapp import protocol as p
from tailapp.relay import Relay
from tailapp.store import Lines, Marker, decode
from tests.unit.fakes import FakeServer, RecordedStore

JOB = "d" * 32
RECORDED = [m.replace("JOB", JOB) for m in json.loads((Path(__file__).parents[1] / "fixtures" / "feed" / "job.json")
                                                     .read_text())]
TOTAL = sum(decode(m).count for m in RECORDED if m.startswith("L"))


class MarkerlessRelay(Relay):
    """The handshake without the marker: the viewer joins the room as soon as the backlog is sent."""

    def _replay(self, handshake, after, job, listening):
        handshake.last = self._send_backlog(handshake, after)
        self._emit(handshake, p.JOB, job)
        self._drain_and_join(handshake)

    def _to_room(self, job_id, payload):
        # Without the room's trim of lines it had: with one viewer that trim hides the race (with two, a viewer
        # that joined behind the other would lose lines to it instead).
        self.outbox.lines(job_id, payload)


@cache
def schedules() -> list[str]:
    """Every order of the writes, the feed's reads, and the viewer's subscribe (after the job exists) and
    backlog read that can matter: before the subscribe only how far the writer and the feed got counts (so
    writes come first), and once the relay has read the marker the handshake is over (the rest is written,
    then read off the feed, at the end)."""
    found = []

    def extend(done: str, written: int, read: int, published: int, marker: int | None) -> None:
        if (written == len(RECORDED) and "b" in done) or (marker is not None and read > marker):
            found.append(done)
            return
        if written < len(RECORDED) and ("r" in done or not done.endswith("f")):
            extend(done + "w", written + 1, read, published + 1, marker)
        if read < published:
            extend(done + "f", written, read + 1, published, marker)
        if "r" not in done and written:
            extend(done + "r", written, read, published, marker)
        elif "r" in done and "b" not in done:
            extend(done + "b", written, read, published + 1, published)  # + its marker, at index `published`

    extend("", 0, 0, 0, None)
    return found


def run(schedule: str, relay_class=Relay, after: int = 0) -> FakeServer:
    """Play `schedule`, then write the rest and read it off the feed; the server with what the viewer "v" was
    sent."""
    server, store = FakeServer(), RecordedStore(JOB)
    server.connect("v")
    relay = relay_class(server, store, feed=None)
    writes, read, subscribed_at = iter(RECORDED), 0, None
    for step in schedule:
        if step == "w":
            store.write(next(writes))
        elif step == "f" and read < len(store.published):  # (no marker to read from a MarkerlessRelay)
            if subscribed_at is not None and read >= subscribed_at:  # the server hears its watched jobs only
                relay._handle_safely(JOB, store.published[read])
            read += 1
        elif step == "r":
            assert relay.subscribe("v", JOB, after)["ok"]  # registers; the replay runs at `b`
            subscribed_at = len(store.published)  # the job's channel, subscribed and confirmed now
            relay.watches.confirmed(JOB)
        else:
            gevent.idle()  # the replay greenlet and its shared calls' rounds: backlog read and sent, marker published
    for data in writes:  # the rest is written, then read off the feed
        store.write(data)
    for data in store.published[max(read, subscribed_at or 0):]:
        relay._handle_safely(JOB, data)
    relay.outbox.flush_all()
    gevent.idle()  # the replay greenlet sees its handshake done
    return server


def last_state(server: FakeServer, sid: str = "v") -> str:
    return [payload["state"] for event, payload in server.inbox[sid] if event == p.JOB][-1]


def test_the_schedules_cover_the_race():
    found = schedules()
    assert len(found) > 1000 and len(set(found)) == len(found)
    assert "wrfwbwwww" in found  # a line written after the handshake is registered, before the backlog read
    assert "wrwfbfwwww" in found  # ... and read off the feed before the backlog: held, and in the backlog too


def test_every_schedule_gives_every_line_exactly_once_in_order():
    wrong = {}
    for schedule in schedules():
        server = run(schedule)
        if server.seqs("v") != list(range(1, TOTAL + 1)) or last_state(server) != "succeeded":
            wrong[schedule] = server.seqs("v")
    assert wrong == {}


def lines_before_subscribing(schedule: str) -> int:
    written = RECORDED[: schedule[: schedule.index("r")].count("w")]
    return sum(decode(m).count for m in written if m.startswith("L"))


@pytest.mark.parametrize("after", [2, 5, TOTAL])
def test_a_resume_from_a_seq_gets_only_what_follows_it(after):
    resumable = [s for s in schedules() if lines_before_subscribing(s) >= after]  # a viewer holds what exists
    assert resumable
    for schedule in resumable[::9]:
        assert run(schedule, after=after).seqs("v") == list(range(after + 1, TOTAL + 1)), schedule


def test_without_the_marker_lines_read_off_the_feed_after_the_backlog_come_twice():
    doubled = [s for s in schedules()[::5] if run(s, MarkerlessRelay).seqs("v") != list(range(1, TOTAL + 1))]
    assert len(doubled) > 500  # the race is real: this test would pass for any relay otherwise
    # The viewer subscribes (the job's channel is live), lines 1-2 are written, it reads them from the backlog,
    # joins the room, and then the relay reads lines 1-2 off its feed (published before the backlog read,
    # delivered after it).
    assert run("wrwbwwww", MarkerlessRelay).seqs("v") == [1, 2, 1, 2, 3, 4, 5, 6, 7]
    assert run("wrwbwwww").seqs("v") == [1, 2, 3, 4, 5, 6, 7]


def test_lines_held_during_the_handshake_are_in_the_recorded_order():
    held = [m for m in RECORDED if isinstance(decode(m), Lines)]
    assert [decode(m).seq for m in held] == [1, 3, 6]


def run_storm(rng: random.Random) -> tuple[FakeServer, RecordedStore, Relay]:
    """Three viewers (x, y, z) subscribe at random points of a random schedule, each in its own greenlet as
    the server runs them. Redis runs a call at once, but its answer comes at a later `b`, which lets
    everything under way run until it waits; the job's channel goes live at the first `b` after a
    subscribe asked for it. So handshakes under way together share their calls (tailapp.coalesce), and a
    call may be answered after other writes."""
    server, store = FakeServer(), RecordedStore(JOB, latency=True)
    relay = Relay(server, store, feed=None)
    writes, written, read, heard_from, waiting, acks = iter(RECORDED), 0, 0, None, list("xyz"), []
    while waiting or rng.random() < 0.3:
        steps = ["b"] + (["w"] * 2 if written < len(RECORDED) else [])
        steps += ["f"] * 2 if read < len(store.published) else []
        steps += waiting if written else []
        step = rng.choice(steps)
        if step == "w":
            store.write(next(writes))
            written += 1
        elif step == "f":
            if heard_from is not None and read >= heard_from:
                relay._handle_safely(JOB, store.published[read])
            read += 1
        elif step == "b":
            gevent.idle()
            if heard_from is None and JOB in relay.watches.watching:
                heard_from = len(store.published)  # Redis confirms the channel: the relay hears what follows
            relay.watches.confirmed(JOB)
            store.answer()
            gevent.idle()
        else:
            waiting.remove(step)
            server.connect(step)
            acks.append(gevent.spawn(relay.subscribe, step, JOB, 0))
    for _ in range(8):  # every call answered, every backlog read and marker done
        gevent.idle()
        heard_from = len(store.published) if heard_from is None else heard_from
        relay.watches.confirmed(JOB)
        store.answer()
    gevent.idle()
    for data in writes:
        store.write(data)
    for data in store.published[max(read, heard_from):]:
        relay._handle_safely(JOB, data)
    relay.outbox.flush_all()
    gevent.idle()
    assert all(ack.get()["ok"] for ack in acks)
    return server, store, relay


def test_viewers_that_subscribe_together_share_their_calls_and_each_gets_every_line_once():
    rng, shared, wrong = random.Random(17), 0, []
    for _ in range(2_000):
        server, store, relay = run_storm(rng)
        for sid in "xyz":
            if server.seqs(sid) != list(range(1, TOTAL + 1)) or last_state(server, sid) != "succeeded":
                wrong.append((sid, server.seqs(sid)))
        markers = sum(1 for data in store.published if isinstance(decode(data), Marker))
        shared += markers < 3
        assert relay.shared.waiting == {} and relay.shared.running == {}
    assert wrong == []
    assert shared > 200  # the schedules where viewers shared a marker (and so their backlog reads) are many

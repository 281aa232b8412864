"""The outbox (tailapp/outbox.py) against a fake Socket.IO server: lines go at once to an idle room, are
held and merged while a viewer's socket is busy, and never overtake a flush."""

from __future__ import annotations

import time

from tailapp import protocol as p
from tailapp import rooms
from tailapp.outbox import MAX_HOLD, Outbox
from tests.unit.fakes import FakeServer

JOB = "c" * 32


def lines(seq: int, *texts: str) -> dict:
    return {"job": JOB, "seq": seq, "lines": list(texts), "times": [seq] * len(texts)}


def room_with(*sids: str) -> FakeServer:
    server = FakeServer()
    for sid in sids:
        server.connect(sid)
        server.enter_room(sid, rooms.job_room(JOB))
    return server


def test_lines_go_at_once_to_an_idle_room():
    server = room_with("a", "b")
    outbox = Outbox(server, {})
    outbox.lines(JOB, lines(1, "one"))
    assert server.seqs("a") == server.seqs("b") == [1] and not outbox.pending


def test_while_a_viewer_is_busy_lines_are_held_merged_and_sent_together_once_it_is_idle():
    server = room_with("a", "b")
    outbox = Outbox(server, {})
    server.busy("b")
    first = lines(1, "one")
    outbox.lines(JOB, first)
    outbox.lines(JOB, lines(2, "two", "three"))
    assert server.seqs("a") == [] and first["lines"] == ["one"]  # held as a copy: the payload is not grown
    outbox.tick()
    assert server.seqs("a") == []  # still busy, younger than MAX_HOLD
    server.queue_of("b").get()
    outbox.tick()
    assert [pk["lines"] for event, pk in server.inbox["a"]] == [["one", "two", "three"]]
    assert server.seqs("b") == [1, 2, 3]


def test_held_lines_go_after_max_hold_even_to_a_busy_room():
    server = room_with("a")
    outbox = Outbox(server, {})
    server.busy("a")
    outbox.lines(JOB, lines(1, "one"))
    outbox.since[JOB] = time.monotonic() - MAX_HOLD
    outbox.tick()
    assert server.seqs("a") == [1]


def test_a_full_packet_is_not_held_and_a_flush_sends_what_is_held_before_what_follows():
    server = room_with("a")
    outbox = Outbox(server, {})
    server.busy("a")
    outbox.lines(JOB, lines(1, "x" * 10))
    outbox.lines(JOB, lines(2, "y" * p.PACKET_BYTES))
    assert server.seqs("a") == [1, 2]
    outbox.lines(JOB, lines(3, "z"))
    outbox.flush(JOB)  # the relay does this before a job event
    server.emit(p.JOB, {"id": JOB}, to=rooms.job_room(JOB))
    assert server.inbox["a"][-1] == (p.JOB, {"id": JOB}) and server.seqs("a") == [1, 2, 3]


def test_while_the_feed_is_behind_lines_wait_for_the_relay_s_tick():
    server = room_with("a")
    outbox = Outbox(server, {})
    outbox.behind = True
    outbox.lines(JOB, lines(1, "one"))
    outbox.lines(JOB, lines(2, "two"))
    assert server.seqs("a") == []
    outbox.behind = False
    outbox.tick()
    assert [pk["lines"] for event, pk in server.inbox["a"]] == [["one", "two"]]

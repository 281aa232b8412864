"""The outbox (tailapp/outbox.py) against a fake Socket.IO server: lines go at once to an idle room, are
held and merged while a viewer's socket is busy or the server is loaded, and never overtake a flush."""

from __future__ import annotations

import time

import gevent

from tailapp import protocol as p
from tailapp import rooms
from tailapp.outbox import (
    LATE,
    LOAD_WINDOW,
    LOADED_HOLD,
    LOADED_RATE,
    MAX_HOLD,
    MAX_LOADED_HOLD,
    ROUND,
    ROUND_LATE,
    SLOW_ROUND,
    Outbox,
)
from tests.unit.fakes import FakeServer

JOB = "c" * 32


def lines(seq: int, *texts: str, late: float = 0.0, job: str = JOB) -> dict:
    """A `lines` payload written `late` seconds ago."""
    written_ms = int((time.time() - late) * 1000)
    return {"job": job, "seq": seq, "lines": list(texts), "times": [written_ms] * len(texts)}


def room_with(*sids: str, job: str = JOB, server: FakeServer | None = None) -> FakeServer:
    server = server or FakeServer()
    for sid in sids:
        server.connect(sid)
        server.enter_room(sid, rooms.job_room(job))
    return server


def load(outbox: Outbox) -> int:
    """Messages to JOB (50 viewers) until the outbox counts itself loaded; the last seq sent."""
    seq = 0
    started = time.monotonic()
    while not outbox.loaded and time.monotonic() - started < 5:  # 10 messages (500 deliveries) a ms or two
        seq += 1
        outbox.lines(JOB, lines(seq, f"line {seq}"))
        if seq % 10 == 0:
            gevent.sleep(0.001)
    assert outbox.loaded and seq * 50 / (time.monotonic() - started) > LOADED_RATE
    return seq


def loaded_window(outbox: Outbox, seq: int, late: float) -> int:
    """200 messages x 50 viewers to JOB in one LOAD_WINDOW, written `late` seconds ago (100,000 deliveries/s
    offered: still over LOADED_RATE if a busy machine stretches the window fivefold); the last seq sent."""
    for _ in range(200):
        seq += 1
        outbox.lines(JOB, lines(seq, f"line {seq}", late=late))
    gevent.sleep(LOAD_WINDOW)
    return seq

def test_lines_go_at_once_to_an_idle_room():
    server = room_with("a", "b")
    outbox = Outbox(server)
    outbox.lines(JOB, lines(1, "one"))
    assert server.seqs("a") == server.seqs("b") == [1] and not outbox.pending


def test_while_a_viewer_is_busy_lines_are_held_merged_and_sent_together_once_it_is_idle():
    server = room_with("a", "b")
    outbox = Outbox(server)
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
    outbox = Outbox(server)
    server.busy("a")
    outbox.lines(JOB, lines(1, "one"))
    outbox.since[JOB] = time.monotonic() - MAX_HOLD
    outbox.tick()
    assert server.seqs("a") == [1]


def test_a_full_packet_is_not_held_and_a_flush_sends_what_is_held_before_what_follows():
    server = room_with("a")
    outbox = Outbox(server)
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
    outbox = Outbox(server)
    outbox.behind = True
    outbox.lines(JOB, lines(1, "one"))
    outbox.lines(JOB, lines(2, "two"))
    assert server.seqs("a") == []
    outbox.behind = False
    outbox.tick()
    assert [pk["lines"] for event, pk in server.inbox["a"]] == [["one", "two"]]


def test_under_load_each_job_s_lines_are_held_for_loaded_hold_and_go_by_timer_without_more_messages():
    server = room_with(*(f"v{n}" for n in range(50)))  # 50 viewers: each message offers 50 deliveries
    outbox = Outbox(server)
    seq = load(outbox)
    sent_before, held_from = len(server.inbox["v0"]), server.seqs("v0")[-1] + 1  # what follows the last sent
    for _ in range(3):
        seq += 1
        outbox.lines(JOB, lines(seq, f"line {seq}"))
    assert len(server.inbox["v0"]) == sent_before and JOB in outbox.pending  # held, the room idle or not
    gevent.sleep(LOADED_HOLD * 3)  # no further message, no tick from the relay: the outbox's own timer
    assert [pk["seq"] for event, pk in server.inbox["v0"][sent_before:]] == [held_from]  # one message
    assert server.seqs("v0") == server.seqs("v49") == list(range(1, seq + 1))


def test_once_the_load_has_passed_a_message_goes_at_once_again():
    server = room_with("a")
    outbox = Outbox(server)
    outbox.loaded = True  # as after a busy spell
    gevent.sleep(LOAD_WINDOW)
    outbox.lines(JOB, lines(1, "one"))  # one delivery in a whole window: far below LOADED_RATE
    assert not outbox.loaded and server.seqs("a") == [1]


def test_under_load_the_hold_grows_while_lines_arrive_late_and_shrinks_back_once_they_are_on_time():
    server = room_with(*(f"v{i}" for i in range(50)))
    outbox = Outbox(server)
    seq = 0

    def hold_after(late: float) -> float:
        nonlocal seq
        seq = loaded_window(outbox, seq, late)
        return outbox.hold

    holds = [hold_after(0.0) for _ in range(3)]
    assert outbox.loaded and holds[-1] == LOADED_HOLD  # loaded, lines on time: the shortest hold
    # A window's arrivals set the hold when the next window starts: the figures lag one window behind.
    holds = [hold_after(LATE * 3) for _ in range(6)]
    assert holds[0] < holds[1] < holds[2] and holds[-1] == MAX_LOADED_HOLD  # grows, to its bound
    holds = [hold_after(0.0) for _ in range(6)]
    assert holds[1] < MAX_LOADED_HOLD and holds[-1] == LOADED_HOLD
    gevent.sleep(MAX_LOADED_HOLD * 2)
    assert server.seqs("v0") == server.seqs("v49") == list(range(1, seq + 1))


def test_under_load_a_job_s_lines_go_a_hold_after_its_last_message_and_a_quiet_job_s_at_once():
    other = "d" * 32
    server = room_with("w", job=other, server=room_with(*(f"v{n}" for n in range(50))))
    outbox = Outbox(server)
    seq = load(outbox)
    outbox.flush(JOB)
    sent_at = outbox.sent_at[JOB]
    outbox.lines(JOB, lines(seq + 1, "held"))
    assert JOB in outbox.pending and outbox.due[JOB] == sent_at + outbox.hold  # counted from its last message
    outbox.lines(other, lines(1, "first", job=other))  # no message of its own for a hold: at once
    outbox.lines(other, lines(2, "second", job=other))  # ... and the next one waits for the hold
    assert server.seqs("w") == [1] and other in outbox.pending
    while JOB in outbox.pending and time.monotonic() - sent_at < 1:
        gevent.sleep(0.001)
    assert time.monotonic() - sent_at >= outbox.hold and server.seqs("v0") == list(range(1, seq + 2))
    gevent.sleep(MAX_LOADED_HOLD + ROUND)
    assert server.seqs("w") == [1, 2] and not outbox.pending


def test_under_load_while_the_feed_is_behind_a_quiet_job_s_lines_wait_for_the_next_round():
    other = "d" * 32
    server = room_with("w", job=other, server=room_with(*(f"v{n}" for n in range(50))))
    outbox = Outbox(server)
    load(outbox)
    outbox.behind = True  # the relay is catching up: more of this job's lines are about to be read
    outbox.lines(other, lines(1, "first", job=other))
    outbox.lines(other, lines(2, "second", job=other))
    assert server.seqs("w") == [] and outbox.due[other] <= time.monotonic()  # due, yet held for the round
    started = time.monotonic()
    while other in outbox.pending and time.monotonic() - started < 1:
        outbox.tick()  # as the relay does for each message it reads under load
        gevent.sleep(0.001)
    assert [pk["lines"] for event, pk in server.inbox["w"]] == [["first", "second"]]
    assert time.monotonic() - started <= ROUND + 0.05


def test_under_load_rounds_slow_down_while_lines_arrive_late_before_the_hold_grows():
    server = room_with(*(f"v{i}" for i in range(50)))
    outbox = Outbox(server)
    seq = 0

    def round_and_hold_after(late: float) -> tuple[float, float]:
        nonlocal seq
        seq = loaded_window(outbox, seq, late)
        return outbox.round, outbox.hold

    assert [round_and_hold_after(0.0) for _ in range(3)][-1] == (ROUND, LOADED_HOLD)
    between = (ROUND_LATE + LATE) / 2  # late enough for slower rounds, not for a longer hold
    assert [round_and_hold_after(between) for _ in range(4)][-1] == (SLOW_ROUND, LOADED_HOLD)
    assert [round_and_hold_after(0.0) for _ in range(3)][-1] == (ROUND, LOADED_HOLD)
    gevent.sleep(MAX_LOADED_HOLD + SLOW_ROUND)
    assert server.seqs("v0") == server.seqs("v49") == list(range(1, seq + 1))

"""Lines a Redis failover lost: the writer sends them again (same seqs), and the relay does not send a room
lines it already had. In-process, against a store that forgets lines as a promoted replica would."""

from __future__ import annotations

import redis

from tailapp import protocol as p
from tailapp import rooms
from tailapp.store import Lines, encode_line
from tailapp.writer import LogWriter
from tests.unit.test_relay_pacing import JOB, FakeServer, FakeStore, relay_with


class ForgetfulStore:
    """The append script's contract (refuse a batch unless the count is what the writer expects), and
    forget(n): the last n lines vanish, as when a master dies before its replica got them."""

    def __init__(self):
        self.lines: list[str] = []
        self.settled_calls = 0

    def line_count(self, job_id):
        return len(self.lines)

    def settled_line_count(self, job_id):
        self.settled_calls += 1
        return len(self.lines)

    def append_lines(self, job_id, elements, before):
        if len(self.lines) == before + len(elements):
            return len(self.lines)
        if len(self.lines) != before:
            raise redis.ResponseError(f"line count is {len(self.lines)}, writer expected {before}")
        self.lines.extend(elements)
        return len(self.lines)

    def forget(self, n: int) -> None:
        del self.lines[-n:]

    def texts(self) -> list[str]:
        return [element.partition(" ")[2] for element in self.lines]


def test_the_writer_sends_again_the_lines_a_failover_lost_before_the_next_batch():
    store = ForgetfulStore()
    writer = LogWriter(store, JOB)
    writer.write("".join(f"line {n}\n" for n in range(1, 11)))
    writer.flush()
    store.forget(4)  # lines 7..10 were not replicated when the master died
    writer.write("line 11\n")
    writer.close()
    assert store.texts() == [f"line {n}" for n in range(1, 12)]


def test_the_writer_checks_the_settled_count_at_the_end():
    store = ForgetfulStore()
    writer = LogWriter(store, JOB)
    writer.write("".join(f"line {n}\n" for n in range(1, 6)))
    writer.flush()
    store.forget(2)  # the failover after the last batch: no later append would notice
    writer.close()
    assert store.settled_calls == 1 and store.texts() == [f"line {n}" for n in range(1, 6)]


def lines(seq: int, count: int) -> Lines:
    return Lines(seq, "\n".join(encode_line(0, f"l{n}") for n in range(seq, seq + count)))


def test_the_relay_sends_a_room_no_line_it_already_had():
    server = FakeServer()
    server.manager.rooms = {p.NAMESPACE: {rooms.job_room(JOB): {"sid": "eio"}}}
    relay, _ = relay_with(server, FakeStore(count=0, width=1))
    relay.syncing.clear()
    relay.outbox._busy = lambda viewers: False  # an idle room: every payload goes at once
    relay._handle(JOB, lines(1, 10))
    relay._handle(JOB, lines(7, 4))  # 7..10 again: sent by the writer after a failover lost them
    relay._handle(JOB, lines(11, 2))
    sent = [(pk["seq"], len(pk["lines"])) for event, pk in server.emitted if event == p.LINES]
    assert sent == [(1, 10), (11, 2)]

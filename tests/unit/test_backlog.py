"""backlog.body: stored elements sent as they are, a page at a time, up to the count asked."""

from __future__ import annotations

from tailapp import backlog


def reader(elements: list[str], calls: list[tuple[int, int]]):
    def read(after: int, count: int) -> list[str]:
        calls.append((after, count))
        return elements[after : after + count]
    return read


def test_body_sends_lines_after_a_seq_in_pages():
    elements = [f"{1000 + n} line {n}" for n in range(1, 26)]
    calls: list[tuple[int, int]] = []
    chunks = list(backlog.body(reader(elements, calls), 5, 25, page=10))
    assert calls == [(5, 10), (15, 10)]
    assert b"".join(chunks).decode() == "".join(e + "\n" for e in elements[5:25])


def test_body_stops_when_the_store_has_fewer_lines():
    calls: list[tuple[int, int]] = []
    text = b"".join(backlog.body(reader(["1 a", "2 b"], calls), 0, 10, page=1))
    assert text == b"1 a\n2 b\n" and calls[-1] == (2, 1)


def test_body_keeps_non_ascii_text_whole():
    text = b"".join(backlog.body(reader(["5 naïve ✓ 漢字"], []), 0, 1))
    assert text.decode("utf-8") == "5 naïve ✓ 漢字\n"


def test_tail_is_the_last_lines_asked_for():
    elements = [f"{1000 + n} line {n}" for n in range(1, 101)]
    calls: list[tuple[int, int]] = []
    assert backlog.tail(reader(elements, calls), 100, 10) == (90, elements[90:])
    assert calls == [(90, 10)]  # one read, of those lines only
    assert backlog.tail(reader(elements, []), 100, 1000) == (0, elements)  # a short log: all of it
    assert backlog.tail(reader([], []), 0, 10) == (0, [])


def test_tail_keeps_within_its_bytes_but_always_sends_the_last_line():
    elements = [f"{n} " + "x" * 98 for n in range(1, 51)]  # ~101 characters and a newline each
    after, kept = backlog.tail(reader(elements, []), 50, 50, budget=1_000)
    assert kept == elements[-len(kept):] and after == 50 - len(kept)
    assert sum(len(e) + 1 for e in kept) <= 1_000 < sum(len(e) + 1 for e in elements[after - 1:])
    huge = ["1 small", "2 " + "y" * 5_000]
    assert backlog.tail(reader(huge, []), 2, 10, budget=1_000) == (1, huge[1:])

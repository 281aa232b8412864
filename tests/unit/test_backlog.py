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

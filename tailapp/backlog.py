"""A job's backlog for the viewer in bulk over HTTP: the stored lines as they are ("<ms> <text>", one per
line, UTF-8), streamed a page at a time. The page then follows the live feed from the last seq sent, so
a big log is not pushed line by line through Socket.IO (docs/VIEWER.md, "Opening a big log")."""

from __future__ import annotations

from collections.abc import Callable, Iterator

PAGE_LINES = 20_000  # one Redis read; the server holds about one page whatever the log's size
TAIL_FIRST_LINES = 20_000  # a log this long opens with its last lines shown while the whole log loads ...
TAIL_LINES = 1_000  # ... these many (static/js/tail.js)
TAIL_MAX_LINES = 10_000  # the most a client may ask for as a log's end
TAIL_BYTES = 1024 * 1024  # ... and the bytes they may take (the last line is sent whatever its size)

ElementReader = Callable[[int, int], list[str]]  # (after, count) -> stored elements


def body(read: ElementReader, after: int, upto: int, page: int = PAGE_LINES) -> Iterator[bytes]:
    """Lines after..upto as stored, one per line; stops early if the store has fewer."""
    while after < upto:
        elements = read(after, min(page, upto - after))
        if not elements:
            return
        yield ("\n".join(elements) + "\n").encode("utf-8")
        after += len(elements)


def tail(read: ElementReader, upto: int, lines: int, budget: int = TAIL_BYTES) -> tuple[int, list[str]]:
    """The last `lines` stored lines up to `upto`, fewer when they would pass `budget` bytes of text (the
    last line comes whatever its size): the seq before the first of them, and their elements."""
    after = max(0, upto - lines)
    elements = read(after, upto - after)
    first, size = len(elements), 0
    while first and (first == len(elements) or size + len(elements[first - 1]) < budget):
        first -= 1
        size += len(elements[first]) + 1
    return after + first, elements[first:]

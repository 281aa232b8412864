"""A job's backlog for the viewer in bulk over HTTP: the stored lines as they are ("<ms> <text>", one per
line, UTF-8), streamed a page at a time. The page then follows the live feed from the last seq sent, so
a big log is not pushed line by line through Socket.IO (docs/VIEWER.md, "Opening a big log")."""

from __future__ import annotations

from collections.abc import Callable, Iterator

PAGE_LINES = 20_000  # one Redis read; the server holds about one page whatever the log's size

ElementReader = Callable[[int, int], list[str]]  # (after, count) -> stored elements


def body(read: ElementReader, after: int, upto: int, page: int = PAGE_LINES) -> Iterator[bytes]:
    """Lines after..upto as stored, one per line; stops early if the store has fewer."""
    while after < upto:
        elements = read(after, min(page, upto - after))
        if not elements:
            return
        yield ("\n".join(elements) + "\n").encode("utf-8")
        after += len(elements)

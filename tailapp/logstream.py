"""A whole log as a streamed HTTP body (raw lines, or rendered rows as plain text), read from the store a
page at a time, so the server holds about one page whatever the log's size."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from tailapp.terminal import Terminal

PAGE_LINES = 10_000
# Plain text: a row this far above the lowest row the cursor has reached is sent and forgotten, as a
# terminal of that height could no longer redraw it. Real progress bars and redraws stay far within it.
SETTLE_ROWS = 10_000

Reader = Callable[[int, int], tuple[list[str], list[int]]]  # (after, count) -> (texts, times)


def lines(read: Reader, after: int, upto: int, page: int = PAGE_LINES) -> Iterator[list[str]]:
    """Raw lines after..upto, a page at a time."""
    while after < upto:
        texts, _ = read(after, min(page, upto - after))
        if not texts:
            return
        yield texts
        after += len(texts)


def raw(read: Reader, after: int, upto: int) -> Iterator[bytes]:
    """Lines after..upto as written, one per line, as UTF-8 chunks."""
    for texts in lines(read, after, upto):
        yield "".join(t + "\n" for t in texts).encode("utf-8")


def plain(read: Reader, upto: int, skip_rows: int = 0, settle: int = SETTLE_ROWS) -> Iterator[bytes]:
    """The rendered rows of lines 0..upto (from row `skip_rows` on) as plain text, in UTF-8 chunks."""
    term = Terminal()
    sent = 0
    for texts in lines(read, 0, upto):
        term.feed(texts)
        chunk, sent = _take(term, sent, term.y - settle, skip_rows)
        if chunk:
            yield chunk
    chunk, _ = _take(term, sent, len(term.rows), skip_rows)
    if chunk:
        yield chunk


def _take(term: Terminal, sent: int, upto: int, skip_rows: int) -> tuple[bytes, int]:
    """Rows sent..upto as text; they are blanked in the terminal (only the list's slots stay)."""
    if upto <= sent:
        return b"", sent
    rows = term.rows[max(sent, skip_rows) : upto]
    term.rows[sent:upto] = [""] * (upto - sent)
    term.changed.clear()
    return "".join(row.rstrip() + "\n" for row in rows).encode("utf-8"), upto


def filename(job: dict) -> str:
    """The name a downloaded log gets: <task>-<short id>.log, safe in a header and on any disk."""
    task = re.sub(r"[^A-Za-z0-9._-]+", "_", job.get("task") or "job").strip("._") or "job"
    return f"{task}-{job['id'][:8]}.log"

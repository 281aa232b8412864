"""Search across jobs: a string or regex in the rendered logs of a task's last N jobs, within a time budget.

Rows are the terminal model's rendered rows (tailapp.terminal.render), numbered as the viewer numbers them,
so every hit is a permalink /jobs/<id>#L<row>.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from tailapp import joblist, jobs
from tailapp.store import Store
from tailapp.terminal import render

MAX_LOG_LINES = 200_000  # a longer log is searched in its first this many lines
HITS_PER_JOB = 20  # hits listed per job; the count goes on
SHOWN_CHARS = 300  # characters of a hit row shown around its match


class QueryError(ValueError):
    """A search that cannot run: an empty string, a bad regex."""


@dataclass(frozen=True)
class Query:
    """What to find: `text` as a plain string (any case) or, with `regex`, a Python regular expression."""

    text: str
    regex: bool = False

    def compile(self) -> re.Pattern:
        if not self.text:
            raise QueryError("say what to search for (q)")
        try:
            return re.compile(self.text if self.regex else re.escape(self.text), re.IGNORECASE)
        except re.error as exc:
            raise QueryError(f"not a regular expression: {exc}") from None


def direct(fn, *args):
    return fn(*args)


def search(store: Store, task: str, query: Query, last: int, budget: float, cpu=direct) -> dict:
    """{"results": [{"job", "hits": [{"row", "text"}], "count"}] for jobs with a hit, newest first,
    "searched": jobs searched, "complete": False when the budget ran out first}. Logs are read here;
    `cpu(fn, *args)` runs the rendering and matching (the server passes one that leaves its event loop)."""
    pattern = query.compile()
    deadline = time.monotonic() + budget
    candidates = joblist.page(store, joblist.Filter(task=task), last)["jobs"]
    results, searched = [], 0
    for job in candidates:
        if time.monotonic() > deadline:
            break
        hits = cpu(matches, jobs.texts(store, job["id"], MAX_LOG_LINES), pattern)
        searched += 1
        if hits:
            results.append({"job": job, "count": len(hits),
                            "hits": [{"row": n, "text": excerpt(row, pattern)} for n, row in hits[:HITS_PER_JOB]]})
    return {"results": results, "searched": searched, "candidates": len(candidates),
            "complete": searched == len(candidates)}


def matches(texts: list[str], pattern: re.Pattern) -> list[tuple[int, str]]:
    """(row number from 1, row) of each rendered row of the raw lines `texts` that `pattern` finds."""
    return [(n, row) for n, row in enumerate(render(texts), 1) if pattern.search(row)]


def excerpt(row: str, pattern: re.Pattern) -> str:
    """The row, or SHOWN_CHARS of it around the first match."""
    if len(row) <= SHOWN_CHARS:
        return row
    match = pattern.search(row)
    start = max(0, (match.start() if match else 0) - SHOWN_CHARS // 3)
    return ("…" if start else "") + row[start : start + SHOWN_CHARS] + "…"

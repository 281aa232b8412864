"""Marker lines the viewer understands: foldable sections and progress.

`section` writes `::group::<title>` and `::endgroup::`; `progress` writes `::progress::<fraction> <message>`
and also stores the progress on the job, so the job page and the job list can show a bar. Progress calls
with nothing written in between redraw one row (cursor up, erase line) instead of adding a row each.
"""

from __future__ import annotations

import contextlib
import sys
import time
import weakref
from collections.abc import Iterator

from tailapp import capture
from tailapp import protocol as p
from tailapp.writer import LogWriter

PROGRESS_MARKER = "::progress::"
REDRAW = "\x1b[1A\x1b[2K"  # back to the row above and erase it
STORE_EVERY = 0.25  # seconds between progress updates of the job hash (each one is published)
_stored_at: weakref.WeakKeyDictionary[LogWriter, float] = weakref.WeakKeyDictionary()
_progress_row: weakref.WeakKeyDictionary[LogWriter, int] = weakref.WeakKeyDictionary()  # lines queued after it


@contextlib.contextmanager
def section(title: str) -> Iterator[None]:
    """Fold the output of the block under `title` in the viewer."""
    _line(f"::group::{_one_line(title)}")
    try:
        yield
    finally:
        _line("::endgroup::")


def progress(fraction: float, message: str = "") -> None:
    """Report how far the job is (0 to 1, and what it is doing): a marker line and the job's `progress`."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    message = _one_line(message)  # clipped where it is stored, once masked: a clip must not halve a secret
    marker = f"{PROGRESS_MARKER}{round(fraction, 4):g} {message}".rstrip()
    writer = capture.current()
    if not isinstance(writer, LogWriter):
        _line(marker)
        return
    in_place = _progress_row.get(writer) == writer.lines_queued and not writer.has_partial
    _line(REDRAW + marker if in_place else marker)
    _progress_row[writer] = writer.lines_queued
    _store(writer, fraction, message)


def _store(writer: LogWriter, fraction: float, message: str) -> None:
    now = time.monotonic()
    if fraction < 1 and now - _stored_at.get(writer, 0.0) < STORE_EVERY:
        return  # a tight loop of updates must not flood Redis and every viewer with job events
    _stored_at[writer] = now
    writer.store.set_fields(writer.job_id, {"progress": {"fraction": fraction, "message": message}},
                            only_from=(p.RUNNING,))


def _line(text: str) -> None:
    """Write `text` as a line of its own: LogWriter.note in a job, else a line on the captured stream or stdout."""
    writer = capture.current()
    if isinstance(writer, LogWriter):
        writer.note(text)
    else:
        (writer or sys.stdout).write(text + "\n")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())

"""The worker's side of a log: turn written text into numbered lines and ship them to Redis in batches.

Batching is adaptive. A background thread sends whatever is pending in one script call; while that call
is in flight new lines pile up and go together in the next one. An idle writer therefore sends a line at
once, and a fast producer gets large batches without any timer.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import redis

from tailapp.masking import Masker
from tailapp.store import MAX_LINES_PER_CALL, Store, encode_line

CUT_MARKER = " \u21a9"  # ends each piece of a line that was split for being too long
SKIPPED_LINE = ("\x1b[33m\u2702 {lines:,} line{s} ({size}) skipped: the log passed its {limit} limit; "
                "the last {kept:,} lines follow\x1b[0m")


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.4g} MB"
    return f"{n / 1024:.4g} KB" if n >= 1024 else f"{n} bytes"


def size_of(lines: list[str]) -> int:
    """Bytes the lines take in the log: UTF-8 and a newline each."""
    return sum(len(line) if line.isascii() else len(line.encode("utf-8", "replace")) for line in lines) + len(lines)


class WriterError(RuntimeError):
    """The writer could not reach Redis for longer than it may retry."""


class LogWriter:
    """A text stream whose lines go to a job's backlog and channel, with seq and timestamp."""

    def __init__(self, store: Store, job_id: str, *, max_line_chars: int = 64 * 1024,
                 max_pending: int = 50_000, retry_seconds: float = 60.0, masker: Masker | None = None,
                 max_log_bytes: int = 100 * 1024 * 1024, tail_bytes: int = 1024 * 1024):
        self.store = store
        self.job_id = job_id
        self.max_line_chars = max_line_chars
        self.max_pending = max_pending
        self.retry_seconds = retry_seconds
        self.max_log_bytes = max_log_bytes
        self.tail_bytes = tail_bytes
        self.masker = masker or Masker()
        self._size = 0  # bytes of log written so far
        self._tail: deque[tuple[str, int]] | None = None  # past the limit: (element, bytes) of the last output
        self._tail_size = 0
        self._skipped = self._skipped_bytes = 0
        self._partial = ""
        self._pending: list[str] = []
        self._sent = store.line_count(job_id)  # lines Redis has
        self._queued = self._sent  # lines handed to the flusher, counting those
        self._error: Exception | None = None
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"tailapp-writer-{job_id[:8]}", daemon=True)
        self._thread.start()

    # -- the stream API (print(), sys.stdout) -------------------------------------------------------
    def write(self, text: str) -> int:
        """Accept text; every complete line is queued at once, a trailing partial line waits."""
        if "\n" not in text:
            self._partial += text
            if len(self._partial) > self.max_line_chars * 4:  # no newline for a long while: ship it in pieces
                self._push([self._partial])
                self._partial = ""
            return len(text)
        first, *rest = text.split("\n")
        lines = [self._partial + first, *rest]
        self._partial = lines.pop()
        self._push(lines)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        """Wait until every complete line written so far is in Redis."""
        with self._cond:
            while self._sent < self._queued and self._error is None:
                self._cond.wait()
        self._raise_if_failed()

    def close(self) -> None:
        """Send the partial line and the kept tail of a truncated log, flush, and stop the flusher."""
        if self._partial:
            self._push([self._partial])
            self._partial = ""
        if self._tail is not None:
            self._send_tail()
        self.flush()
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()

    @property
    def lines_sent(self) -> int:
        return self._sent

    @property
    def lines_queued(self) -> int:
        """Lines accepted so far (sent or on their way)."""
        return self._queued

    @property
    def has_partial(self) -> bool:
        return bool(self._partial)

    def note(self, line: str) -> None:
        """Write a line of tailapp's own, on a line of its own even if the task left one unfinished."""
        self.write(("\n" if self._partial else "") + line + "\n")

    # -- producer side ------------------------------------------------------------------------------
    def _push(self, lines: list[str]) -> None:
        ms = int(time.time() * 1000)
        if self.masker:  # whole lines, before they are cut: a secret written in two parts is still caught
            lines = [self.masker.mask(line) for line in lines]
        if any(len(line) > self.max_line_chars for line in lines):
            lines = [piece for line in lines for piece in self._cut(line)]
        elements = [encode_line(ms, line) for line in lines]
        size = size_of(lines)
        if self._tail is not None or self._size + size > self.max_log_bytes:
            elements = self._limit(elements, lines, ms)
        self._size += size
        self._enqueue(elements)

    def _enqueue(self, elements: list[str]) -> None:
        if not elements:
            return
        with self._cond:
            self._raise_if_failed()
            while len(self._pending) >= self.max_pending and self._error is None:
                self._cond.wait()  # backpressure: the task waits for Redis instead of eating memory
            self._pending.extend(elements)
            self._queued += len(elements)
            self._cond.notify_all()

    def _limit(self, elements: list[str], lines: list[str], ms: int) -> list[str]:
        """Past the size limit: send what fits; of the rest keep a rolling tail, sent when the log closes."""
        room = self.max_log_bytes - self._size
        sent = []
        for element, line in zip(elements, lines, strict=True):
            size = size_of([line])
            if self._tail is None and size <= room:
                sent.append(element)
                room -= size
            else:
                if self._tail is None:
                    self._tail = deque()
                    self.store.set_fields(self.job_id, {"truncated": 1})  # live: output is being held back
                self._keep(element, size)
        return sent

    def _keep(self, element: str, size: int) -> None:
        self._tail.append((element, size))
        self._tail_size += size
        while self._tail_size > self.tail_bytes and len(self._tail) > 1:
            dropped = self._tail.popleft()[1]
            self._tail_size -= dropped
            self._skipped += 1
            self._skipped_bytes += dropped

    def _send_tail(self) -> None:
        """The one marker row (when anything was skipped) and the kept tail; the job object gets the counts."""
        kept = [element for element, _ in self._tail]
        if self._skipped:
            notice = SKIPPED_LINE.format(lines=self._skipped, s="s"[: self._skipped - 1], kept=len(kept),
                                         size=human_size(self._skipped_bytes), limit=human_size(self.max_log_bytes))
            kept.insert(0, encode_line(int(time.time() * 1000), notice))
        self._tail = None
        self._enqueue(kept)
        self.store.set_fields(self.job_id, {"truncated": int(bool(self._skipped)), "skipped_lines": self._skipped,
                                            "skipped_bytes": self._skipped_bytes})

    def _cut(self, line: str) -> list[str]:
        """Split an over-long line into pieces; every piece but the last ends with a visible marker."""
        if len(line) <= self.max_line_chars:
            return [line]
        size = self.max_line_chars - len(CUT_MARKER)
        pieces = [line[i : i + size] for i in range(0, len(line), size)]
        return [p + CUT_MARKER for p in pieces[:-1]] + pieces[-1:]

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise WriterError(f"log writer for job {self.job_id} failed: {self._error}") from self._error

    # -- flusher thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                batch = self._take_batch()
            try:
                self._send(batch)
            except Exception as exc:  # noqa: BLE001 - any failure must reach the task, not die here
                with self._cond:
                    self._error = exc.__cause__ or exc
                    self._cond.notify_all()
                return
            with self._cond:
                self._sent += len(batch)
                self._cond.notify_all()

    def _take_batch(self) -> list[str]:
        if len(self._pending) <= MAX_LINES_PER_CALL:
            batch, self._pending = self._pending, []
        else:
            batch = self._pending[:MAX_LINES_PER_CALL]
            del self._pending[:MAX_LINES_PER_CALL]
        return batch

    def _send(self, batch: list[str]) -> None:
        """Append a batch, retrying while Redis is unreachable (bounded by retry_seconds)."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            try:
                self.store.append_lines(self.job_id, batch, before=self._sent)
                return
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if time.monotonic() + delay > deadline:
                    raise WriterError(str(exc)) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

"""The worker's side of a log: turn written text into numbered lines and ship them to Redis in batches.

Batching is adaptive. A background thread sends whatever is pending in one script call; while that call
is in flight new lines pile up and go together in the next one. An idle writer therefore sends a line at
once, and a fast producer gets large batches without any timer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque

import redis
from redis.exceptions import ClusterDownError, TryAgainError

from tailapp.masking import Masker
from tailapp.store import MAX_LINES_PER_CALL, Store, encode_line

log = logging.getLogger(__name__)
# Redis away, or a cluster between a master's death and its replica's promotion: try again.
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, ClusterDownError, TryAgainError)
LOST_LINES = re.compile(r"line count is (\d+), writer expected (\d+)")  # the append script's refusal
KEEP_LINES = 20_000  # lines kept after Redis took them, to send again if a failover loses them
CUT_MARKER = " \u21a9"  # ends each piece of a line that was split for being too long
LINE_OVERHEAD = 1  # what a line costs beyond its text: its newline (a log counts the bytes its download holds)
SURROGATE = re.compile("[\ud800-\udfff]")  # not encodable as UTF-8 (e.g. a non-UTF-8 file name, decoded)
UNSTORABLE_LINE = "\x1b[31m\u25a0 tailapp could not store this line ({error}); the log goes on\x1b[0m"
SKIPPED_LINE = ("\x1b[33m\u2702 {lines:,} line{s} ({size}) skipped: the log passed its {limit} limit; "
                "the last {kept:,} lines follow\x1b[0m")


def encodable(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    if text.isascii():  # the common case, and a constant-time check
        return text
    return SURROGATE.sub("\ufffd", text) if SURROGATE.search(text) else text


def line_size(line: str) -> int:
    """What a line counts against the size limits: its UTF-8 bytes and the per-line overhead."""
    return (len(line) if line.isascii() else len(line.encode())) + LINE_OVERHEAD


def lines_size(lines: list[str]) -> int:
    """line_size of all the lines (the same sum, with the ASCII case in C loops)."""
    if len(lines) == 1:  # print(): one line a call, and this runs for each
        return line_size(lines[0])
    size = sum(map(len, lines)) + LINE_OVERHEAD * len(lines)
    if not all(map(str.isascii, lines)):
        size += sum(len(line.encode()) - len(line) for line in lines if not line.isascii())
    return size


def cut_utf8(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` UTF-8 bytes, never splitting a character."""
    data = text.encode()
    pieces, start = [], 0
    while start < len(data):
        end = min(start + size, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: back to the start of its character
            end -= 1
        pieces.append(data[start:end].decode())
        start = end
    return pieces


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.4g} MB"
    return f"{n / 1024:.4g} KB" if n >= 1024 else f"{n} bytes"


class WriterError(RuntimeError):
    """The writer could not reach Redis for longer than it may retry."""


class LogWriter:
    """A text stream whose lines go to a job's backlog and channel, with seq and timestamp."""

    def __init__(self, store: Store, job_id: str, *, max_line_bytes: int = 64 * 1024,
                 max_pending: int = 50_000, retry_seconds: float = 60.0, masker: Masker | None = None,
                 max_log_bytes: int = 100 * 1024 * 1024, tail_bytes: int = 1024 * 1024):
        self.store = store
        self.job_id = job_id
        self.max_line_bytes = max_line_bytes
        self.max_pending = max_pending
        self.retry_seconds = retry_seconds
        self.max_log_bytes = max_log_bytes
        self.tail_bytes = tail_bytes
        self.masker = masker or Masker()
        self._mask = self.masker.mask if self.masker else None  # None: no secrets, nothing to look for
        self._size = 0  # bytes of log written so far, as line_size counts them
        self._tail: deque[tuple[str, int]] | None = None  # once truncated: (element, size) of the last output
        self._tail_size = 0
        self._skipped = self._skipped_bytes = 0
        self._partial = ""
        self._pending: list[str] = []
        self._sent = store.line_count(job_id)  # lines Redis has
        self._queued = self._sent  # lines handed to the flusher, counting those
        self._kept: deque[str] = deque(maxlen=KEEP_LINES)  # the last lines sent, up to line _sent
        self._error: Exception | None = None
        self._closing = False
        # The task's writes take the plain lock (a C call per line); the Condition's Python methods run only
        # when a thread waits: the flusher for lines (`_idle`), a flush() for Redis, a full queue for room.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._idle = False  # the flusher waits for lines
        self._thread = threading.Thread(target=self._run, name=f"tailapp-writer-{job_id[:8]}", daemon=True)
        self._thread.start()

    # -- the stream API (print(), sys.stdout) -------------------------------------------------------
    def write(self, text: str) -> int:
        """Accept text; every complete line is queued at once, a trailing partial line waits."""
        if text == "\n":  # print() writes its text, then this: the partial line is complete
            line, self._partial = self._partial, ""
            self._push([line])
            return 1
        written, text = len(text), encodable(text)
        if "\n" not in text:
            self._partial += text
            if len(self._partial) > self.max_line_bytes * 4:  # no newline for a long while: ship it in pieces
                self._push([self._partial])
                self._partial = ""
            return written
        first, *rest = text.split("\n")
        lines = [self._partial + first, *rest]
        self._partial = lines.pop()
        self._push(lines)
        return written

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
        self._settle()

    def _settle(self) -> None:
        """Once the replicas have the log, check that it is whole; send again what a failover lost."""
        try:
            have = self.store.settled_line_count(self.job_id)
        except redis.RedisError as exc:
            log.warning("job %s: line count not checked at the end: %s", self.job_id, exc)
            return
        if have < self._sent and self._can_resend(have, self._sent):
            self._resend(have, self._sent)

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
        if self._mask is not None:  # whole lines, before they are cut: a secret written in two parts is still caught
            lines = [self._mask(line) for line in lines]
        if len(lines) == 1 and len(lines[0]) <= self.max_line_bytes // 4:  # print(): one line that needs no cut
            elements, size = [encode_line(ms, lines[0])], line_size(lines[0])
        else:
            lines = self._cut_long(lines)
            elements, size = [encode_line(ms, line) for line in lines], lines_size(lines)
        if self._tail is not None or self._size + size > self.max_log_bytes:
            elements = self._limit(elements, lines, ms)
        self._size += size
        self._enqueue(elements)

    def _enqueue(self, elements: list[str]) -> None:
        if not elements:
            return
        with self._lock:
            if self._error is not None or len(self._pending) >= self.max_pending:
                self._wait_for_room()
            self._pending.extend(elements)
            self._queued += len(elements)
            if self._idle:
                self._cond.notify_all()

    def _wait_for_room(self) -> None:
        """Backpressure, holding the lock: the task waits for Redis instead of eating memory."""
        self._raise_if_failed()
        while len(self._pending) >= self.max_pending and self._error is None:
            self._cond.wait()

    def _limit(self, elements: list[str], lines: list[str], ms: int) -> list[str]:
        """Past the size limit: send what fits; of the rest keep a rolling tail, sent when the log closes."""
        room = self.max_log_bytes - self._size
        sent = []
        for element, line in zip(elements, lines, strict=True):
            size = line_size(line)
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

    def _cut_long(self, lines: list[str]) -> list[str]:
        """The lines with each one over max_line_bytes split into pieces."""
        fits = self.max_line_bytes // 4  # characters that fit whatever they are (4: the most bytes of one)
        if len(lines[0]) <= fits if len(lines) == 1 else max(map(len, lines), default=0) <= fits:
            return lines
        return [piece for line in lines for piece in self._cut(line)]

    def _cut(self, line: str) -> list[str]:
        """Split an over-long line into pieces; every piece but the last ends with a visible marker."""
        if len(line) <= self.max_line_bytes // 4 or len(line.encode()) <= self.max_line_bytes:
            return [line]
        pieces = cut_utf8(line, self.max_line_bytes - len(CUT_MARKER.encode()))
        return [p + CUT_MARKER for p in pieces[:-1]] + pieces[-1:]

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise WriterError(f"log writer for job {self.job_id} failed: {self._error}") from self._error

    # -- flusher thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._idle = True
                while not self._pending and not self._closing:
                    self._cond.wait()
                self._idle = False
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
                self._kept.extend(batch)
                self._cond.notify_all()

    def _take_batch(self) -> list[str]:
        if len(self._pending) <= MAX_LINES_PER_CALL:
            batch, self._pending = self._pending, []
        else:
            batch = self._pending[:MAX_LINES_PER_CALL]
            del self._pending[:MAX_LINES_PER_CALL]
        return batch

    def _send(self, batch: list[str]) -> None:
        """Append a batch; one that fails for another reason than Redis (a line that does not encode…) goes
        line by line instead, so the lines after a bad one are kept."""
        try:
            self._append(batch, self._sent)
        except (WriterError, redis.ResponseError):
            raise  # Redis unreachable for too long, or the log is not what this writer thinks (deleted)
        except Exception as exc:  # noqa: BLE001 - one bad line must not lose the ones after it
            log.error("job %s: a batch of %d lines was refused (%r); sending it line by line",
                      self.job_id, len(batch), exc)
            for n, element in enumerate(batch):
                self._send_alone(element, self._sent + n)

    def _send_alone(self, element: str, before: int) -> None:
        """Append one line; a line that cannot be sent is replaced by a notice, so the numbering holds."""
        try:
            self._append([element], before)
        except (WriterError, redis.ResponseError):
            raise
        except Exception as exc:  # noqa: BLE001
            log.error("job %s: line %d not stored: %r", self.job_id, before + 1, exc)
            ms = element.partition(" ")[0]
            self._append([f"{ms} {UNSTORABLE_LINE.format(error=type(exc).__name__)}"], before)

    def _append(self, batch: list[str], before: int) -> None:
        """Append a batch, retrying while Redis is unreachable (bounded by retry_seconds)."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            try:
                self.store.append_lines(self.job_id, batch, before=before)
                return
            except UNAVAILABLE as exc:
                if time.monotonic() + delay > deadline:
                    raise WriterError(str(exc)) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except redis.ResponseError as exc:
                have = _lost_from(exc, before)
                if have is None or not self._can_resend(have, before):
                    raise
                self._resend(have, before)

    def _can_resend(self, have: int, before: int) -> bool:
        """Are lines have+1..before the last ones sent, and all still kept?"""
        return before == self._sent and before - have <= len(self._kept)

    def _resend(self, have: int, before: int) -> None:
        """Redis has lost lines have+1..before (an asynchronous failover): append them again, same seqs."""
        log.warning("job %s: Redis lost lines %d..%d (a failover?); sending them again", self.job_id, have + 1, before)
        lost = list(self._kept)[len(self._kept) - (before - have) :]
        self._append(lost, have)


def _lost_from(exc: redis.ResponseError, before: int) -> int | None:
    """The line count Redis has, when the append script refused a batch because it has fewer lines than
    the writer sent (lost in a failover); else None."""
    match = LOST_LINES.search(str(exc))
    have = int(match.group(1)) if match else None
    return have if have is not None and have < before else None

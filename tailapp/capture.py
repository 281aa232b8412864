"""Route print(), sys.stdout/sys.stderr and `logging` records of the running task to its log writer.

sys.stdout is process-wide, but two jobs may run at once in one worker (threads or gevent pool), so the
stream is a router: each write goes to the writer bound in the current context (thread or greenlet),
and to the original stream outside a job. Log records take the same route through a handler on the
root logger that writes only inside a job.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TextIO

_writer: ContextVar[TextIO | None] = ContextVar("tailapp_writer", default=None)
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_install_lock = threading.Lock()


class _Router:
    """A stand-in for sys.stdout/sys.stderr that writes to the current job's log when there is one."""

    def __init__(self, fallback: TextIO):
        self.fallback = fallback

    def write(self, text: str) -> int:
        return (_writer.get() or self.fallback).write(text)

    def flush(self) -> None:
        writer = _writer.get()
        if writer is None:
            self.fallback.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str):
        return getattr(self.fallback, name)


class _LogHandler(logging.Handler):
    """Writes formatted records to the current job's log; outside a job it does nothing."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        # Never the fallback stream: in a Celery worker that is a logging proxy, which would log the
        # line again and come back here.
        writer = _writer.get()
        if writer is None:
            return
        # A failed writer raises on the task's next write or at close; logging must not raise here.
        with contextlib.suppress(Exception):
            writer.write(self.format(record) + "\n")


def _install() -> None:
    with _install_lock:
        _install_streams()
        root = logging.getLogger()
        if not any(isinstance(handler, _LogHandler) for handler in root.handlers):
            root.addHandler(_LogHandler())


def _install_streams() -> None:
    if not isinstance(sys.stdout, _Router):
        sys.stdout = _Router(sys.stdout)
    if not isinstance(sys.stderr, _Router):
        sys.stderr = _Router(sys.stderr)


def current() -> TextIO | None:
    """The log writer of the job running in this context, if any."""
    return _writer.get()


@contextlib.contextmanager
def capture(writer: TextIO) -> Iterator[TextIO]:
    """Send this context's stdout, stderr and log records to `writer` for the duration of the block."""
    _install()
    token = _writer.set(writer)
    try:
        yield writer
    finally:
        _writer.reset(token)

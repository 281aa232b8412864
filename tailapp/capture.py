"""Route print() and sys.stdout/sys.stderr of the running task to its log writer.

sys.stdout is process-wide, but two jobs may run at once in one worker (threads or gevent pool), so the
stream is a router: each write goes to the writer bound in the current context (thread or greenlet),
and to the original stream outside a job.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TextIO

_writer: ContextVar[TextIO | None] = ContextVar("tailapp_writer", default=None)


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


def _install() -> None:
    if not isinstance(sys.stdout, _Router):
        sys.stdout = _Router(sys.stdout)
    if not isinstance(sys.stderr, _Router):
        sys.stderr = _Router(sys.stderr)


def current() -> TextIO | None:
    """The log writer of the job running in this context, if any."""
    return _writer.get()


@contextlib.contextmanager
def capture(writer: TextIO) -> Iterator[TextIO]:
    """Send this context's stdout and stderr to `writer` for the duration of the block."""
    _install()
    token = _writer.set(writer)
    try:
        yield writer
    finally:
        _writer.reset(token)

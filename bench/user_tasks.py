"""The bench's tail task, run by a real Celery worker (TAILAPP_TASK_MODULES=bench.user_tasks).

Each line is a plain print() whose text starts with time.time() when printed, so a viewer measures
latency from the task's own print, below the writer's millisecond `times`.
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

from bench.producer import write_lines
from tailapp import tail_task


def _print(text: str) -> None:
    print(text[:-1])  # the line without its newline: print adds it, as a task's print would


@tail_task
def printer(lines: int = 1000, rate: float = 0.0, gate: str = "") -> int:
    """Print `lines` stamped lines: all at once (rate 0), else `rate` lines per second; with `gate`, only
    once that file exists (the bench opens it when every viewer is subscribed)."""
    while gate and not os.path.exists(gate):
        time.sleep(0.001)
    write_lines(SimpleNamespace(write=_print), lines, rate or None)
    return 0

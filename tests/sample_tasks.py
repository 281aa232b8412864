"""Tail tasks the tests run in the real worker (TAILAPP_TASK_MODULES points here)."""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from typing import Literal

from tailapp import JobFailed, progress, run, section, tail_task

log = logging.getLogger("sample")


@tail_task
def mixed(rounds: int = 2) -> int:
    """Write through print, stderr, logging and a child process, in turn."""
    for n in range(1, rounds + 1):
        print(f"print {n}")
        sys.stderr.write(f"stderr {n}\n")
        log.warning("logging %d", n)
        child = f"import sys; print('child out {n}'); print('child err {n}', file=sys.stderr)"
        run([sys.executable, "-u", "-c", child])
    return 0


@tail_task
def tagged(tag: str = "a", lines: int = 50, interval: float = 0.002) -> int:
    """Print and log lines carrying a tag, slowly enough that two jobs overlap."""
    for n in range(lines):
        print(f"{tag} print {n}")
        log.warning("%s log %d", tag, n)
        time.sleep(interval)
    return 0


@tail_task(secrets=["SAMPLE_TOKEN"])
def steps(mode: Literal["fast", "slow"] = "fast", count: int = 3, ratio: float = 0.5, loud: bool = False) -> int:
    """Sections and progress."""
    with section("Prepare"):
        print("preparing")
    for n in range(1, count + 1):
        progress(n / count, f"step {n} of {count}")
        if mode == "slow":
            time.sleep(0.3)
    return 0


@tail_task
def slow_exit(code: int = 3, lines: int = 5, interval: float = 0.1) -> int:
    """Print lines slowly, then end with `code`."""
    for n in range(1, lines + 1):
        print(f"\x1b[32mline {n}\x1b[0m")
        time.sleep(interval)
    if code:
        raise JobFailed(f"gave up with {code}", code)
    return 0


@tail_task(secrets=["SAMPLE_TOKEN"])
def leaky() -> int:
    """Print a declared secret and a configured one, split over writes and through logging."""
    token = os.environ["SAMPLE_TOKEN"]
    print("token=" + token[:5], end="")
    print(token[5:] + " done")
    log.warning("header Authorization: Bearer %s", token)
    print("key", os.environ["TAILAPP_SECRET_KEY"])
    return 0


@tail_task
def boom(message: str = "kaboom") -> int:
    """Raise an exception after one line."""
    print("about to fail")
    raise ValueError(message)


@tail_task(soft_time_limit=1)
def overtime(seconds: float = 30) -> int:
    """Sleep past a one-second time limit."""
    print("working")
    time.sleep(seconds)
    return 0


@tail_task
def wide(lines: int = 100, width: int = 65_000, interval: float = 0) -> int:
    """Print `lines` lines of `width` random hex digits (WebSocket compression cannot shrink them), each
    tagged with its number at both ends."""
    for n in range(1, lines + 1):
        tag = f"<{n}>"
        print(tag + random.Random(n).randbytes(width // 2).hex()[: width - 2 * len(tag)] + tag)
        time.sleep(interval)
    return 0

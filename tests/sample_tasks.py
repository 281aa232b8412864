"""Tail tasks the tests run in the real worker (TAILAPP_TASK_MODULES points here)."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Literal

from tailapp import JobFailed, Secret, progress, run, section, tail_task

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


@tail_task(secrets=["SAMPLE_TOKEN"])
def leaky_fields() -> int:
    """Leak secrets every way but a plain print: a section title, progress, colours, overwrites, a PEM key, an error."""
    token, pem = os.environ["SAMPLE_TOKEN"], os.environ["SAMPLE_PEM"]
    with section(f"Deploy with {token}"):
        print(pem, end="")
        print(f"grep: {token[:4]}\x1b[01;31m{token[4:9]}\x1b[m{token[9:]}")  # a highlighted match
        print(f"{'x' * 4}{token[4:]}\r{token[:4]}")  # a terminal shows the token whole
        print(f"{token[:3]}x\b{token[3:]}")  # so does this one
        progress(0.5, f"pushing with {token}")
    raise ValueError(f"login failed for {token} with key\n{pem}")


@tail_task
def login(user: str, password: Secret, realm: Secret = "default-realm", wait: float = 0.0) -> int:
    """Use secret parameters: print them, and fail saying one."""
    time.sleep(wait)
    print(f"logging in {user} with {password} to {realm}")
    print(f"password length {len(password)}")
    if password.startswith("wrong"):
        raise JobFailed(f"password {password} refused")
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
def long_command(seconds: float = 60) -> int:
    """Run a child process that sleeps: a cancel lands inside run()."""
    print("starting the command")
    return run([sys.executable, "-u", "-c", f"import time; print('child started'); time.sleep({seconds})"])


@tail_task
def report(result: str = "ok", fail: bool = False) -> int:
    """A build report whose times, ids, paths and counters change on every run; `result` is the real news."""
    import tempfile
    import uuid

    started = time.time()
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} build {uuid.uuid4()} in {tempfile.mkdtemp()}")
    for n in range(1, 6):
        print(f"[{n}/5] step {n} done in {time.time() - started:.3f}s, {n * 20}% ({os.getpid() * n} bytes)")
    print(f"result: {result}")
    return 1 if fail else 0

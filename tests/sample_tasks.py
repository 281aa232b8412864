"""Tail tasks the tests run in the real worker (TAILAPP_TASK_MODULES points here)."""

from __future__ import annotations

import codecs
import logging
import os
import random
import sys
import time
from pathlib import Path
from typing import Literal

from tailapp import JobFailed, Secret, progress, run, section, tail_task

log = logging.getLogger("sample")
TERMINAL_FIXTURES = Path(__file__).parent / "fixtures" / "terminal"
FixtureName = Literal["apt", "curl", "git", "npm", "pip", "rich", "stress", "tqdm", "traceback"]


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
    print("fetching 0%")
    print("\x1b[1A\x1b[2Kfetching 100%")  # redrawn in place: two raw lines, one row
    for n in range(1, 6):
        print(f"[{n}/5] step {n} done in {time.time() - started:.3f}s, {n * 20}% ({os.getpid() * n} bytes)")
    print(f"result: {result}")
    return 1 if fail else 0


@tail_task
def replay(fixture: FixtureName = "tqdm", chunk: int = 256, interval: float = 0.005, gate: str = "") -> int:
    """Write a recorded terminal fixture's bytes as the tool wrote them, `chunk` bytes every `interval` s;
    with `gate` (a file path), only once that file exists (a test is ready to watch)."""
    deadline = time.monotonic() + 30
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.02)
    data = (TERMINAL_FIXTURES / f"{fixture}.raw").read_bytes()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for start in range(0, len(data), chunk):
        sys.stdout.write(decoder.decode(data[start : start + chunk]))
        time.sleep(interval)
    sys.stdout.write(decoder.decode(b"", final=True))


@tail_task
def odd_names(count: int = 3) -> int:
    """List file names that are not UTF-8, as Python reads them: with lone surrogates."""
    print("listing")
    for n in range(count):
        print(f"found {os.fsdecode(b'caf' + bytes([0xff - n]) + b'.txt')}")
    print("done")
    return 0


@tail_task
def redraws(count: int = 200, interval: float = 0.001) -> int:
    """Call progress() `count` times, with a line of output before and after."""
    print("before")
    for n in range(1, count + 1):
        progress(n / count, f"item {n}")
        time.sleep(interval)
    print("after")


@tail_task
def emoji(lines: int = 10, width: int = 25) -> int:
    """Print lines of emoji: four UTF-8 bytes per character."""
    for n in range(lines):
        print(f"{n:06d} " + "\U0001f600" * width)
    return 0


@tail_task
def stress(lines: int = 2000, seed: int = 15) -> int:
    """Print tests/stress.py's random cursor log of `lines` lines at once."""
    from tests.stress import stress_log

    sys.stdout.write(stress_log(lines, seed))
    return 0


@tail_task
def redraw_area(rate: int = 1000, seconds: float = 10.0, rows: int = 3) -> int:
    """Redraw a `rows`-row progress area `rate` times a second for `seconds` (cursor up, erase, rewrite)."""
    print("\n" * (rows - 1))
    started = time.monotonic()
    n = 0
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(elapsed * rate)
        for k in range(n, due):
            bars = "".join(f"\x1b[2K\x1b[3{2 + r}mbar {r}\x1b[0m {'#' * ((k + 7 * r) % 50)} {k}\n" for r in range(rows))
            sys.stdout.write(f"\x1b[{rows}A" + bars)
        n = max(n, due)
        time.sleep(0.005)
    print(f"done after {n} redraws")


@tail_task
def noise(lines: int = 1000) -> int:
    """Print random hex lines, which compress badly: a big archive file."""
    for _ in range(lines):
        print(os.urandom(64).hex())
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


@tail_task(title="Sectioned build")
def sectioned(fail: bool = True, pause: float = 0.0) -> int:
    """Three ::group:: sections; with `fail`, the second one holds an error line and the job fails."""
    test = ["test_a ok", "error: test_b broke" if fail else "test_b ok"]
    for name, lines in (("Install", ["pip install ok"]), ("Test", test), ("Report", ["1 passed"])):
        print(f"::group::{name}")
        for line in lines:
            print(line)
            time.sleep(pause)
        print("::endgroup::")
    return 1 if fail else 0

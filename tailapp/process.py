"""Child processes of a job: started in their own process group, output streamed to the log in order.

stdout and stderr share one pipe, or one pseudo-terminal so that tools keep their colours and progress
bars. The job's supervisor tracks the process group, so a cancel kills the child and everything it
started.
"""

from __future__ import annotations

import codecs
import errno
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from typing import TextIO

from tailapp import capture, supervisor

TIMEOUT_EXIT_CODE = 124  # what coreutils' `timeout` returns
PTY_SIZE = (50, 160)  # rows, columns a tool sees in a pseudo-terminal
READ_SIZE = 65536


def run(cmd: str | Sequence[str], *, cwd: str | None = None, env: Mapping[str, str] | None = None,
        timeout: float | None = None, pty: bool = False) -> int:
    """Run a command (argv list, or a string for /bin/sh) with its output in the job's log; its exit code.

    `env` adds to the worker's environment. On timeout the process group is killed and
    subprocess.TimeoutExpired raised.
    """
    argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else [str(a) for a in cmd]
    out = capture.current() or sys.stdout
    code = execute(argv, out, cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout, use_pty=pty)
    if code is None:
        raise subprocess.TimeoutExpired(argv, timeout or 0)
    return code


def execute(argv: list[str], out: TextIO, *, cwd: str | None, env: Mapping[str, str], timeout: float | None,
            use_pty: bool) -> int | None:
    """Run argv in a new process group, streaming merged output to `out`; exit code, None on timeout."""
    if use_pty:
        proc, fd = _spawn_pty(argv, cwd, env)
    else:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        fd = proc.stdout.fileno()
    watcher = supervisor.current()
    if watcher is not None:
        watcher.track(proc.pid)
    try:
        finished = _pump(fd, out, None if timeout is None else time.monotonic() + timeout)
    finally:
        _stop(proc, fd, use_pty, watcher)
    if watcher is not None:
        watcher.raise_if_cancelled()  # the supervisor killed it; do not report that as a failure
    if not finished:
        out.write(f"\n\x1b[31m\u25a0 Timed out after {timeout:g} s: stopped the command.\x1b[0m\n")
        return None
    return _exit_code(proc.returncode)


def _spawn_pty(argv: list[str], cwd: str | None, env: Mapping[str, str]) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR  # keep "\n" as the child wrote it, not "\r\n"
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *PTY_SIZE, 0, 0))
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env={"TERM": "xterm-256color", **env}, stdin=slave, stdout=slave,
                                stderr=slave, start_new_session=True)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)  # the child holds it now; the master reads EOF (EIO) once the child side closes
    return proc, master


def _pump(fd: int, out: TextIO, deadline: float | None) -> bool:
    """Copy output to `out` until end of file (True) or the deadline (False)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return False
        if not select.select([fd], [], [], wait)[0]:
            continue
        chunk = _read(fd)
        text = decoder.decode(chunk, final=not chunk)
        if text:
            out.write(text)
        if not chunk:
            return True


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, READ_SIZE)
    except OSError as exc:
        if exc.errno == errno.EIO:  # Linux: a pty master reads EIO, not EOF, once the child side is closed
            return b""
        raise


def _stop(proc: subprocess.Popen, fd: int, use_pty: bool, watcher: supervisor.Supervisor | None) -> None:
    """End what is left of the process group, reap the child and close our end."""
    supervisor.kill_group(proc.pid, leader=proc)
    if watcher is not None:
        watcher.untrack(proc.pid)
    if use_pty:
        os.close(fd)
    else:
        proc.stdout.close()


def _exit_code(returncode: int) -> int:
    """A shell's convention: killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode

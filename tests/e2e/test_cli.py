"""The `tailapp` command against the real stack: start, tail, jobs, cancel, logs, and one-line errors."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tailapp.embedded import free_port
from tests.e2e.test_terminal import fixture_text
from tests.oracle import oracle_rows, visible_rows

TAILAPP = str(Path(sys.executable).parent / "tailapp")


def cli(stack, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([TAILAPP, *args, "--url", stack.url], capture_output=True, timeout=timeout)


def green(n: int) -> str:
    return f"\x1b[32mline {n}\x1b[0m"


def test_tail_follows_a_running_job_to_the_end_and_returns_its_code(stack):
    job_id = stack.start_job("slow_exit", code=3, lines=8, interval=0.15)
    stack.wait_job(job_id, states={"running"})
    result = cli(stack, "tail", job_id)
    assert result.stdout.decode().splitlines() == [f"line {n}" for n in range(1, 9)]  # a pipe: rendered text
    assert result.returncode == 3
    assert result.stderr.decode() == f"job {job_id} failed: gave up with 3\n"


def test_tail_from_skips_lines_and_resumes_across_a_server_restart(stack):
    # Into a pipe a row is written once it is 50 rows above the cursor: 70 lines make the first come early.
    job_id = stack.start_job("slow_exit", code=0, lines=70, interval=0.06)
    # Unbuffered: a buffered readline() may read past the first line, and communicate() would not see that.
    tail = subprocess.Popen([TAILAPP, "tail", job_id, "--from", "2", "--url", stack.url], stdout=subprocess.PIPE,
                            bufsize=0)
    try:
        first = tail.stdout.readline()
        stack.restart_server()
        rest, _ = tail.communicate(timeout=60)
    finally:
        tail.kill()
    assert (first + rest).decode().splitlines() == [f"line {n}" for n in range(3, 71)]
    assert tail.returncode == 0


def test_tail_on_a_terminal_passes_the_bytes_through(stack):
    job_id = stack.start_job("slow_exit", code=0, lines=3, interval=0.05)
    stack.wait_job(job_id)
    master, slave = pty.openpty()
    try:
        tail = subprocess.run([TAILAPP, "tail", job_id, "--url", stack.url], stdin=slave, stdout=slave,
                              stderr=subprocess.DEVNULL, timeout=60)
        os.close(slave)
        out = b""
        while select.select([master], [], [], 0.5)[0] and (chunk := _read(master)):
            out += chunk
    finally:
        os.close(master)
    assert tail.returncode == 0
    assert out.decode() == "".join(f"{green(n)}\r\n" for n in range(1, 4))  # the tty adds the \r


def test_tail_into_a_pipe_prints_what_a_terminal_shows(stack):
    job_id = stack.start_job("replay", fixture="tqdm", chunk=512, interval=0.001)
    result = cli(stack, "tail", job_id)
    assert result.returncode == 0
    expected = oracle_rows(fixture_text("tqdm"))
    assert visible_rows(result.stdout.decode().split("\n")[:-1]) == expected
    assert len(result.stdout.decode().splitlines()) < 5  # 62 raw lines of redrawn bars


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO once the other side is closed
        return b""


def test_start_follow_streams_and_exits_zero(stack):
    result = cli(stack, "start", "steps", "-p", "count=2", "-p", "mode=fast", "--follow")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[-1] == "::progress::1 step 2 of 2"


def test_start_jobs_logs_and_cancel(stack):
    started = cli(stack, "start", "slow_exit", "-p", "code=0", "-p", "lines=2", "-p", "interval=0")
    job_id = started.stdout.decode().strip()
    assert started.returncode == 0 and len(job_id) == 32
    stack.wait_job(job_id)
    table = cli(stack, "jobs", "-n", "3").stdout.decode().splitlines()
    assert table[0].split() == ["JOB", "TASK", "STATE", "STARTED", "DURATION", "EXIT", "PARAMS"]
    assert table[1].split()[:3] == [job_id, "slow_exit", "succeeded"]
    assert cli(stack, "logs", job_id).stdout.decode() == f"{green(1)}\n{green(2)}\n"
    late = cli(stack, "cancel", job_id)
    assert (late.returncode, late.stderr.decode()) == (1, "Error: job already succeeded (HTTP 409)\n")
    running = stack.start_job("slow_exit", code=0, lines=100, interval=0.1)
    stack.wait_job(running, states={"running"})
    assert cli(stack, "cancel", running).returncode == 0
    assert stack.wait_job(running)["state"] == "cancelled"


def test_errors_are_one_line_and_non_zero(stack):
    port = free_port()
    cases = [
        (cli(stack, "start", "nope"), "unknown task 'nope'"),
        (cli(stack, "start", "steps", "-p", "mode=medium"), "parameter 'mode' must be one of fast, slow"),
        (cli(stack, "tail", "0" * 32), "unknown job (HTTP 404)"),
        (subprocess.run([TAILAPP, "jobs", "--url", f"http://127.0.0.1:{port}"], capture_output=True, timeout=30),
         f"cannot reach http://127.0.0.1:{port}: ConnectionError"),
    ]
    for result, message in cases:
        lines = result.stderr.decode().splitlines()
        assert result.returncode == 1 and len(lines) == 1 and message in lines[0], result.stderr

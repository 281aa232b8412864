"""The `tailapp` command against the real stack: start, tail, jobs, cancel, logs, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tailapp.embedded import free_port

TAILAPP = str(Path(sys.executable).parent / "tailapp")


def cli(stack, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([TAILAPP, *args, "--url", stack.url], capture_output=True, timeout=timeout)


def green(n: int) -> str:
    return f"\x1b[32mline {n}\x1b[0m"


def test_tail_follows_a_running_job_to_the_end_and_returns_its_code(stack):
    job_id = stack.start_job("slow_exit", code=3, lines=8, interval=0.15)
    stack.wait_job(job_id, states={"running"})
    result = cli(stack, "tail", job_id)
    assert result.stdout.decode().splitlines() == [green(n) for n in range(1, 9)]
    assert result.returncode == 3
    assert result.stderr.decode() == f"job {job_id} failed: gave up with 3\n"


def test_tail_from_skips_lines_and_resumes_across_a_server_restart(stack):
    job_id = stack.start_job("slow_exit", code=0, lines=25, interval=0.2)
    # Unbuffered: a buffered readline() may read past the first line, and communicate() would not see that.
    tail = subprocess.Popen([TAILAPP, "tail", job_id, "--from", "2", "--url", stack.url], stdout=subprocess.PIPE,
                            bufsize=0)
    try:
        first = tail.stdout.readline()
        stack.restart_server()
        rest, _ = tail.communicate(timeout=60)
    finally:
        tail.kill()
    assert (first + rest).decode().splitlines() == [green(n) for n in range(3, 26)]
    assert tail.returncode == 0


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
    assert table[0].split() == ["JOB", "TASK", "STATE", "STARTED", "DURATION", "EXIT"]
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

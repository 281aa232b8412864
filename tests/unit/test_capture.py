"""Capture in one process: each thread's print, stderr and log records reach its own writer only."""

from __future__ import annotations

import io
import logging
import sys
import threading

from tailapp.capture import capture

log = logging.getLogger("capture-test")


def test_threads_capture_their_own_output_only():
    logging.getLogger().setLevel(logging.INFO)
    barrier = threading.Barrier(2)
    streams = {tag: io.StringIO() for tag in "ab"}

    def job(tag: str) -> None:
        with capture(streams[tag]):
            barrier.wait()
            for n in range(200):
                print(tag, n)
                sys.stderr.write(f"{tag} err {n}\n")
                log.info("%s log %d", tag, n)

    threads = [threading.Thread(target=job, args=(tag,)) for tag in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for tag, stream in streams.items():
        expected = [line for n in range(200)
                    for line in (f"{tag} {n}", f"{tag} err {n}", f"INFO capture-test: {tag} log {n}")]
        assert stream.getvalue().splitlines() == expected


def test_log_handler_is_installed_once_and_silent_outside_a_job(capsys):
    for _ in range(3):
        with capture(io.StringIO()):
            pass
    handlers = [h for h in logging.getLogger().handlers if type(h).__name__ == "_LogHandler"]
    assert len(handlers) == 1
    logging.getLogger("capture-test").warning("outside any job")
    assert "outside any job" not in capsys.readouterr().out

"""Steps the end-to-end tests repeat: watch a job (connect, subscribe), start one and watch it, and at the end
check that every viewer got every line once, in order."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import expect

from tests.viewer import Viewer


def watch(stack, job_id: str, url: str | None = None, after: int = 0) -> Viewer:
    """A viewer connected to `url` (default: the stack's server) and subscribed to the job."""
    viewer = stack.viewer(url).connect()
    ack = viewer.subscribe(job_id, after=after)
    assert ack["ok"], ack
    return viewer


def open_to_the_end(page, url: str, last_row: str) -> list[str]:
    """Open a job page at `url`, wait until its job succeeded and its last row holds `last_row`: the page's
    script errors meanwhile (the caller asserts there are none, after any checks of its own)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    expect(page.locator("#job-badge")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator(".log .row").last).to_contain_text(last_row, timeout=10_000)
    return errors


def start_and_watch(stack, task: str = "demo", **params) -> tuple[str, Viewer]:
    """Start a job and watch it from its first line: (job id, viewer)."""
    job_id = stack.start_job(task, **params)
    return job_id, watch(stack, job_id)


def all_lines_once(viewers: list[Viewer], n: int, timeout: float = 60) -> None:
    """Wait for each viewer's job to end, check it got lines 1..n once each (assert_exactly), disconnect it."""
    for viewer in viewers:
        viewer.wait_done(timeout)
        assert_exactly(viewer, n)
        viewer.disconnect()


def assert_exactly(viewer: Viewer, n: int) -> None:
    """The server sent seqs 1..n once each, in order, and the terminal job event after the last line."""
    assert viewer.seqs == list(range(1, n + 1)), describe(viewer.seqs, n) + f"; events {viewer.events[:12]}"
    assert viewer.events[-1][0] == "job" and viewer.events[-1][1] in ("succeeded", "failed")
    last_lines = max(i for i, e in enumerate(viewer.events) if e[0] == "lines")
    assert last_lines < len(viewer.events) - 1


def describe(seqs: list[int], n: int) -> str:
    dupes = len(seqs) - len(set(seqs))
    missing = sorted(set(range(1, n + 1)) - set(seqs))
    return f"{len(seqs)} received, {dupes} duplicates, {len(missing)} missing (first {missing[:5]})"


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and its key, made by `openssl` in `directory`."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key

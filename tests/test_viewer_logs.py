"""Logs of any size in the browser (issue 16): download, the size-limit marker, errors, groups, time, wrap.
Real Chromium on the real stack; fixtures from test_viewer."""

from __future__ import annotations

from pathlib import Path

import redis

from tailapp import jobs
from tailapp.store import Store
from tailapp.writer import LogWriter
from tests.test_viewer import browser, open_job, page, row, wait_lines  # fixtures and helpers

__all__ = ["browser", "page"]


def write_job(stack, texts: list[str], task: str = "bench", **writer) -> str:
    """A job whose log is `texts`, written by the real LogWriter into the stack's Redis; left running."""
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    job_id = jobs.create(store, task, {})["id"]
    jobs.start(store, job_id)
    out = LogWriter(store, job_id, **writer)
    for text in texts:
        out.write(text + "\n")
    out.close()
    return job_id


def finish(stack, job_id: str, state: str = "succeeded", code: int = 0) -> None:
    store = Store(redis.Redis.from_url(stack.redis_url, decode_responses=True))
    jobs.finish(store, job_id, state, code)


def test_download_link_saves_the_whole_log_under_the_jobs_name(stack, page):
    job_id = stack.start_job(lines=3000, interval=0)
    stack.wait_job(job_id)
    open_job(page, stack, job_id)
    with page.expect_download() as info:
        page.click("text=Download")
    download = info.value
    assert download.suggested_filename == f"demo-{job_id[:8]}.log"
    lines = Path(download.path()).read_bytes().decode().split("\n")[:-1]
    assert len(lines) == 3000 and lines[-1].endswith("Build succeeded\x1b[0m")


def test_size_limit_marker_row_between_head_and_tail(stack, page):
    texts = [f"line {n:04d}" for n in range(1, 2001)] + ["FAILED: the summary at the end"]
    job_id = write_job(stack, texts, max_log_bytes=1_000, tail_bytes=200)
    finish(stack, job_id, "failed", 1)
    job = stack.job(job_id)
    assert job["truncated"] is True and job["skipped_lines"] > 1000 and job["skipped_bytes"] > 10_000
    open_job(page, stack, job_id)
    wait_lines(page, job["lines"])
    marker = row(page, 101)
    assert f"{job['skipped_lines']:,} lines" in marker.inner_text() and "skipped" in marker.inner_text()
    assert row(page, 100).inner_text().endswith("line 0100")
    assert "FAILED: the summary at the end" in page.evaluate("tailapp.store.plain(tailapp.store.length - 1)")

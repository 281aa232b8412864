"""The whole log, streamed: raw, plain and download past any page size, from Redis and from the archive."""

from __future__ import annotations

import requests

from tailapp import logstream
from tailapp.store import key
from tailapp.terminal import render

BIG = 120_000  # more than the 100,000 lines one page used to stop at


def _read(lines: list[str]):
    return lambda after, count: (lines[after : after + count], [0] * len(lines[after : after + count]))


def test_plain_stream_matches_the_whole_render_and_settles_rows():
    lines = [f"row {n}" for n in range(25)] + ["\x1b[3Aup three", "\rover", "last\x1b[K"]
    whole = "".join(row.rstrip() + "\n" for row in render(lines)).encode()
    for settle in (5, 10, 1000):
        chunks = list(logstream.plain(_read(lines), len(lines), settle=settle))
        assert b"".join(chunks) == whole, settle
    assert b"".join(logstream.plain(_read(lines), len(lines), skip_rows=20)) == b"".join(whole.splitlines(True)[20:])


def test_download_name_is_task_and_short_id():
    assert logstream.filename({"task": "demo", "id": "ab" * 16}) == "demo-abababab.log"
    assert logstream.filename({"task": '../x"; y', "id": "cd" * 16}) == "x_y-cdcdcdcd.log"


def test_whole_log_streams_raw_plain_and_download_from_redis_and_archive(stack):
    job_id = stack.start_job(lines=BIG, interval=0)
    job = stack.wait_job(job_id, timeout=120)
    assert job["lines"] == BIG
    for where in ("redis", "archive"):
        if where == "archive":
            stack.redis.delete(key.job(job_id), key.lines(job_id))  # as the TTL does
        raw = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=60)
        rows = raw.text.split("\n")[:-1]
        assert len(rows) == BIG and rows[-1].endswith("Build succeeded\x1b[0m"), where
        assert raw.headers["X-Next-Seq"] == str(BIG) and "X-More-Data" not in raw.headers
        plain = requests.get(f"{stack.url}/api/jobs/{job_id}/log?ansi=0", timeout=60).text.split("\n")[:-1]
        assert len(plain) == BIG and plain[-1] == "Build succeeded" and f"step {BIG - 1}/{BIG}" in plain[-2]
        assert "\x1b" not in "".join(plain[-100:])
        down = requests.get(f"{stack.url}/api/jobs/{job_id}/log?download=1", timeout=60)
        assert down.headers["Content-Disposition"] == f'attachment; filename="demo-{job_id[:8]}.log"'
        assert down.content == raw.content
        page = requests.get(f"{stack.url}/api/jobs/{job_id}/log?after=100&limit=50", timeout=10)
        assert page.text.split("\n")[:-1] == rows[100:150] and page.headers["X-Next-Seq"] == "150"
        assert page.headers["X-More-Data"] == "true"

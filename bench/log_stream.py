"""Download a 1,000,000-line (~100 MB) log whole through the real server: raw, plain (?ansi=0) and the
download, from Redis and then from the archive; prints time, size and the server's RSS.

    .venv/bin/python -m bench.log_stream [lines]

Layer: HTTP to a real server process (gevent), which reads the log a page at a time (LRANGE from Redis,
gzip members from the archive) while it sends the body. The client reads the body in chunks and keeps
only counts. RSS is sampled every 50 ms while each body is sent; "peak" is the largest sample.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import redis
import requests

from bench.stack import BenchStack, load_average, rss_mb
from tailapp import jobs
from tailapp import protocol as p
from tailapp.archive import Archive
from tailapp.store import Store, encode_line, key


def fill(store: Store, count: int, alive_seconds: int = 0) -> str:
    """A running job with `count` build-like lines of ~90 bytes (coloured) in Redis; with alive_seconds,
    a heartbeat that long, so the lost-job check leaves it running."""
    job_id = jobs.create(store, "bench", {})["id"]
    jobs.start(store, job_id)
    if alive_seconds:
        store.redis.set(key.heartbeat(job_id), 1, ex=alive_seconds)
    ms, batch = int(time.time() * 1000), []
    for n in range(1, count + 1):
        module = f"module_{n % 997:03d}"
        batch.append(encode_line(ms, f"[{n:07d}] compiling src/{module}.c -> build/obj/{module}.o "
                                     f"with -O2 -Wall \x1b[32mok\x1b[0m"))
        if len(batch) == 4000 or n == count:
            store.append_lines(job_id, batch, before=n - len(batch))
            batch = []
    return job_id


class Sampler(threading.Thread):
    """The largest RSS of a process seen while running."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)


def fetch(url: str, pid: int) -> tuple[float, int, int, float]:
    """Seconds, bytes, lines of one whole body, and the server's peak RSS meanwhile."""
    sampler = Sampler(pid)
    sampler.start()
    began, size, lines = time.perf_counter(), 0, 0
    with requests.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    took = time.perf_counter() - began
    sampler.stop.set()
    sampler.join()
    return took, size, lines, sampler.peak


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with BenchStack("tailapp") as stack:
        os.environ["TAILAPP_ARCHIVE_URL"] = str(stack.tmp / "archive")  # the server's archive, and ours
        url = stack.start_server()
        store = Store(redis.Redis.from_url(stack.redis.url, decode_responses=True), Archive(str(stack.tmp / "archive")))
        job_id = fill(store, count)
        jobs.finish(store, job_id, p.SUCCEEDED, 0)  # also writes the archive copy
        print(f"{count:,} lines stored; server RSS {rss_mb(stack.pid()):.0f} MB; load {load_average()}")
        for where in ("redis", "archive"):
            if where == "archive":
                store.redis.delete(key.job(job_id), key.lines(job_id))
            for what, query in (("raw", ""), ("plain", "?ansi=0"), ("download", "?download=1")):
                took, size, lines, peak = fetch(f"{url}/api/jobs/{job_id}/log{query}", stack.pid())
                assert lines == count, (what, lines)
                print(f"{where:7} {what:8}: {lines:,} lines, {size / 1e6:.1f} MB in {took:.2f} s "
                      f"({size / 1e6 / took:.0f} MB/s); server RSS peak {peak:.0f} MB, "
                      f"after {rss_mb(stack.pid()):.0f} MB; load {load_average()}", flush=True)


if __name__ == "__main__":
    main()

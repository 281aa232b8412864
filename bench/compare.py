"""Compare two 100,000-line runs through the real server: GET /api/jobs/<id>/compare and the HTML page.

    .venv/bin/python bench/compare.py [lines]

Layer: HTTP to a real server process, which reads both logs from Redis (LRANGE in pages), normalises
them and diffs them. The two logs are a build-like log with a timestamp, a duration and a counter on
every line (so every line differs before normalisation) and 12 real changes.
"""

from __future__ import annotations

import sys
import time
import uuid

import redis
import requests

from bench.stack import BenchStack, load_average
from tailapp import jobs
from tailapp import protocol as p
from tailapp.store import Store, encode_line


def build_log(lines: int, run: int) -> list[str]:
    now = time.time() + run * 3600
    out = []
    for n in range(1, lines + 1):
        stamp = time.strftime("%H:%M:%S", time.localtime(now + n / 1000))
        out.append(f"\x1b[36m{stamp}\x1b[0m [{n}/{lines}] compiling module_{n % 97:02d} "
                   f"in {(n * (run + 3)) % 977 / 100:.2f}s ({n * (run + 1) % 1000}%)")
    if run:
        for k in range(12):
            out[(k + 1) * lines // 13] = f"warning: deprecated call in module_{k} ({uuid.uuid4()})"
    return out


def store_job(store: Store, texts: list[str]) -> str:
    job_id = jobs.create(store, "bench", {})["id"]
    jobs.start(store, job_id)
    ms = int(time.time() * 1000)
    for start in range(0, len(texts), 4000):
        store.append_lines(job_id, [encode_line(ms, t) for t in texts[start : start + 4000]], before=start)
    jobs.finish(store, job_id, p.SUCCEEDED, 0)
    return job_id


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with BenchStack("tailapp") as stack:
        url = stack.start_server()
        store = Store(redis.Redis.from_url(stack.redis.url, decode_responses=True))
        old, new = store_job(store, build_log(lines, 0)), store_job(store, build_log(lines, 1))
        for what, path in (("API", f"/api/jobs/{new}/compare"), ("page", f"/jobs/{new}/compare")):
            for run in range(3):
                began = time.perf_counter()
                response = requests.get(f"{url}{path}", timeout=60)
                took = time.perf_counter() - began
                assert response.ok, response.text[:200]
                if what == "API":
                    answer = response.json()
                    assert answer["other"]["id"] == old and answer["added"] == 12, answer["added"]
                print(f"compare {lines:,} vs {lines:,} lines, {what} run {run + 1}: {took:.2f} s "
                      f"({len(response.content) / 1024:.0f} KiB)  load {load_average()}", flush=True)


if __name__ == "__main__":
    main()

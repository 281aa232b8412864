"""Search across 100 jobs × 10,000 lines through the real server: GET /api/search.

    .venv/bin/python -m bench.cross_search [jobs] [lines]

Layer: HTTP to a real server process, which reads each log (LRANGE in pages from Redis, or gzip members
from the archive for the jobs whose Redis keys are gone), renders it with the terminal model and matches
every row. Half the jobs are in Redis, half only in the archive. The logs are build-like coloured lines;
one row in each job holds the searched word, so every job is a hit.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import redis
import requests

from bench.compare import store_job  # stores, finishes and so archives a job
from bench.stack import BenchStack, load_average
from tailapp.archive import Archive
from tailapp.store import Store, key


def build_log(lines: int, run: int) -> list[str]:
    out = [f"\x1b[36m[{n}/{lines}]\x1b[0m compiling module_{n % 97:02d} in {(n * 7) % 977 / 100:.2f}s "
           f"\x1b[33mok\x1b[0m" for n in range(1, lines + 1)]
    out[(run * 7919) % lines] = f"\x1b[31merror: flaky_widget_{run} timed out\x1b[0m"
    return out


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    with BenchStack("tailapp") as stack:
        data = stack.tmp / "data"
        client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
        store = Store(client, Archive(str(Path(data) / "archive")))
        began = time.perf_counter()
        ids = [store_job(store, build_log(lines, run)) for run in range(count)]
        for job_id in ids[: count // 2]:  # the older half only in the archive, as after Redis's TTL
            client.delete(key.job(job_id), key.lines(job_id))
        print(f"stored {count} jobs × {lines:,} lines in {time.perf_counter() - began:.1f} s", flush=True)
        url = stack.start_server({"TAILAPP_DATA_DIR": str(data)})
        queries = (("plain", {"q": "flaky_widget"}), ("regex", {"q": r"error: \w+_\d+ timed out", "regex": "1"}))
        for what, query in queries:
            for run in range(3):
                began = time.perf_counter()
                response = requests.get(f"{url}/api/search", timeout=120,
                                        params={"task": "bench", "jobs": count, "budget": 30, **query})
                took = time.perf_counter() - began
                answer = response.json()
                assert response.ok and answer["complete"] and len(answer["results"]) == count, str(answer)[:300]
                print(f"search {what} in {count} jobs × {lines:,} lines, run {run + 1}: {took:.2f} s "
                      f"({count * lines / took / 1e6:.2f} M rows/s)  load {load_average()}", flush=True)


if __name__ == "__main__":
    main()

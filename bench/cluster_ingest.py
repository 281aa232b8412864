"""Ingest: lines/s appended through the real append script, into one Redis vs a 3-master Redis Cluster.

Layer: Store.append_lines / ClusterStore.append_lines (the worker's write path minus the writer thread),
from `--processes` client processes, each appending batches of `--batch` lines to its own jobs round robin
for `--seconds`. The cluster is tests/cluster.py's (3 masters + 3 replicas, Debian's redis-server), the
single Redis tailapp's embedded one (no persistence, as the cluster's nodes).

    .venv/bin/python -m bench.cluster_ingest [--processes 4] [--batch 100] [--seconds 10]

On a machine with few cores the clients, the masters and the replicas share them: the figure says what
this machine does, not what 3 shards on 3 machines do.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
import uuid
from pathlib import Path

from tailapp.embedded import EmbeddedRedis
from tailapp.store import encode_line, open_store
from tests.cluster import RedisCluster


def append_for(url: str, seconds: float, batch: int, jobs: int) -> int:
    """One client process: append batches to its jobs round robin until `seconds` pass; the lines written."""
    store = open_store(url, "bench-ingest")
    job_ids = [uuid.uuid4().hex for _ in range(jobs)]
    counts = dict.fromkeys(job_ids, 0)
    ms = int(time.time() * 1000)
    elements = [encode_line(ms, f"step {n} compiling module_{n % 97:02d} ok") for n in range(batch)]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for job_id in job_ids:
            counts[job_id] = store.append_lines(job_id, elements, counts[job_id])
    return sum(counts.values())


def measure(url: str, processes: int, seconds: float, batch: int) -> float:
    with mp.get_context("spawn").Pool(processes) as pool:
        started = time.monotonic()
        written = sum(pool.starmap(append_for, [(url, seconds, batch, 8)] * processes))
        return written / (time.monotonic() - started)


def settle_ms(url: str, jobs: int = 200) -> float:
    """Median ms of the writer's end-of-log check (settled_line_count: replicas caught up, then LLEN) after a
    100-line append: what closing a log costs to make the failover resend possible."""
    store = open_store(url, "bench-settle")
    times = []
    for _ in range(jobs):
        job_id = uuid.uuid4().hex
        store.append_lines(job_id, [encode_line(0, "x")] * 100, 0)
        started = time.perf_counter()
        store.settled_line_count(job_id)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tailapp-ingest-"))
    single = EmbeddedRedis(tmp / "single", appendonly=False).start()
    cluster = RedisCluster(tmp / "cluster").start()
    try:
        one = measure(single.url, args.processes, args.seconds, args.batch)
        three = measure(cluster.url, args.processes, args.seconds, args.batch)
        settle = settle_ms(single.url), settle_ms(cluster.url)
    finally:
        single.stop()
        cluster.stop()
    print(f"{args.processes} client processes, batches of {args.batch} lines, {args.seconds:.0f} s each; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"  1 Redis:             {one:10,.0f} lines/s")
    print(f"  3-master cluster:    {three:10,.0f} lines/s  ({three / one:.2f}x)")
    print(f"  end-of-log check (median of 200): 1 Redis {settle[0]:.2f} ms, cluster {settle[1]:.2f} ms")


if __name__ == "__main__":
    main()

"""Idle viewers on one server process: its RSS growth per viewer, what holds it, its CPU while idle (issue 17, item 4).

Layer: one real server process (`python server.py`, gevent) with Redis and a Celery worker (threads pool), N
viewers from bench/client.py (raw Engine.IO/Socket.IO over asyncio websockets, in client processes: their own
cost is not measured), each on /tail over WebSocket and subscribed to one running job that writes nothing.

    .venv/bin/python -m bench.idle_viewers --viewers 10000 [--idle 30] [--processes 2]

Prints the server's VmRSS before and after, bytes per viewer, the gc-tracked objects the viewers added by type
(counted inside the server on SIGUSR1, see `serve`), its CPU while idle (Engine.IO pings every 25 s), the load
average, and how many viewers still get one live line written at the end.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import gc
import json
import os
import resource
import signal
import sys
import time

from bench.client import Viewers
from bench.producer import TailappJobs
from bench.stack import OUT, BenchStack, _wait_http, cpu_seconds, load_average, rss_mb
from tailapp.embedded import free_port


def serve(counts_path: str) -> None:
    """Server entry for the bench: server.py, plus a SIGUSR1 handler writing gc object counts and sizes by type."""
    def trim(*_):  # what of the RSS is garbage and freed heap: collect, then give free pages back to the OS
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open(counts_path + ".trimmed", "w") as out:
            out.write("done")

    signal.signal(signal.SIGUSR2, trim)

    def dump(*_):
        counts, sizes = collections.Counter(), collections.Counter()
        for obj in gc.get_objects():
            name = f"{type(obj).__module__}.{type(obj).__qualname__}"
            counts[name] += 1
            sizes[name] += sys.getsizeof(obj)
        with open(counts_path, "w") as out:
            json.dump({"counts": counts, "sizes": sizes}, out)

    signal.signal(signal.SIGUSR1, dump)  # before server.py's patch_all: gevent keeps Python-level handlers
    import runpy

    sys.argv = ["server.py", *sys.argv[1:]]
    runpy.run_path("server.py", run_name="__main__")


def object_counts(pid: int, path: str) -> dict:
    if os.path.exists(path):
        os.unlink(path)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            time.sleep(0.5)
    raise TimeoutError("the server wrote no object counts")


def trimmed_rss(pid: int, path: str) -> float:
    """The server's VmRSS (MiB) once it collected garbage and returned free heap pages (SIGUSR2)."""
    done = path + ".trimmed"
    if os.path.exists(done):
        os.unlink(done)
    os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + 60
    while not os.path.exists(done) and time.monotonic() < deadline:
        time.sleep(0.2)
    return rss_mb(pid)


def start_counting_server(stack: BenchStack) -> str:
    port = free_port()
    counts = str(stack.tmp / "counts.json")
    argv = [sys.executable, "-c", f"import bench.idle_viewers as b; b.serve({counts!r})", "--port", str(port)]
    proc = stack._spawn("idle-server", argv)
    url = f"http://127.0.0.1:{port}"
    _wait_http(f"{url}/socket.io/?EIO=4&transport=polling", proc)
    stack.servers.append((proc, url))
    return url


def run(viewers: int, idle: float, processes: int) -> dict:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    server_log = OUT / "idle-server.log"  # appended across runs: this run's part starts here
    log_start = server_log.stat().st_size if server_log.exists() else 0
    with BenchStack("tailapp") as stack:
        url = start_counting_server(stack)
        stack.start_worker("threads", 1)
        pid, counts_path = stack.pid(), str(stack.tmp / "counts.json")
        producer = TailappJobs(stack.redis.url)
        job_id = producer.create()
        time.sleep(2)
        gc_before = object_counts(pid, counts_path)
        rss_before, load_before = rss_mb(pid), load_average()
        group = Viewers([(url, job_id)] * viewers, 1, processes)
        started = time.monotonic()
        group.start(timeout=600)
        connect_seconds = time.monotonic() - started
        time.sleep(3)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(idle)
        idle_cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        rss_after, load_after = rss_mb(pid), load_average()
        gc_after = object_counts(pid, counts_path)
        rss_trimmed = trimmed_rss(pid, counts_path)
        producer.append_each([job_id], 1)  # one live line: idle viewers, not dead ones
        group.go(60)
        results = group.results()
        producer.finish_all([job_id])
    with open(server_log, "rb") as log:
        log.seek(log_start)
        logged = log.read().decode("utf-8", "replace")
    return {"failed_handshakes": logged.count(" not sent: "), "resyncs": sum(r["resyncs"] for r in results),
            "resynced": sum(1 for r in results if r["resyncs"]),
            "viewers": viewers, "rss_before": rss_before, "rss_after": rss_after, "rss_trimmed": rss_trimmed,
            "idle_cpu": idle_cpu,
            "idle_seconds": idle, "connect_seconds": connect_seconds, "load_before": load_before,
            "load_after": load_after, "live": sum(1 for r in results if r["last"] == 1), "reported": len(results),
            "added": _added(gc_before, gc_after)}


def _added(before: dict, after: dict) -> list[tuple[str, int, int]]:
    rows = []
    for name, count in after["counts"].items():
        grown = count - before["counts"].get(name, 0)
        if grown > 0:
            rows.append((name, grown, after["sizes"][name] - before["sizes"].get(name, 0)))
    return sorted(rows, key=lambda row: -row[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measured")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    args = parser.parse_args()
    out = run(args.viewers, args.idle, args.processes)
    n = out["viewers"]
    grown = (out["rss_after"] - out["rss_before"]) * 1024 * 1024
    print(f"{n} idle viewers on one server process (connected in {out['connect_seconds']:.1f} s)")
    print(f"  server VmRSS: {out['rss_before']:.1f} MiB before, {out['rss_after']:.1f} MiB after "
          f"= +{grown / 2**20:.1f} MiB, {grown / n:,.0f} bytes per viewer")
    trimmed = (out["rss_trimmed"] - out["rss_before"]) * 1024 * 1024
    print(f"  after gc.collect() and malloc_trim(0): +{trimmed / 2**20:.1f} MiB, {trimmed / n:,.0f} bytes per viewer "
          "(the rest of the growth was garbage and free heap)")
    print(f"  subscribe storm: {out['failed_handshakes']} handshakes failed a Redis call (the server's log), "
          f"{out['resynced']} viewers were told to resync ({out['resyncs']} times)")
    print(f"  load average: {out['load_before']} before, {out['load_after']} after")
    print(f"  server CPU while idle: {out['idle_cpu']:.1%} of a core over {out['idle_seconds']:.0f} s")
    print("  gc-tracked objects added, by shallow size (per viewer: count, bytes):")
    for name, count, size in out["added"][:15]:
        print(f"    {name}: +{count} (+{count / n:.1f}/viewer), {size / n:,.0f} B/viewer")
    print(f"  viewers that got the live line written at the end: {out['live']}/{out['reported']} (of {n})")


if __name__ == "__main__":
    main()

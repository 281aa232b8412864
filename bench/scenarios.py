"""The bench scenarios. Each takes a design ("tailapp" or "naive") and returns its figures as a dict."""

from __future__ import annotations

import contextlib
import os
import statistics
import time

from bench.client import Viewers
from bench.producer import NaiveJobs, TailappJobs, produce, produce_many
from bench.stack import BenchStack, cpu_seconds, redis_connections, rss_mb


def _jobs(design: str, stack: BenchStack):
    return (NaiveJobs if design == "naive" else TailappJobs)(stack.redis.url)


def _pct(samples: list[float], q: float) -> float:
    """The q-th percentile in ms (nearest rank)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000


def _latency(results: list[dict]) -> list[float]:
    return [s for r in results for s in r["latencies"]]


def _watch(design: str, viewers: int, count: int, rate: float | None, *, every_line: bool,
           deadline: float, processes: int = 1) -> dict:
    """One job written `count` lines (at `rate`, or burst) while `viewers` watch it live."""
    with BenchStack(design) as stack:
        url = stack.start_server()
        jobs = _jobs(design, stack)
        job = jobs.create()
        group = Viewers([(url, job)] * viewers, count, processes, every_line=every_line).start()
        group.go(deadline)
        with _cpu_used(stack, group) as cpu:
            started = produce(jobs, [job], count, rate)
            produced = time.time()
        results = group.results()
    received = sum(r["received"] for r in results)
    end = max((r["last_at"] for r in results), default=produced)
    lat = _latency(results)
    return {"lines/s": count / (produced - started), "received": received, "expected": count * viewers,
            "deliveries/s": received / max(end - started, 1e-9), "p50 ms": _pct(lat, 50), "p99 ms": _pct(lat, 99),
            "kept up": _kept_up(results, count, viewers, produced), "drain s": round(end - produced, 2),
            "duplicates": sum(r["duplicates"] for r in results), "gaps": sum(r["gaps"] for r in results),
            "resyncs": sum(r["resyncs"] for r in results), "cpu s while producing": cpu}


def _kept_up(results: list[dict], count: int, viewers: int, produced: float) -> bool:
    """Every viewer got every line, the last of them within a second of the producer's last write."""
    complete = len(results) == viewers and all(r["received"] == count and not r["gaps"] for r in results)
    return complete and max(r["last_at"] for r in results) - produced < 1.0


@contextlib.contextmanager
def _cpu_used(stack: BenchStack, group: Viewers):
    """Yields a dict that holds, after the block, the CPU seconds each part of the stack used in it."""
    pids = {"server": [stack.pid()], "redis": [stack.redis.process.pid], "producer": [os.getpid()],
            "clients": [proc.pid for proc in group.procs]}
    before = {name: sum(map(cpu_seconds, ids)) for name, ids in pids.items()}
    used: dict = {}
    yield used
    used.update({name: round(sum(map(cpu_seconds, ids)) - before[name], 2) for name, ids in pids.items()})


def burst(design: str, lines: int = 100_000) -> dict:
    """1. One job writing as fast as it can -> one viewer."""
    return _watch(design, 1, lines, None, every_line=False, deadline=90)


def latency(design: str, viewers: int, seconds: float = 5) -> dict:
    """2. 1,000 lines/s -> `viewers` viewers; latency from the producer's stamp to receipt."""
    return _watch(design, viewers, int(1000 * seconds), 1000, every_line=True, deadline=seconds + 30,
                  processes=1 if viewers == 1 else 2)


def fanout(design: str, lines: int = 20_000) -> dict:
    """3. Burst -> 100 viewers: deliveries per second."""
    return _watch(design, 100, lines, None, every_line=False, deadline=40, processes=2)


def replay(design: str, lines: int = 100_000) -> dict:
    """4. A finished job of `lines` lines -> a new viewer: time until it holds them all."""
    with BenchStack(design) as stack:
        url = stack.start_server()
        jobs = _jobs(design, stack)
        job = jobs.create()
        produce(jobs, [job], lines)
        group = Viewers([(url, job)], lines, 1).start()
        group.go(120)
        result = group.results()[0]
    return {"seconds": result["last_at"] - result["subscribed_at"], "received": result["received"],
            "complete": result["received"] == lines and not result["gaps"]}


def idle_viewers(design: str, steps: tuple[int, ...] = (1, 100, 1000)) -> dict:
    """5. Idle viewers on one server: RSS growth and Redis connections at each step."""
    figures: dict = {}
    with BenchStack(design) as stack:
        url = stack.start_server()
        job = _jobs(design, stack).create()
        time.sleep(1)
        base = rss_mb(stack.pid())
        groups, have = [], 0
        for step in steps:
            more = step - have
            groups.append(Viewers([(url, job)] * more, 0, max(1, more // 300)).start())
            have = step
            time.sleep(1)
            figures[f"redis conns @{step}"] = redis_connections(stack.pid(), stack.redis.port)
        figures["rss growth MB"] = rss_mb(stack.pid()) - base
        for group in groups:
            group.go(0)
            group.results()
    return figures


def many_jobs(design: str, n_jobs: int = 100, per_job: int = 10, rate: float = 100, seconds: float = 10,
              viewer_nice: int = 0) -> dict:
    """6. `n_jobs` concurrent jobs x `per_job` viewers each, every job at `rate` lines/s. The viewers' processes
    share the machine's cores with the server; `viewer_nice` 10 lets them run on the CPU it leaves, nearer
    to viewers on machines of their own (their own receive still waits for a core)."""
    count = int(rate * seconds)
    with BenchStack(design) as stack:
        url = stack.start_server()
        jobs = _jobs(design, stack)
        ids = [jobs.create() for _ in range(n_jobs)]
        group = Viewers([(url, j) for j in ids for _ in range(per_job)], count, 4, every_line=True,
                        nice=viewer_nice).start()
        group.go(seconds + 30)
        with _cpu_used(stack, group) as cpu:
            started = produce_many(jobs, ids, count, rate)
            produced = time.time()
        results = group.results()
    received = sum(r["received"] for r in results)
    end = max(r["last_at"] for r in results)
    lat = _latency(results)
    later = [x for r in results for x, at in zip(r["latencies"], r["sent"], strict=True) if at >= started + 1]
    return {"deliveries/s": received / max(end - started, 1e-9), "received": received,
            "expected": count * n_jobs * per_job, "lines per message": round(received / max(1, sum(
                r["messages"] for r in results)), 2), "p50 ms": _pct(lat, 50), "p99 ms": _pct(lat, 99),
            "p99 ms after 1 s": _pct(later, 99), "p99 ms per second": _per_second_p99(results, started),
            "subscribe storm s": round(max(r["acked_at"] for r in results) - min(r["subscribed_at"] for r in results),
                                       2),
            "slowest subscribe ms": round(max(r["acked_at"] - r["subscribed_at"] for r in results) * 1000),
            "kept up": _kept_up(results, count, n_jobs * per_job, produced), "drain s": round(end - produced, 2),
            "gaps": sum(r["gaps"] for r in results), "resyncs": sum(r["resyncs"] for r in results),
            "cpu s while producing": cpu}


def _per_second_p99(results: list[dict], started: float) -> list[int]:
    """p99 latency (ms) of the lines written in each second of the run: where the tail comes from."""
    buckets: dict[int, list[float]] = {}
    for r in results:
        for x, at in zip(r["latencies"], r["sent"], strict=True):
            buckets.setdefault(int(at - started), []).append(x)
    return [round(_pct(buckets[k], 99)) for k in sorted(buckets)]


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)

"""User's-path scenarios: what a user runs, end to end.

Producers are real Celery tasks (`bench.user_tasks.printer`, one print() per line, each line starting with
the task's time.time()) run by a real `celery -A tailapp.celery worker` (prefork or threads pool) and
started through `POST /api/jobs`; viewers are stock clients: node `socket.io-client` (bench/stock_viewer.js)
and, for one scenario, Chromium on the real job page. The task waits for a gate file, which the bench opens
once every viewer's subscribe is acknowledged, so every line is live (none is replayed).

    .venv/bin/python -m bench.userpath                       # every scenario once, a few minutes
    .venv/bin/python -m bench.userpath --only "burst,trickle 1 job" --repeat 3
    .venv/bin/python -m bench.userpath --profile 20          # py-spy on the server during 20 s trickles

CPU seconds per process (server, worker with its pool processes, Redis, clients) are taken over the window
from opening the gate to the last viewer's report, so a reader sees which process was busy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time

import requests

from bench import pyspy as prof
from bench.client_alone import client_capacity
from bench.run import _fmt, _median_run, _short
from bench.scenarios import _pct
from bench.stack import OUT, BenchStack, ClockWatch, cpu_seconds, load_average, tree_cpu_seconds
from bench.stock import StockViewers

TASK = "printer"


# -- the stack: Redis, a server, a worker --------------------------------------------------------------
@contextlib.contextmanager
def user_stack(pool: str, concurrency: int):
    """Yields (stack, server url, worker process), the worker warmed up by one finished job."""
    with BenchStack("tailapp") as stack:
        url = stack.start_server()
        worker = stack.start_worker(pool, concurrency)
        wait_finished(url, [start_job(url, lines=1)], 60)
        yield stack, url, worker


def start_job(url: str, **params) -> str:
    response = requests.post(f"{url}/api/jobs", json={"task": TASK, "params": params}, timeout=30)
    response.raise_for_status()
    return response.json()["id"]


def wait_finished(url: str, job_ids: list[str], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = [requests.get(f"{url}/api/jobs/{j}", timeout=30).json() for j in job_ids]
        if all(j["finished_at"] for j in jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.2)


def wait_running(url: str, job_ids: list[str], timeout: float = 60) -> None:
    """Every job started (it then waits at its gate)."""
    deadline = time.monotonic() + timeout
    for job_id in job_ids:
        while requests.get(f"{url}/api/jobs/{job_id}", timeout=30).json()["state"] != "running":
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} did not start; is the pool big enough?")
            time.sleep(0.05)


class CpuMeter:
    """CPU seconds of server, worker (with its pool processes) and Redis between start() and stop()."""

    def __init__(self, stack: BenchStack, worker):
        self.pids = {"server": stack.pid(), "worker": worker.pid, "redis": stack.redis.process.pid}

    def read(self) -> dict:
        return {"server": cpu_seconds(self.pids["server"]),
                "server sys": cpu_seconds(self.pids["server"], system_only=True),  # syscalls: send, recv, epoll
                "worker": tree_cpu_seconds(self.pids["worker"]), "redis": cpu_seconds(self.pids["redis"])}

    def start(self) -> CpuMeter:
        self.before = self.read()
        return self

    def stop(self) -> dict:
        now = self.read()
        return {name: round(now[name] - self.before[name], 2) for name in now}


# -- the scenarios -------------------------------------------------------------------------------------
def watch(pool: str, n_jobs: int, per_job: int, count: int, rate: float, *, every_line: bool,
          processes: int = 1, concurrency: int = 2, deadline: float = 90, idle: float = 0,
          profile: str | None = None, deflate: bool = True) -> dict:
    """`n_jobs` printing tasks of `count` lines each (at `rate` lines/s, 0: burst), `per_job` stock viewers
    on each. With `idle`, the server's CPU is first measured that many seconds with everyone subscribed."""
    with user_stack(pool, concurrency) as (stack, url, worker):
        gate = stack.tmp / "gate"
        ids = [start_job(url, lines=count, rate=rate, gate=str(gate)) for _ in range(n_jobs)]
        wait_running(url, ids)
        targets = [(url, j) for j in ids for _ in range(per_job)]
        group = StockViewers(targets, count, processes, every_line, deflate).start()
        meter = CpuMeter(stack, worker)
        idle_cpu = _idle_cpu(meter, idle) if idle else None
        # py-spy stops 2 s before the tasks end: the bench's API polls after them are not the trickle
        spy = prof.record(stack.pid(), OUT / f"profile-{profile}.txt", count / rate - 2) if profile else None
        meter.start()
        group.go(deadline)
        released = time.time()
        gate.touch()
        results = group.results()
        cpu = {**meter.stop(), "clients": round(group.cpu, 2)}
        jobs = wait_finished(url, ids, 30)
        if spy is not None:
            spy.wait()
    figures = _figures(results, count * per_job * n_jobs, count, released, jobs)
    figures["cpu s"] = cpu
    figures["worker µs/line"] = cpu["worker"] / (count * n_jobs) * 1e6
    figures["server ms/message"] = cpu["server"] / max(figures["messages"], 1) * 1000
    figures["server µs/line"] = cpu["server"] / max(figures["received"], 1) * 1e6  # per line delivered to a viewer
    if idle_cpu is not None:
        figures["server idle cpu s/s"] = idle_cpu
        net = cpu["server"] - idle_cpu * (results_end(results, released) - released)
        figures["server ms/message, idle cost removed"] = net / max(figures["messages"], 1) * 1000
    return figures


def _idle_cpu(meter: CpuMeter, seconds: float) -> float:
    """The server's CPU seconds per second while viewers are subscribed and nothing is written."""
    meter.start()
    time.sleep(seconds)
    return round(meter.stop()["server"] / seconds, 4)


def results_end(results: list[dict], released: float) -> float:
    return max((r["last_at"] for r in results), default=released)


def _figures(results: list[dict], expected: int, count: int, released: float, jobs: list[dict]) -> dict:
    received = sum(r["received"] for r in results)
    end = results_end(results, released)
    latencies = [s for r in results for s in r["latencies"]]
    printed = [(r["first_stamp"], r["last_stamp"]) for r in results if r["first_stamp"] is not None]
    task_s = max(last for _, last in printed) - min(first for first, _ in printed) if printed else float("nan")
    complete = all(r["received"] == count and not r["gaps"] for r in results)
    last_print = max((last for _, last in printed), default=end)
    span = max(end - released, 1e-9)
    return {"lines/s end to end": count / span, "deliveries/s": received / span,
            "received": received, "expected": expected, "messages": sum(r["messages"] for r in results),
            "p50 ms": _pct(latencies, 50), "p99 ms": _pct(latencies, 99), "max ms": _pct(latencies, 100),
            "kept up": complete and end - last_print < 1.0, "drain s": round(end - last_print, 3),
            "task printing s": round(task_s, 3), "task lines/s": count / task_s if task_s else float("nan"),
            "gaps": sum(r["gaps"] for r in results), "duplicates": sum(r["duplicates"] for r in results),
            "resyncs": sum(r["resyncs"] for r in results),
            "jobs succeeded": sum(j["state"] == "succeeded" for j in jobs),
            "errors": sorted({str(e) for r in results for e in r["errors"]})[:3]}


def burst(pool: str) -> dict:
    """100,000 lines printed as fast as the task can -> one node viewer: lines/s end to end."""
    return watch(pool, 1, 1, 100_000, 0, every_line=False, concurrency=_concurrency(pool))


def latency(pool: str, viewers: int, deflate: bool = True) -> dict:
    """~1,000 lines/s for 5 s -> `viewers` node viewers: latency from the task's print to the client."""
    return watch(pool, 1, viewers, 5000, 1000, every_line=True, processes=1 if viewers == 1 else 2,
                 concurrency=_concurrency(pool), deflate=deflate)


def fanout(pool: str, deflate: bool = True) -> dict:
    """A 20,000-line burst -> 100 node viewers: deliveries/s."""
    return watch(pool, 1, 100, 20_000, 0, every_line=False, processes=2, concurrency=_concurrency(pool),
                 deflate=deflate)


def trickle_one(pool: str, seconds: float = 4, profile: bool = False, deflate: bool = True) -> dict:
    """One job at ~750 lines/s -> one viewer: server CPU per delivered `lines` message."""
    return watch(pool, 1, 1, int(750 * seconds), 750, every_line=True, concurrency=_concurrency(pool), idle=2,
                 profile="trickle-1-job" if profile else None, deflate=deflate)


def trickle_many(pool: str, seconds: float = 10, profile: bool = False) -> dict:
    """100 jobs x 5 lines/s, one viewer each: server CPU per delivered `lines` message."""
    return watch(pool, 100, 1, int(5 * seconds), 5, every_line=True, concurrency=110, idle=2,
                 profile="trickle-100-jobs" if profile else None)


def _concurrency(pool: str) -> int:
    return 2 if pool == "prefork" else 4


def stock_client_alone(_pool: str) -> dict:
    """The node client's own capacity against a stub server (no tailapp, no Redis)."""
    return client_capacity(StockViewers)


def browser(pool: str) -> dict:
    from bench.browser_path import browser_latency  # Playwright only for this scenario

    return browser_latency(pool)


# name -> (run(pool), pools, figure key, target, higher is better)
SCENARIOS = {
    "stock client alone": (stock_client_alone, ["-"], "deliveries/s", "(capacity)", True),
    "burst": (burst, ["prefork", "threads"], "lines/s end to end", "≥ 250,000", True),
    "latency 1 viewer": (lambda pool: latency(pool, 1), ["prefork", "threads"], "p99 ms", "≤ 2 ms", False),
    "latency browser": (browser, ["prefork"], "p99 ms", "(browser)", False),
    "latency 100 viewers": (lambda pool: latency(pool, 100), ["prefork"], "p99 ms", "≤ 50 ms, keep up", False),
    "fan-out": (fanout, ["prefork"], "deliveries/s", "≥ 500,000", True),
    "trickle 1 job": (trickle_one, ["prefork"], "server ms/message", "(cut ≥ 5×)", False),
    "trickle 100 jobs": (trickle_many, ["threads"], "server ms/message", "(cut ≥ 5×)", False),
    # What permessage-deflate (negotiated by every stock client, never skipped by the server) costs:
    "fan-out without deflate": (lambda pool: fanout(pool, deflate=False), ["prefork"], "deliveries/s", "(what-if)",
                                True),
    "latency 100 viewers without deflate": (lambda pool: latency(pool, 100, deflate=False), ["prefork"], "p99 ms",
                                            "(what-if)", False),
    "trickle 1 job without deflate": (lambda pool: trickle_one(pool, deflate=False), ["prefork"], "server ms/message",
                                  "(what-if)", False),
}


def run(names: list[str], repeat: int) -> dict:
    """{scenario / pool: [figures per run]}, each run printed as it ends with the load average."""
    out: dict = {}
    for name in names:
        fn, pools, *_ = SCENARIOS[name]
        for pool in pools:
            runs = out.setdefault(f"{name} / {pool}", [])
            for _ in range(repeat):
                clock = ClockWatch()
                figures = fn(pool)
                figures["load"] = load_average()
                if step := clock.stepped():  # every latency of this run is off by it
                    figures["wall clock stepped ms"] = step
                runs.append(figures)
                print(f"  {name} / {pool}: {_short(figures)}", flush=True)
    return out


def table(results: dict) -> str:
    rows = ["| scenario / pool | figure | median | target | runs | CPU s of the median run | load |",
            "|---|---|---|---|---|---|---|"]
    for label, runs in results.items():
        _, _, key, target, _ = SCENARIOS[label.rsplit(" / ", 1)[0]]
        median = _median_run(runs, key)
        cpu = ", ".join(f"{k} {v}" for k, v in median.get("cpu s", {}).items())
        rows.append(f"| {label} | {key} | {_fmt(median[key])} | {target} | {' / '.join(_fmt(r[key]) for r in runs)} "
                    f"| {cpu} | {median['load']} |")
    return "\n".join(rows)


def profile_trickles(seconds: float) -> None:
    """py-spy on the server during both trickle scenarios (`seconds` long each, for enough samples); prints
    where the server's time goes."""
    for name, fn, pool in (("trickle-1-job", trickle_one, "prefork"), ("trickle-100-jobs", trickle_many, "threads")):
        figures = fn(pool, seconds, profile=True)
        print(f"\n## {name} (profiled run; load {load_average()}): {_short(figures)}")
        print(prof.summary(OUT / f"profile-{name}.txt"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each scenario (median shown)")
    parser.add_argument("--profile", type=float, metavar="SECONDS",
                        help="instead: profile the server with py-spy during trickles of SECONDS each")
    args = parser.parse_args()
    print(f"load average before: {load_average()}", flush=True)
    if args.profile:
        profile_trickles(args.profile)
        return
    names = [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; known: {', '.join(SCENARIOS)}")
    started = time.time()
    results = run(names, args.repeat)
    print(f"\nload average after: {load_average()}; {time.time() - started:.0f} s; figures are rough (shared "
          "2-core machine)\n")
    print(table(results))
    OUT.mkdir(exist_ok=True)
    (OUT / "userpath.json").write_text(json.dumps(results, default=str, indent=1))


if __name__ == "__main__":
    main()

"""Run every bench scenario against tailapp and the naive baseline; print one table.

    .venv/bin/python -m bench.run            # the whole suite, a few minutes
    .venv/bin/python -m bench.run --only burst,replay --repeat 3
    .venv/bin/python -m bench.run --no-naive          # tailapp only

The user's path (a real Celery task printing, stock clients) is bench/userpath.py.

Each scenario starts its own Redis (no persistence) and server process; viewers are bench/client.py
processes, producers drive tailapp.writer.LogWriter (or the naive writer) from this process.
"""

from __future__ import annotations

import argparse
import json
import math
import time

from bench import scenarios as s
from bench.client_alone import client_capacity
from bench.stack import OUT, ClockWatch, load_average

# name -> (run(design), figure key, target text, higher is better)
SCENARIOS = {
    "client alone": (lambda d: client_capacity(), "deliveries/s", "(not the bottleneck)", True),
    "burst": (s.burst, "deliveries/s", "≥ 250,000 lines/s", True),
    "latency 1 viewer": (lambda d: s.latency(d, 1), "p99 ms", "p99 ≤ 2 ms", False),
    "latency 100 viewers": (lambda d: s.latency(d, 100), "p99 ms", "all keep up, p99 ≤ 50 ms", False),
    "fan-out": (s.fanout, "deliveries/s", "≥ 500,000 deliveries/s", True),
    "replay": (s.replay, "seconds", "≤ 1 s", False),
    "idle viewers": (s.idle_viewers, "rss growth MB", "< 100 MB; conns constant", False),
    "many jobs": (s.many_jobs, "deliveries/s", "100k offered; keep up", True),
    # the same, with the viewers' processes at nice 10: the server's latency without the bench's own
    # viewers (~1.5x its CPU on 2 cores) taking its core; their receive still waits for CPU (issue 17)
    "many jobs (viewers niced)": (lambda d: s.many_jobs(d, viewer_nice=10), "p99 ms after 1 s",
                                 "p99 ≤ 50 ms after 1 s", False),
}
DETAILS = ("messages/s (1 line each)", "p50 ms", "p99 ms", "p99 ms after 1 s", "kept up", "drain s", "received",
           "redis conns @1", "redis conns @100", "redis conns @1000", "complete", "gaps", "duplicates")


def run(names: list[str], repeat: int, naive: bool = True) -> dict:
    """{scenario: {design: [figures per run]}}"""
    out: dict = {}
    for name in names:
        fn = SCENARIOS[name][0]
        designs = ["tailapp"] if name == "client alone" or not naive else ["tailapp", "naive"]
        for design in designs:
            runs = out.setdefault(name, {}).setdefault(design, [])
            for _ in range(repeat if design == "tailapp" else 1):
                clock = ClockWatch()
                runs.append(fn(design))
                if step := clock.stepped():  # every latency of this run is off by it
                    runs[-1]["wall clock stepped ms"] = step
                print(f"  {name} / {design}: {_short(runs[-1])}  (load {load_average()})", flush=True)
    return out


def _short(figures: dict) -> str:
    return ", ".join(f"{k} {_fmt(v)}" for k, v in figures.items())


def _fmt(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def table(results: dict) -> str:
    rows = ["| scenario | figure | tailapp (median) | target | naive | ratio | details (tailapp / naive) |",
            "|---|---|---|---|---|---|---|"]
    for name, by_design in results.items():
        _, key, target, higher = SCENARIOS[name]
        median_run = _median_run(by_design["tailapp"], key)
        ours = median_run[key]
        naive = by_design.get("naive", [{}])[0].get(key)
        ratio = "" if naive in (None, 0) or not ours else f"{(ours / naive if higher else naive / ours):,.1f}×"
        details = " / ".join(_details(median_run if d == "tailapp" else by_design[d][0]) for d in by_design)
        rows.append(f"| {name} | {key} | {_fmt(ours)} | {target} | {_fmt(naive) if naive is not None else ''} "
                    f"| {ratio} | {details} |")
    return "\n".join(rows)


def _median_run(runs: list[dict], key: str) -> dict:
    """The run whose figure is the median (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r[key])
    return ordered[(len(ordered) - 1) // 2]


def _details(figures: dict) -> str:
    return ", ".join(f"{k} {_fmt(figures[k])}" for k in DETAILS if k in figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tailapp scenario (median shown)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",")]
    print(f"load average before: {load_average()}", flush=True)
    started = time.time()
    results = run(names, args.repeat, naive=not args.no_naive)
    print(f"\nload average after: {load_average()}; {time.time() - started:.0f} s\n")
    print(table(results))
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, default=str, indent=1))


if __name__ == "__main__":
    main()

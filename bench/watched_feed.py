"""Lines each server receives from Redis when every job is watched on one server only (issue 17, item 4).

Layer: Redis pub/sub -> the relay of real server processes (`python server.py`), counted by each server's
own /metrics (`tailapp_feed_messages_total{kind="lines"}`), with real Socket.IO viewers (bench/client.py).
Jobs are written by the real writer path (bench/producer.py: the append script, one call per job per round).

    .venv/bin/python -m bench.watched_feed [--servers 4] [--jobs 100] [--rounds 200]

Prints, per server, the line messages it received as a share of all line messages published. Before
issue 17 every server pattern-subscribed every job channel: each received 100 %.
"""

from __future__ import annotations

import argparse
import os
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.client import Viewers
from bench.producer import TailappJobs
from bench.stack import BenchStack


def line_messages(url: str) -> float:
    for family in text_string_to_metric_families(requests.get(f"{url}/metrics", timeout=10).text):
        for sample in family.samples:
            if sample.name == "tailapp_feed_messages_total" and sample.labels.get("kind") == "lines":
                return sample.value
    return 0.0


def run(servers: int, jobs: int, rounds: int) -> dict:
    with BenchStack("tailapp") as stack:
        urls = [stack.start_server() for _ in range(servers)]
        producer = TailappJobs(stack.redis.url)
        job_ids = [producer.create() for _ in range(jobs)]
        viewers = Viewers([(urls[i % servers], job_id) for i, job_id in enumerate(job_ids)], rounds, 2).start()
        time.sleep(1.0)  # every server confirmed its jobs' channels
        before = [line_messages(url) for url in urls]
        started = time.monotonic()
        for seq in range(1, rounds + 1):
            producer.append_each(job_ids, seq)
        viewers.go(120)
        results = viewers.results()
        producer.finish_all(job_ids)
        received = [line_messages(url) - b for url, b in zip(urls, before, strict=True)]
        published = jobs * rounds
        return {"servers": servers, "jobs": jobs, "published": published, "received": received,
                "shares": [r / published for r in received], "write_seconds": time.monotonic() - started,
                "viewers_complete": sum(1 for r in results if r["last"] == rounds and not r["gaps"]),
                "viewers": len(results), "load": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    out = run(args.servers, args.jobs, args.rounds)
    print(f"{out['servers']} servers x {out['jobs']} jobs, each job watched on one server; "
          f"{out['published']} line messages published; load {out['load'][0]:.1f}")
    for i, (count, share) in enumerate(zip(out["received"], out["shares"], strict=True)):
        print(f"  server {i}: received {count:.0f} line messages = {share:.1%} of all (ideal {1 / out['servers']:.0%})")
    print(f"  viewers with every line, no gap: {out['viewers_complete']}/{out['viewers']}")


if __name__ == "__main__":
    main()

"""Recovery after a Redis restart with a big data set: how long until /healthz is healthy and every viewer
has resumed, counted from when Redis answers again, and how many lines viewers lost or got twice.

Layer: the whole line path but Celery. Redis (append-only file, filled to --mb with DEBUG POPULATE in db 1),
one real server process, the real LogWriter as the producer (a line every 1/--rate s, retrying through the
restart as a worker's writer does), and --viewers python-socketio viewers (tests/viewer.py: they resubscribe
on `resync` and retry a refused subscribe). Targets: healthy and resumed within 5 s of Redis answering,
0 lines lost.

    .venv/bin/python -m bench.redis_restart --mb 400 --restarts 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests

from bench.stack import load_average
from tailapp import jobs
from tailapp import protocol as p
from tailapp.embedded import EmbeddedRedis, free_port
from tailapp.store import Store, key
from tailapp.writer import LogWriter
from tests.viewer import Viewer

ROOT = Path(__file__).resolve().parent.parent
VALUE_BYTES = 300


def fill(client: redis.Redis, url: str, mb: int) -> float:
    """Fill db 1 until Redis uses about `mb` MB, and rewrite the AOF so a restart loads it; the MB used."""
    ballast = redis.Redis.from_url(url.rsplit("/", 1)[0] + "/1", socket_timeout=600)
    ballast.execute_command("DEBUG", "POPULATE", mb * 1024 * 1024 // (VALUE_BYTES + 80), "ballast", VALUE_BYTES)
    client.bgrewriteaof()
    time.sleep(0.5)
    while client.info("persistence")["aof_rewrite_in_progress"] or client.info("persistence")["aof_rewrite_scheduled"]:
        time.sleep(0.2)
    return client.info("memory")["used_memory"] / 1024 / 1024


class Producer(threading.Thread):
    """Writes numbered lines to one job through the real LogWriter at `rate` lines/s until stopped."""

    def __init__(self, store: Store, job_id: str, rate: float):
        super().__init__(daemon=True)
        self.writer = LogWriter(store, job_id, retry_seconds=120)
        self.period, self.stopping, self.written = 1 / rate, threading.Event(), 0

    def run(self) -> None:
        while not self.stopping.is_set():
            self.written += 1
            self.writer.write(f"line {self.written}\n")
            time.sleep(self.period)
        self.writer.close()


def wait(check, timeout: float = 120, every: float = 0.01) -> float:
    """Poll `check` until true; the monotonic time it became true, or infinity after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return time.monotonic()
        except (redis.RedisError, requests.RequestException):
            pass
        time.sleep(every)
    return float("inf")


def healthy(url: str) -> bool:
    response = requests.get(f"{url}/healthz", timeout=5)
    return response.status_code == 200 and response.json()["relay"] == "connected"


def restart(server: EmbeddedRedis, client: redis.Redis, job_id: str, url: str, viewers: list[Viewer]) -> dict:
    """Restart Redis; seconds from start to answering PING, and from then to healthy and until every viewer
    has a line written after it (the writer, too, waits for LOADING to end: its retry backoff counts)."""
    server.stop()
    started = time.monotonic()
    server.start(timeout=300, wait_loaded=False)
    answered = wait(lambda: client.ping())
    had = client.llen(key.lines(job_id))
    healthy_at = wait(lambda: healthy(url))
    resumed_at = wait(lambda: all(v.last > had for v in viewers))  # each has a line written since
    return {"loading_s": answered - started, "healthy_s": healthy_at - answered, "resumed_s": resumed_at - answered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=400, help="data set size in Redis (MB)")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--rate", type=float, default=500, help="lines per second written meanwhile")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tailapp-bench-restart-"))
    server = EmbeddedRedis(tmp / "redis", appendonly=True).start()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    print(f"filling Redis: {fill(client, server.url, args.mb):.0f} MB used", flush=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TAILAPP_REDIS_URL": server.url, "TAILAPP_DATA_DIR": str(tmp / "data")}
    with open(tmp / "server.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "server.py", "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    viewers: list[Viewer] = []
    try:
        if wait(lambda: healthy(url), 60) == float("inf"):
            raise SystemExit("the server did not become healthy")
        store = Store(client)
        job_id = jobs.create(store, "bench", {})["id"]
        jobs.start(store, job_id)
        client.set(key.heartbeat(job_id), 1, ex=3600)  # no worker: keep the watchdog from calling it lost
        producer = Producer(store, job_id, args.rate)
        producer.start()
        viewers = [Viewer(url).connect() for _ in range(args.viewers)]
        for viewer in viewers:
            assert viewer.subscribe(job_id, after=0)["ok"]
        runs = []
        for n in range(args.restarts):
            time.sleep(2)
            runs.append(restart(server, client, job_id, url, viewers))
            print(f"restart {n + 1}: Redis loaded in {runs[-1]['loading_s']:.2f} s; after it answered: healthy "
                  f"in {runs[-1]['healthy_s']:.2f} s, every viewer resumed in {runs[-1]['resumed_s']:.2f} s "
                  f"(load {load_average()})", flush=True)
        producer.stopping.set()
        producer.join(120)
        jobs.finish(Store(client), job_id, p.SUCCEEDED, 0)
        for viewer in viewers:
            try:
                viewer.wait_done(120)
            except TimeoutError:
                print(f"a viewer is stuck at line {viewer.last} of {producer.written}")
        expected = list(range(1, producer.written + 1))
        lost = sum(len(set(expected) - set(v.seqs)) for v in viewers)
        doubled = sum(len(v.seqs) - len(set(v.seqs)) for v in viewers)
        print(f"{producer.written} lines written, {args.viewers} viewers: {lost} lines lost, {doubled} received "
              f"twice, {sum(v.resyncs for v in viewers)} resyncs")
        worst = {k: max(r[k] for r in runs) for k in runs[0]}
        print(f"worst of {args.restarts}: loading {worst['loading_s']:.2f} s, healthy {worst['healthy_s']:.2f} s "
              f"and resumed {worst['resumed_s']:.2f} s after Redis answered (target 5 s), lost {lost} (target 0); "
              f"load {load_average()}")
    finally:
        for viewer in viewers:
            viewer.disconnect()
        process.terminate()
        process.wait(15)
        server.stop()


if __name__ == "__main__":
    main()

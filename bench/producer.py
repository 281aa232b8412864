"""Bench producers: write a job's lines as fast as possible or at a fixed rate.

The tailapp side drives the real `tailapp.writer.LogWriter` (the worker's line path, minus Celery's task
start-up); the naive side appends and publishes one line per round trip. Every line starts with the
producer's `time.time()` so viewers can measure latency below the writer's millisecond timestamps.
"""

from __future__ import annotations

import threading
import time
import uuid

import redis

from tailapp import jobs
from tailapp import protocol as p
from tailapp.store import Store, encode_line, key
from tailapp.writer import LogWriter


class TailappJobs:
    """Jobs written through the real writer and Lua script."""

    name = "tailapp"

    def __init__(self, url: str):
        self.store = Store(redis.Redis.from_url(url, decode_responses=True))

    def create(self) -> str:
        job_id = jobs.create(self.store, "bench", {})["id"]
        jobs.start(self.store, job_id)
        # No Supervisor here: a long heartbeat keeps the servers' watchdog from marking the job lost.
        self.store.redis.set(key.heartbeat(job_id), 1, ex=3600)
        return job_id

    def writer(self, job_id: str):
        return LogWriter(self.store, job_id)

    def finish(self, job_id: str, writer) -> None:
        writer.close()
        jobs.finish(self.store, job_id, p.SUCCEEDED, 0)
        self.store.redis.delete(key.heartbeat(job_id))

    def append_each(self, job_ids: list[str], seq: int) -> None:
        """Line `seq` to every job: one append script call per job, as an idle LogWriter sends a line,
        pipelined into one round trip."""
        with self.store.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                keys = (key.lines(job_id), key.job(job_id), key.channel(job_id))
                element = encode_line(int(time.time() * 1000), line(seq)[:-1])
                self.store._append(keys=keys, args=[seq - 1, 1, element], client=pipe)
            pipe.execute()

    def finish_all(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            jobs.finish(self.store, job_id, p.SUCCEEDED, 0)
            self.store.redis.delete(key.heartbeat(job_id))


class NaiveWriter:
    """One RPUSH and one PUBLISH per line, in one round trip, as a simple design would do it."""

    def __init__(self, client: redis.Redis, job_id: str):
        self.client, self.job_id, self.seq, self._partial = client, job_id, 0, ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self.seq += 1
            element = f"{self.seq} {int(time.time() * 1000)} {line}"
            with self.client.pipeline(transaction=False) as pipe:
                pipe.rpush(f"naive:lines:{self.job_id}", element)
                pipe.publish(f"naive:ch:{self.job_id}", element)
                pipe.execute()
        return len(text)

    def close(self) -> None:
        pass


class NaiveJobs:
    """Jobs of the naive baseline: a list and a channel per job, nothing else."""

    name = "naive"

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, decode_responses=True)

    def create(self) -> str:
        return uuid.uuid4().hex

    def writer(self, job_id: str):
        return NaiveWriter(self.client, job_id)

    def finish(self, job_id: str, writer) -> None:
        writer.close()

    def append_each(self, job_ids: list[str], seq: int) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                element = f"{seq} {int(time.time() * 1000)} {line(seq)[:-1]}"
                pipe.rpush(f"naive:lines:{job_id}", element)
                pipe.publish(f"naive:ch:{job_id}", element)
            pipe.execute()

    def finish_all(self, job_ids: list[str]) -> None:
        pass


def line(i: int) -> str:
    return f"{time.time():.6f} step {i} compiling module_{i % 97:02d} \x1b[33mok\x1b[0m\n"


def write_lines(writer, count: int, rate: float | None = None) -> None:
    """Write `count` lines: all at once (rate None) or `rate` per second, each stamped when written."""
    if rate is None:
        for i in range(1, count + 1):
            writer.write(line(i))
        return
    start = time.monotonic()
    i = 1
    while i <= count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        while i <= due:
            writer.write(line(i))
            i += 1
        time.sleep(max(0.0, start + i / rate - time.monotonic()))


def produce(design, job_ids: list[str], count: int, rate: float | None = None) -> float:
    """Write `count` lines to each job (one thread per job when several); return the start time."""
    writers = {job_id: design.writer(job_id) for job_id in job_ids}
    started = time.time()

    def one(job_id: str) -> None:
        write_lines(writers[job_id], count, rate)
        design.finish(job_id, writers[job_id])

    if len(job_ids) == 1:
        one(job_ids[0])
        return started
    threads = [threading.Thread(target=one, args=(j,)) for j in job_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started


def produce_many(design, job_ids: list[str], count: int, rate: float) -> float:
    """`count` lines to every job at `rate` lines/s each, from one loop (no writer threads); return the
    start time. Redis, relay and viewers see what one idle LogWriter per job would send."""
    start, started = time.monotonic(), time.time()
    for seq in range(1, count + 1):
        time.sleep(max(0.0, start + (seq - 1) / rate - time.monotonic()))
        design.append_each(job_ids, seq)
    design.finish_all(job_ids)
    return started

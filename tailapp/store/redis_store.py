"""Store: every read and write of tailapp's data in Redis, with keys from keys.py, scripts from scripts.py
and the line format of messages.py. Nothing else in tailapp sends Redis a command."""

from __future__ import annotations

import json
import time

import redis

from tailapp.store import scripts
from tailapp.store.keys import job_keys, key
from tailapp.store.messages import decode_elements, encode_line, encode_marker, pairs_to_dict
from tailapp.store.sessions import Sessions, SigninCounts

NULL = ""  # how a hash field stores None


class Store:
    """Redis access for one process: scripts registered once, keys from `keys`."""

    keys = staticmethod(job_keys)  # every key of one job

    def __init__(self, client: redis.Redis, archive=None, ttl_seconds: int = 7 * 24 * 3600):
        self.redis = client
        self.archive = archive  # where finished jobs go when they leave Redis
        self.ttl_seconds = ttl_seconds  # how long a finished, archived job stays in Redis
        self.sessions = Sessions(client)
        self.signins = SigninCounts(client)
        self._append = client.register_script(scripts.APPEND_LINES)
        self._set_fields = client.register_script(scripts.SET_FIELDS)

    # -- a job's log and fields -----------------------------------------------------------------------
    def append_lines(self, job_id: str, elements: list[str], before: int) -> int:
        """Append encoded lines after line `before`, publish them; return the new line count."""
        k = self.keys(job_id)
        return int(self._append(keys=(k.lines, k.hash, k.channel), args=[before, len(elements), "\n".join(elements)]))

    def set_fields(self, job_id: str, fields: dict, only_from: tuple[str, ...] = ()) -> dict | None:
        """Write job fields and publish the job; None when the job is missing or not in `only_from`."""
        args = [",".join(only_from), job_id]
        for name, value in fields.items():
            args += [name, encode_field(value)]
        k = self.keys(job_id)
        flat = self._set_fields(keys=(k.hash, k.channel, key.running, key.jobs_channel), args=args)
        return None if flat is None else pairs_to_dict(flat)

    def create_job(self, job_id: str, fields: dict, created_at: int) -> None:
        """Store a new job hash and index it by creation time."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys(job_id).hash, mapping={k: encode_field(v) for k, v in fields.items()})
            pipe.zadd(key.jobs, {job_id: created_at})
            pipe.execute()

    def job_hash(self, job_id: str) -> dict:
        return self.redis.hgetall(self.keys(job_id).hash)

    def job_hashes(self, job_ids: list[str]) -> list[dict]:
        """The hashes of `job_ids` in one round trip ({} for a job not in Redis)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hgetall(self.keys(job_id).hash)
            return pipe.execute()

    def job_exists(self, job_id: str) -> bool:
        return bool(self.redis.exists(self.keys(job_id).hash))

    def read_lines(self, job_id: str, after: int, count: int) -> tuple[list[str], list[int]]:
        """Lines with seq in (after, after + count], as texts and times; from the archive once out of Redis."""
        elements = self.redis.lrange(self.keys(job_id).lines, after, after + count - 1)
        if not elements and self.archive is not None and not self.job_exists(job_id):
            return self.archive.read_lines(job_id, after, count)
        return decode_elements(elements)

    def read_elements(self, job_id: str, after: int, count: int) -> list[str]:
        """Lines with seq in (after, after + count] as stored ("<ms> <text>"), for sending on unparsed."""
        elements = self.redis.lrange(job_keys(job_id).lines, after, after + count - 1)
        if not elements and self.archive is not None and not self.job_exists(job_id):
            texts, times = self.archive.read_lines(job_id, after, count)
            return [encode_line(ms, text) for text, ms in zip(texts, times, strict=True)]
        return elements

    def all_elements(self, job_id: str, chunk: int = 10_000):
        """Every stored line element of a job, read in chunks."""
        start = 0
        while elements := self.redis.lrange(self.keys(job_id).lines, start, start + chunk - 1):
            yield from elements
            start += len(elements)

    def line_count(self, job_id: str) -> int:
        return int(self.redis.llen(self.keys(job_id).lines))

    def settled_line_count(self, job_id: str) -> int:
        """The job's line count as a failover would keep it (one Redis: as it is)."""
        return self.line_count(job_id)

    def expire(self, job_id: str, seconds: int) -> None:
        k = self.keys(job_id)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.expire(k.hash, seconds)
            pipe.expire(k.lines, seconds)
            pipe.execute()

    def delete_job(self, job_id: str) -> None:
        k = self.keys(job_id)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(k.hash, k.lines, k.heartbeat, k.cancel, k.secrets)
            pipe.zrem(key.jobs, job_id)
            pipe.srem(key.unarchived, job_id)
            pipe.execute()

    def publish_marker(self, job_id: str, token: str) -> None:
        """Publish a subscription's marker on the job's channel (see relay.py)."""
        self.redis.publish(self.keys(job_id).channel, encode_marker(token))

    # -- the job index ------------------------------------------------------------------------------
    def recent_job_ids(self, limit: int) -> list[str]:
        return self.redis.zrevrange(key.jobs, 0, limit - 1)

    def job_ids_before(self, created_at: int, limit: int) -> list[str]:
        """Ids of jobs created before `created_at`, newest first."""
        return self.redis.zrevrangebyscore(key.jobs, f"({created_at}", "-inf", start=0, num=limit)

    def jobs_by_time(self, top: int | str, offset: int, count: int) -> list[tuple[str, float]]:
        """(id, created_at) of jobs created at `top` or before ("+inf": any), newest first, from `offset`."""
        return self.redis.zrevrangebyscore(key.jobs, top, "-inf", start=offset, num=count, withscores=True)

    def job_ids_created_until(self, ms: int) -> list[str]:
        return self.redis.zrangebyscore(key.jobs, "-inf", ms)

    def job_ids_beyond_newest(self, keep: int) -> list[str]:
        """Ids of all jobs but the newest `keep`."""
        return self.redis.zrevrange(key.jobs, keep, -1)

    # -- running jobs, cancel, heartbeats -------------------------------------------------------------
    def running_ids(self) -> set[str]:
        return self.redis.smembers(key.running)

    def running_count(self) -> int:
        return int(self.redis.scard(key.running))

    def states_of(self, job_ids: list[str]) -> list[str | None]:
        """The state field of each job, in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hget(self.keys(job_id).hash, "state")
            return pipe.execute()

    def request_cancel(self, job_id: str, seconds: int) -> None:
        self.redis.set(self.keys(job_id).cancel, 1, ex=seconds)

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.redis.exists(self.keys(job_id).cancel))

    def beat(self, job_id: str, seconds: int) -> None:
        """Refresh a running job's heartbeat for `seconds`."""
        self.redis.set(self.keys(job_id).heartbeat, int(time.time() * 1000), ex=seconds)

    def has_heartbeat(self, job_id: str) -> bool:
        return bool(self.redis.exists(self.keys(job_id).heartbeat))

    def claim_reaping(self, job_id: str, seconds: int = 60) -> bool:
        """True for the one server that may mark the job lost (for `seconds`)."""
        return bool(self.redis.set(self.keys(job_id).reaping, 1, nx=True, ex=seconds))

    # -- the archive's retry list ---------------------------------------------------------------------
    def mark_unarchived(self, job_id: str) -> None:
        self.redis.sadd(key.unarchived, job_id)

    def mark_archived(self, job_id: str) -> None:
        self.redis.srem(key.unarchived, job_id)

    def unarchived_ids(self) -> set[str]:
        return self.redis.smembers(key.unarchived)

    # -- secret parameters ----------------------------------------------------------------------------
    def stash_secrets(self, job_id: str, values: dict, seconds: int) -> None:
        """Keep a queued job's secret parameters for its worker, outside the job hash and the Celery message."""
        self.redis.set(self.keys(job_id).secrets, json.dumps(values), ex=seconds)

    def take_secrets(self, job_id: str) -> dict | None:
        """A job's secret parameters, deleted as they are read; None when there are none (or they expired)."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self.keys(job_id).secrets)
            pipe.delete(self.keys(job_id).secrets)
            raw, _ = pipe.execute()
        return None if raw is None else json.loads(raw)

    def drop_secrets(self, job_id: str) -> None:
        self.redis.delete(self.keys(job_id).secrets)

    # -- workers --------------------------------------------------------------------------------------
    def worker_beat(self, name: str, ttl_seconds: float) -> None:
        """Mark worker `name` alive for `ttl_seconds`; forget workers that expired."""
        now = time.time()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key.workers, {name: now + ttl_seconds})
            pipe.zremrangebyscore(key.workers, "-inf", now)
            pipe.execute()

    def live_workers(self) -> int:
        """How many workers are within their time to live (one ZCOUNT whatever the keyspace)."""
        return int(self.redis.zcount(key.workers, time.time(), "+inf"))

    def worker_gone(self, name: str) -> None:
        self.redis.zrem(key.workers, name)

    # -- the connection ---------------------------------------------------------------------------------
    def ping(self) -> None:
        """Raise a redis error unless Redis answers data commands now."""
        self.redis.ping()

    def wait_loaded(self, poll: float = 0.1) -> None:
        """Return once Redis answers data commands (it accepts connections and subscriptions while it
        still loads its data set, answering LOADING to the rest)."""
        while True:
            try:
                self.redis.ping()
                return
            except redis.BusyLoadingError:
                time.sleep(poll)

    def warm(self, count: int | None = None) -> None:
        """Open `count` (default: all) pooled connections now, so the process holds a fixed number."""
        pool = self.redis.connection_pool
        taken = []
        try:  # each is held until all are open (LIFO: a released one would be handed out again)
            for _ in range(count or getattr(pool, "max_connections", 1)):
                taken.append(pool.get_connection())  # reconnects any that Redis dropped
        finally:  # on a failure too: a connection not given back is lost to the fixed pool for good
            for connection in taken:
                pool.release(connection)


def encode_field(value: object) -> str:
    """How a job field is stored in its hash."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)

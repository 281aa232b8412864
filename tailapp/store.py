"""Redis: every key name, the Lua scripts that change them, and the line encoding."""

from __future__ import annotations

import json
import time

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

PREFIX = "tailapp:"
NULL = ""  # how a hash field stores None


class key:  # noqa: N801 - used as a namespace: key.lines(job_id)
    """Every Redis key and channel name tailapp uses."""

    @staticmethod
    def job(job_id: str) -> str:
        return f"{PREFIX}job:{job_id}"

    @staticmethod
    def lines(job_id: str) -> str:
        return f"{PREFIX}lines:{job_id}"

    @staticmethod
    def channel(job_id: str) -> str:
        return f"{PREFIX}ch:{job_id}"

    @staticmethod
    def job_from_channel(channel: str) -> str:
        return channel[len(PREFIX) + 3 :]

    @staticmethod
    def heartbeat(job_id: str) -> str:
        return f"{PREFIX}hb:{job_id}"

    @staticmethod
    def cancel(job_id: str) -> str:
        return f"{PREFIX}cancel:{job_id}"

    @staticmethod
    def secrets(job_id: str) -> str:
        return f"{PREFIX}secrets:{job_id}"

    jobs_channel = f"{PREFIX}jobfeed"  # every job change, for the job list (job channels carry only their own)
    jobs = f"{PREFIX}jobs"  # sorted set of job ids by created_at
    running = f"{PREFIX}running"  # set of running job ids, for the lost-job check
    unarchived = f"{PREFIX}unarchived"  # set of finished job ids not in the archive yet (retried until they are)
    workers = f"{PREFIX}workers"  # sorted set of live Celery workers, scored by when they expire


# Lines are appended, counted and published in one step, so a reader never sees on the channel a line
# that is not in the list yet. Elements are "<ms> <text>"; the channel message is
# "L<first seq>\n<element>\n<element>…" (a line never holds "\n": the writer splits on it).
# ARGV: the count the writer expects before the batch, the batch's size, and the elements joined by
# "\n" (one argument instead of thousands: the client packs it in a fraction of the time). A retry of a
# batch whose reply was lost finds it already there and does nothing, so lines are never doubled.
APPEND_LINES = """
local have = redis.call('LLEN', KEYS[1])
local before, count, joined = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
if have == before + count and count > 0 then return have end
if have ~= before then return redis.error_reply('line count is ' .. have .. ', writer expected ' .. before) end
local elements, pos = {}, 1
for i = 1, count - 1 do
  local stop = string.find(joined, '\\n', pos, true)
  elements[i] = string.sub(joined, pos, stop - 1)
  pos = stop + 1
end
elements[count] = string.sub(joined, pos)
local n = redis.call('RPUSH', KEYS[1], unpack(elements))
redis.call('HSET', KEYS[2], 'lines', n)
redis.call('PUBLISH', KEYS[3], 'L' .. (before + 1) .. '\\n' .. joined)
return n
"""

# A state change is written only when the job's current state is one of ARGV[1] (comma list; empty:
# any), so a late "succeeded" cannot overwrite "cancelled" or "lost". Keeps the set of running jobs
# (ARGV[2] is the job id) and publishes the whole hash on the job's channel and on the job list's (KEYS[4]).
SET_FIELDS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if ARGV[1] ~= '' then
  local state = redis.call('HGET', KEYS[1], 'state')
  if not string.find(',' .. ARGV[1] .. ',', ',' .. state .. ',', 1, true) then return nil end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if redis.call('HGET', KEYS[1], 'state') == 'running' then
  redis.call('SADD', KEYS[3], ARGV[2])
else
  redis.call('SREM', KEYS[3], ARGV[2])
end
local h = redis.call('HGETALL', KEYS[1])
local message = 'J' .. cjson.encode(h)
redis.call('PUBLISH', KEYS[2], message)
redis.call('PUBLISH', KEYS[4], message)
return h
"""

# Redis' Lua unpack() is limited to a few thousand values: batches are cut below that.
MAX_LINES_PER_CALL = 4_000


class Store:
    """Redis access for one process: scripts registered once, keys from `key`."""

    def __init__(self, client: redis.Redis, archive=None, ttl_seconds: int = 7 * 24 * 3600):
        self.redis = client
        self.archive = archive  # where finished jobs go when they leave Redis
        self.ttl_seconds = ttl_seconds  # how long a finished, archived job stays in Redis
        self._append = client.register_script(APPEND_LINES)
        self._set_fields = client.register_script(SET_FIELDS)

    def append_lines(self, job_id: str, elements: list[str], before: int) -> int:
        """Append encoded lines after line `before`, publish them; return the new line count."""
        keys = (key.lines(job_id), key.job(job_id), key.channel(job_id))
        return int(self._append(keys=keys, args=[before, len(elements), "\n".join(elements)]))

    def set_fields(self, job_id: str, fields: dict, only_from: tuple[str, ...] = ()) -> dict | None:
        """Write job fields and publish the job; None when the job is missing or not in `only_from`."""
        args = [",".join(only_from), job_id]
        for name, value in fields.items():
            args += [name, encode_field(value)]
        keys = (key.job(job_id), key.channel(job_id), key.running, key.jobs_channel)
        flat = self._set_fields(keys=keys, args=args)
        return None if flat is None else pairs_to_dict(flat)

    def create_job(self, job_id: str, fields: dict, created_at: int) -> None:
        """Store a new job hash and index it by creation time."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key.job(job_id), mapping={k: encode_field(v) for k, v in fields.items()})
            pipe.zadd(key.jobs, {job_id: created_at})
            pipe.execute()

    def job_hash(self, job_id: str) -> dict:
        return self.redis.hgetall(key.job(job_id))

    def recent_job_ids(self, limit: int) -> list[str]:
        return self.redis.zrevrange(key.jobs, 0, limit - 1)

    def job_ids_before(self, created_at: int, limit: int) -> list[str]:
        """Ids of jobs created before `created_at`, newest first."""
        return self.redis.zrevrangebyscore(key.jobs, f"({created_at}", "-inf", start=0, num=limit)

    def read_lines(self, job_id: str, after: int, count: int) -> tuple[list[str], list[int]]:
        """Lines with seq in (after, after + count], as texts and times; from the archive once out of Redis."""
        elements = self.redis.lrange(key.lines(job_id), after, after + count - 1)
        if not elements and self.archive is not None and not self.redis.exists(key.job(job_id)):
            return self.archive.read_lines(job_id, after, count)
        return decode_elements(elements)

    def all_elements(self, job_id: str, chunk: int = 10_000):
        """Every stored line element of a job, read in chunks."""
        start = 0
        while elements := self.redis.lrange(key.lines(job_id), start, start + chunk - 1):
            yield from elements
            start += len(elements)

    def expire(self, job_id: str, seconds: int) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.expire(key.job(job_id), seconds)
            pipe.expire(key.lines(job_id), seconds)
            pipe.execute()

    def delete_job(self, job_id: str) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key.job(job_id), key.lines(job_id), key.heartbeat(job_id), key.cancel(job_id),
                        key.secrets(job_id))
            pipe.zrem(key.jobs, job_id)
            pipe.srem(key.unarchived, job_id)
            pipe.execute()

    def stash_secrets(self, job_id: str, values: dict, seconds: int) -> None:
        """Keep a queued job's secret parameters for its worker, outside the job hash and the Celery message."""
        self.redis.set(key.secrets(job_id), json.dumps(values), ex=seconds)

    def take_secrets(self, job_id: str) -> dict | None:
        """A job's secret parameters, deleted as they are read; None when there are none (or they expired)."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(key.secrets(job_id))
            pipe.delete(key.secrets(job_id))
            raw, _ = pipe.execute()
        return None if raw is None else json.loads(raw)

    def line_count(self, job_id: str) -> int:
        return int(self.redis.llen(key.lines(job_id)))

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


def encode_line(ms: int, text: str) -> str:
    return f"{ms} {text}"


def decode_elements(elements: list[str]) -> tuple[list[str], list[int]]:
    """Split "<ms> <text>" elements into texts and times."""
    texts, times = [], []
    for element in elements:
        ms, _, text = element.partition(" ")
        texts.append(text)
        times.append(int(ms))
    return texts, times


def decode_message(data: str) -> tuple[str, object]:
    """Parse a channel message: ("lines", (seq, texts, times)) or ("job", hash dict); ValueError otherwise."""
    try:
        if data[0] == "L":
            head, _, body = data.partition("\n")
            texts, times = decode_elements(body.split("\n"))
            return "lines", (int(head[1:]), texts, times)
        if data[0] == "J":
            fields = pairs_to_dict(json.loads(data[1:]))
            if "id" in fields:
                return "job", fields
    except (IndexError, TypeError) as exc:
        raise ValueError(f"malformed message: {exc}") from exc
    raise ValueError(f"not a tailapp message: {data[:20]!r}")


def encode_field(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def pairs_to_dict(flat: list) -> dict:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


class RetryButNotWhileLoading(Retry):
    """redis-py's retry of a command on connection errors, except LOADING (a ConnectionError to redis-py):
    retrying that for seconds would hold a pooled connection per request until the pool runs dry, where
    the caller can answer "try again" at once."""

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        def retryable(error: Exception) -> bool:
            return not isinstance(error, redis.BusyLoadingError) and (is_retryable is None or is_retryable(error))

        return super().call_with_retry(do, fail, retryable, with_failure_count)


def fixed_pool_client(url: str, size: int, name: str, wait_seconds: float = 10) -> redis.Redis:
    """A client on a fixed pool of `size` connections that waits for a free one instead of growing."""
    retry = RetryButNotWhileLoading(ExponentialWithJitterBackoff(base=0.01, cap=1), 10)
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=size, timeout=wait_seconds, client_name=name,
                                                 decode_responses=True, health_check_interval=30, retry=retry)
    return redis.Redis(connection_pool=pool)


def unavailable_message(exc: redis.RedisError) -> str:
    """What to tell a client when Redis cannot answer now: a short sentence; trying again will work."""
    if isinstance(exc, redis.BusyLoadingError):
        return "Redis is loading its data, try again"
    return "Redis is unreachable, try again"


def connect(url: str, **kwargs) -> redis.Redis:
    """A Redis client for `url` that returns str (decode_responses) and checks idle connections."""
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30, **kwargs)

"""Every Redis client tailapp opens is built here: the data clients (a fixed pool in servers) and the
feed's pub/sub client."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry


class RetryButNotWhileLoading(Retry):
    """redis-py's retry of a command on connection errors, except LOADING (a ConnectionError to redis-py):
    retrying that for seconds would hold a pooled connection per request until the pool runs dry, where
    the caller can answer "try again" at once."""

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        def retryable(error: Exception) -> bool:
            return not isinstance(error, redis.BusyLoadingError) and (is_retryable is None or is_retryable(error))

        return super().call_with_retry(do, fail, retryable, with_failure_count)


def connect(url: str, **kwargs) -> redis.Redis:
    """A Redis client for `url` that returns str (decode_responses) and checks idle connections."""
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30, **kwargs)


def fixed_pool_client(url: str, size: int, name: str, wait_seconds: float = 10) -> redis.Redis:
    """A client on a fixed pool of `size` connections that waits for a free one instead of growing."""
    retry = RetryButNotWhileLoading(ExponentialWithJitterBackoff(base=0.01, cap=1), 10)
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=size, timeout=wait_seconds, client_name=name,
                                                 decode_responses=True, health_check_interval=30, retry=retry)
    return redis.Redis(connection_pool=pool)


def data_client(url: str, name: str, pool_size: int | None = None) -> redis.Redis:
    """The client for reads and writes; with `pool_size`, on a fixed pool of that many connections."""
    return connect(url, client_name=name) if pool_size is None else fixed_pool_client(url, pool_size, name)


def feed_client(url: str) -> redis.Redis:
    """The client of a server's one pub/sub connection (the relay's)."""
    # No read timeout: a quiet feed is no dead one (health-check PINGs tell those). redis-py 8.1 reads with a
    # 5 s socket timeout by default, and the feed's own reads (store/feed.py) do not go through listen(),
    # which lifts it: every quiet feed was "lost" every 5 s and every viewer told to resync.
    # RESP2: redis-py's RESP3 parser handles each published message as a push, with a logging.getLogger()
    # call and a debug log per message (~4 % of the server's CPU at 10,000 messages/s); the feed needs
    # nothing RESP3 brings.
    return connect(url, client_name="tailapp-relay", socket_timeout=None, protocol=2)


def unavailable_message(exc: redis.RedisError) -> str:
    """What to tell a client when Redis cannot answer now: a short sentence; trying again will work."""
    if isinstance(exc, redis.BusyLoadingError):
        return "Redis is loading its data, try again"
    return "Redis is unreachable, try again"

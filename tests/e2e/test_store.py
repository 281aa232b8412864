"""The store's Redis connections on a real redis-server: the fixed pool never leaks, LOADING is not retried."""

from __future__ import annotations

import pytest
import redis

from tailapp.embedded import EmbeddedRedis
from tailapp.store import RetryButNotWhileLoading, Store, fixed_pool_client


@pytest.fixture
def redis_url(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis", appendonly=False).start()
    try:
        yield server.url
    finally:
        server.stop()


def free_connections(client: redis.Redis) -> int:
    return client.connection_pool.pool.qsize()


def test_warm_gives_every_connection_back_when_one_cannot_be_taken(redis_url):
    client = fixed_pool_client(redis_url, 4, "test", wait_seconds=0.2)
    store = Store(client)
    busy = client.connection_pool.get_connection()  # a request holds one: warm cannot take all four
    with pytest.raises(redis.ConnectionError, match="No connection available"):
        store.warm()
    client.connection_pool.release(busy)
    assert free_connections(client) == 4
    store.warm()  # and all four can be opened afterwards, again and again
    store.warm()
    assert free_connections(client) == 4
    assert client.ping()


def test_warm_gives_every_connection_back_when_redis_goes_away(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis", appendonly=False).start()
    client = fixed_pool_client(server.url, 3, "test", wait_seconds=0.2)
    store = Store(client)
    store.warm()
    server.stop()
    with pytest.raises(redis.ConnectionError):
        store.warm()
    assert free_connections(client) == 3
    server = EmbeddedRedis(tmp_path / "redis", port=server.port, appendonly=False).start()
    try:
        store.warm()
        assert free_connections(client) == 3 and client.ping()
    finally:
        server.stop()


class Flaky:
    """A command that fails `times` times with `error`, then answers."""

    def __init__(self, error: Exception, times: int):
        self.error, self.left, self.calls = error, times, 0

    def __call__(self):
        self.calls += 1
        if self.left:
            self.left -= 1
            raise self.error
        return "PONG"


def test_retry_gives_up_at_once_on_loading_but_retries_a_dropped_connection():
    from redis.backoff import NoBackoff

    retry = RetryButNotWhileLoading(NoBackoff(), 3)
    loading = Flaky(redis.BusyLoadingError("Redis is loading the dataset in memory"), 1)
    with pytest.raises(redis.BusyLoadingError):
        retry.call_with_retry(loading, lambda error: None)
    assert loading.calls == 1
    dropped = Flaky(redis.ConnectionError("Connection closed by server."), 2)
    assert retry.call_with_retry(dropped, lambda error: None) == "PONG"
    assert dropped.calls == 3

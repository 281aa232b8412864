"""The relay's feed subscription (tailapp/store/feed.py), read straight from redis-py's connection, against a
real Redis."""

from __future__ import annotations

import pytest
import redis

from tailapp.embedded import EmbeddedRedis
from tailapp.store import Feed, connect, key


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False).start()
    yield server.url
    server.stop()


def test_messages_come_in_order_and_pending_tells_whether_more_are_read(url):
    subscription = Feed(connect(url)).subscription()
    subscription.start()
    publisher = connect(url)
    with publisher.pipeline(transaction=False) as pipe:  # one write: Redis sends them together
        for job in ("a" * 32, "b" * 32, "c" * 32):
            pipe.publish(key.channel(job), f"data of {job[0]} \u00e9")
        pipe.execute()
    messages = iter(subscription)
    got = []
    for _ in range(3):
        got.append((*next(messages), subscription.pending()))
    assert got == [("a" * 32, "data of a \u00e9", True), ("b" * 32, "data of b \u00e9", True),
                   ("c" * 32, "data of c \u00e9", False)]
    publisher.publish(key.channel("d" * 32), "later")
    assert next(messages) == ("d" * 32, "later") and not subscription.pending()
    subscription.close()


def test_a_health_check_reply_is_no_message_and_a_lost_server_is_a_connection_error(url):
    subscription = Feed(redis.Redis.from_url(url, decode_responses=True, health_check_interval=1)).subscription()
    subscription.start()
    pubsub = subscription._pubsub
    pubsub.connection.next_health_check = 0  # due now: the subscription sends a PING before it reads
    messages = iter(subscription)
    connect(url).publish(key.channel("a" * 32), "before the ping's answer")
    assert next(messages) == ("a" * 32, "before the ping's answer")
    connect(url).publish(key.channel("a" * 32), "after it")
    assert next(messages) == ("a" * 32, "after it")  # the PONG between them is not handed out
    assert pubsub.health_check_response_counter == 0
    connect(url).client_kill_filter(_type="pubsub")
    with pytest.raises(redis.ConnectionError):
        next(messages)
    subscription.close()

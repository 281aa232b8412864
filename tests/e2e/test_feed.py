"""The relay's feed read straight from a subscribed redis-py connection, against a real Redis."""

from __future__ import annotations

import pytest
import redis

from tailapp import feed
from tailapp.embedded import EmbeddedRedis
from tailapp.store import connect


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False).start()
    yield server.url
    server.stop()


def test_messages_come_in_order_with_whether_more_are_buffered(url):
    client, publisher = connect(url), connect(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("t:*")
    with publisher.pipeline(transaction=False) as pipe:  # one write: Redis sends them together
        for n in range(3):
            pipe.publish(f"t:{n}", f"data {n} \u00e9")
        pipe.execute()
    messages = feed.messages(pubsub)
    got = [next(messages) for _ in range(3)]
    assert got == [("t:0", "data 0 \u00e9", True), ("t:1", "data 1 \u00e9", True), ("t:2", "data 2 \u00e9", False)]
    publisher.publish("t:x", "later")
    assert next(messages) == ("t:x", "later", False)
    pubsub.close()


def test_a_health_check_reply_is_no_message_and_a_lost_server_is_a_connection_error(url):
    client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=1)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("h:*")
    pubsub.connection.next_health_check = 0  # due now: the feed sends a PING before it reads
    messages = feed.messages(pubsub)
    connect(url).publish("h:1", "before the ping's answer")
    assert next(messages)[:2] == ("h:1", "before the ping's answer")  # the PONG may be buffered behind it
    connect(url).publish("h:2", "after it")
    assert next(messages) == ("h:2", "after it", False)  # the PONG between them is not handed out
    assert pubsub.health_check_response_counter == 0
    connect(url).client_kill_filter(_type="pubsub")
    with pytest.raises(redis.ConnectionError):
        next(messages)
    pubsub.close()

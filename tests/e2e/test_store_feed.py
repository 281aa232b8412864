"""The relay's feed subscription (tailapp/store/feed.py), read straight from redis-py's connection, against a
real Redis."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from redis._parsers import _HiredisParser, _RESP2Parser

from tailapp.embedded import EmbeddedRedis
from tailapp.store import Feed, connect, key
from tailapp.store.clients import feed_client


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False).start()
    yield server.url
    server.stop()


JOBS = ("a" * 32, "b" * 32, "c" * 32)
OPEN: list = []  # the subscriptions a test opened, closed after it whatever happened (the next ones count them)


@pytest.fixture(autouse=True)
def _close_subscriptions():
    yield
    while OPEN:
        OPEN.pop().close()


def subscribed(url, client: redis.Redis | None = None) -> tuple:
    """A feed subscription listening to JOBS, once Redis has them: (subscription, its messages, confirmed)."""
    confirmed: list[str] = []
    subscription = Feed(client or connect(url)).subscription(confirmed.append)
    OPEN.append(subscription)
    subscription.start()
    subscription.listen(list(JOBS))
    publisher = connect(url)
    while dict(publisher.pubsub_numsub(*(key.channel(job) for job in JOBS))) != {key.channel(j): 1 for j in JOBS}:
        time.sleep(0.01)
    return subscription, iter(subscription), confirmed


PARSERS = {"hiredis": _HiredisParser, "redis-py's own": _RESP2Parser}


@pytest.mark.parametrize("parser", PARSERS)
def test_messages_come_in_order_and_pending_tells_whether_more_are_read(url, parser):
    """With hiredis (installed with tailapp, redis-py's default then) and without it: pending() looks at
    each parser's buffer."""
    client = connect(url, socket_timeout=None, protocol=2, parser_class=PARSERS[parser])
    subscription, messages, confirmed = subscribed(url, client)
    assert type(subscription._pubsub.connection._parser) is PARSERS[parser]
    publisher = connect(url)
    with publisher.pipeline(transaction=False) as pipe:  # one write: Redis sends them together
        for job in JOBS:
            pipe.publish(key.channel(job), f"data of {job[0]} \u00e9")
        pipe.publish(key.jobs_channel, "a job changed")
        pipe.execute()
    got = []
    for _ in range(4):
        got.append((*next(messages), subscription.pending()))
    assert got == [("a" * 32, "data of a \u00e9", True), ("b" * 32, "data of b \u00e9", True),
                   ("c" * 32, "data of c \u00e9", True), (None, "a job changed", False)]
    assert confirmed == list(JOBS)  # each job channel's confirmation, read on the way
    publisher.publish(key.channel("a" * 32), "later")
    assert next(messages) == ("a" * 32, "later") and not subscription.pending()
    subscription.unlisten(["a" * 32])
    while publisher.pubsub_numsub(key.channel("a" * 32))[0][1]:  # Redis serves its clients in no set order
        time.sleep(0.01)
    publisher.publish(key.channel("a" * 32), "unheard")
    publisher.publish(key.channel("b" * 32), "heard")
    assert next(messages) == ("b" * 32, "heard")
    assert key.channel("a" * 32) not in subscription._pubsub.channels  # redis-py's own set follows
    subscription.close()


def test_a_health_check_reply_is_no_message_and_a_lost_server_is_a_connection_error(url):
    client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=1)
    subscription, messages, _ = subscribed(url, client)
    pubsub = subscription._pubsub
    connect(url).publish(key.channel("a" * 32), "first")
    assert next(messages) == ("a" * 32, "first")
    pubsub.connection.next_health_check = 0  # due now: the subscription sends a PING before it reads
    connect(url).publish(key.channel("a" * 32), "before the ping's answer")
    assert next(messages) == ("a" * 32, "before the ping's answer")
    connect(url).publish(key.channel("a" * 32), "after it")
    assert next(messages) == ("a" * 32, "after it")  # the PONG between them is not handed out
    assert pubsub.health_check_response_counter == 0
    connect(url).client_kill_filter(_type="pubsub")
    with pytest.raises(redis.ConnectionError):
        next(messages)
    subscription.close()


def test_a_quiet_feed_stays_open_past_redis_pys_default_read_timeout(url):
    """redis-py 8.1 reads with a 5 s timeout unless told otherwise: the relay's feed, read directly as
    store/feed.py reads it, lost its connection every 5 s when no job wrote (and every viewer resynced)."""
    pubsub = feed_client(url).pubsub()
    pubsub.subscribe(key.channel("b" * 32))
    connection = pubsub.connection
    assert connection.read_response(disconnect_on_error=False, push_request=True)[0] == "subscribe"
    later = threading.Timer(6.5, lambda: connect(url).publish(key.channel("b" * 32), "after a quiet while"))
    try:
        later.start()
        started = time.monotonic()
        reply = connection.read_response(disconnect_on_error=False, push_request=True)  # raised after 5 s
        assert reply[-1] == "after a quiet while" and time.monotonic() - started > 6
    finally:
        later.cancel()
        pubsub.close()

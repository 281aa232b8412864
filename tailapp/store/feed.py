"""The relay's feed: one pub/sub connection per server, on the job list's channel and on the channels of
the jobs watched on this server (added and dropped as viewers come and go, see tailapp/watch.py).

A subscription reads published messages straight from its connection. redis-py's `PubSub.listen()` wraps
every read in a health check, a retry closure, observability hooks and a message dict, and `can_read(0)`
(the relay asks after each message whether more wait) costs a `recv` that fails with EAGAIN whenever the
feed is drained, i.e. for every message at a trickle: about 40 % of the server's CPU per message together
(BENCHMARKS.md, "User's path, after (issue 14, branch `perf`)"). Here the connection's own parser reads the
replies; its buffer takes whatever the socket holds with each `recv` (up to 64 KB), and `pending()` looks at
that buffer (hiredis's reader when redis-py parses with hiredis, as tailapp installs it: under load the
Python parser was a sixth of the server's CPU). Replies other than messages (subscribe confirmations,
unsubscribes, health-check pongs) are few and go through redis-py's own bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import redis

from tailapp.store.keys import job_keys, job_of_channel, key

PUBLISHED = "message"  # the first element of a published message's reply (SUBSCRIBE, not PSUBSCRIBE)


class Feed:
    """Opens subscriptions on the feed's own client (one connection, apart from the data pool)."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def subscription(self, on_listening: Callable[[str], None]) -> Subscription:
        """A new feed connection; `on_listening(job_id)` runs when Redis confirms a job channel on it."""
        return Subscription(self.client.pubsub(), on_listening)


class Subscription:
    """Iterate for (job id, raw message); job id None for a message on the job list's channel."""

    def __init__(self, pubsub, on_listening: Callable[[str], None]):
        self._pubsub = pubsub  # with subscribe confirmations: they say when a job channel is live
        self._on_listening = on_listening

    def start(self) -> None:
        self._pubsub.subscribe(key.jobs_channel)

    def listen(self, job_ids: list[str]) -> None:
        """Subscribe the channels of `job_ids` (confirmed later, through `on_listening`)."""
        self._pubsub.subscribe(*(job_keys(job_id).channel for job_id in job_ids))

    def unlisten(self, job_ids: list[str]) -> None:
        self._pubsub.unsubscribe(*(job_keys(job_id).channel for job_id in job_ids))

    def __iter__(self) -> Iterator[tuple[str | None, str]]:
        """(job id or None, raw message) per published message; Redis errors are raised as redis-py raises them."""
        pubsub = self._pubsub
        connection = pubsub.connection
        while True:
            pubsub.check_health()  # a PING after health_check_interval without a read, as listen() sends
            reply = connection.read_response(disconnect_on_error=False, push_request=True)
            if isinstance(reply, list) and reply[0] == PUBLISHED:
                channel = reply[1]
                yield (None if channel == key.jobs_channel else job_of_channel(channel)), reply[2]
            elif pubsub.is_health_check_response(reply):
                pubsub.health_check_response_counter -= 1
            else:
                self._control(reply)

    def _control(self, reply) -> None:
        """A (un)subscribe confirmation: redis-py keeps its channel sets; a job channel's says it is live."""
        message = self._pubsub.handle_message(reply, ignore_subscribe_messages=False)
        if message and message["type"] == "subscribe" and message["channel"] != key.jobs_channel:
            self._on_listening(job_of_channel(message["channel"]))

    def pending(self) -> bool:
        """True while more of the feed is already read from the socket (the feed is busy). Asks the
        connection's parser of the moment (a reconnect brings a new one) what it holds: no syscall."""
        parser = getattr(self._pubsub.connection, "_parser", None)
        reader = getattr(parser, "_reader", None)
        if hasattr(reader, "has_data"):  # hiredis
            return reader.has_data()
        buffer = getattr(parser, "_buffer", None)
        if hasattr(buffer, "unread_bytes"):  # redis-py's own parser (its SocketBuffer)
            return buffer.unread_bytes() > 0
        return self._pubsub.connection.can_read(timeout=0)

    def close(self) -> None:
        self._pubsub.close()

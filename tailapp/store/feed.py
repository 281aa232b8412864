"""The relay's feed: one pub/sub subscription to every job channel of the installation.

A subscription reads published messages straight from its connection. redis-py's `PubSub.listen()` wraps
every read in a health check, a retry closure, observability hooks and a message dict, and `can_read(0)`
(the relay asks after each message whether more wait) costs a `recv` that fails with EAGAIN whenever the
feed is drained, i.e. for every message at a trickle: about 40 % of the server's CPU per message together
(BENCHMARKS.md, "User's path, after (issue 14, branch `perf`)"). Here the connection's own parser reads the replies; its
buffer takes whatever the socket holds with each `recv` (up to 64 KB), and `pending()` looks at that buffer.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from tailapp.store.keys import JOB_CHANNEL_PATTERN, job_of_channel

PUBLISHED = ("pmessage", "message")  # the first element of a published message's reply


class Feed:
    """Opens subscriptions on the feed's own client (one connection, apart from the data pool)."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def subscription(self) -> Subscription:
        return Subscription(self.client.pubsub(ignore_subscribe_messages=True))


class Subscription:
    """One pattern subscription to the job channels; iterate for (job id, raw message)."""

    def __init__(self, pubsub):
        self._pubsub = pubsub
        self._buffer = None  # the parser's SocketBuffer, once read from

    def start(self) -> None:
        self._pubsub.psubscribe(JOB_CHANNEL_PATTERN)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(job id, raw message) per published message; Redis errors are raised as redis-py raises them."""
        pubsub = self._pubsub
        connection = pubsub.connection
        while True:
            pubsub.check_health()  # a PING after health_check_interval without a read, as listen() sends
            reply = connection.read_response(disconnect_on_error=False, push_request=True)
            if isinstance(reply, list) and reply[0] in PUBLISHED:
                yield job_of_channel(reply[-2]), reply[-1]
            elif pubsub.is_health_check_response(reply):
                pubsub.health_check_response_counter -= 1
            # else a (p)subscribe confirmation: nothing for the relay

    def pending(self) -> bool:
        """True while more of the feed is already read from the socket (the feed is busy)."""
        if self._buffer is None:
            self._buffer = getattr(getattr(self._pubsub.connection, "_parser", None), "_buffer", None)
        if hasattr(self._buffer, "unread_bytes"):  # redis-py's own parser: no syscall
            return self._buffer.unread_bytes() > 0
        return self._pubsub.connection.can_read(timeout=0)  # hiredis keeps its buffer to itself

    def close(self) -> None:
        self._pubsub.close()

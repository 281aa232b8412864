"""The relay's pub/sub feed: published messages read straight from the subscribed connection.

redis-py's `PubSub.listen()` wraps every read in a health check, a retry closure, observability hooks and
a message dict, and the relay asked `can_read(timeout=0)` after each message to know whether more were
waiting, which costs a `recv` syscall that fails with EAGAIN whenever the feed is drained (every message
at a trickle). Together that was about 40 % of the server's CPU per message (BENCHMARKS.md, "User's path,
after (perf)"). Here the connection's own parser reads the replies: its buffer takes whatever the socket
holds with each `recv` (up to 64 KB), so a busy feed costs one syscall per buffer, not two per message,
and "more waiting" is a look at the buffer.
"""

from __future__ import annotations

from collections.abc import Iterator

PUBLISHED = ("pmessage", "message")


def messages(pubsub) -> Iterator[tuple[str, str, bool]]:
    """(channel, data, more already buffered) for every message published to a subscribed `pubsub`.

    Redis errors surface as redis-py raises them (ConnectionError when the server goes away)."""
    connection = pubsub.connection
    buffered = _buffered(connection)
    while True:
        pubsub.check_health()  # a PING after health_check_interval without a read, as listen() sends
        reply = connection.read_response(disconnect_on_error=False, push_request=True)
        kind = reply[0] if isinstance(reply, list) else None
        if kind in PUBLISHED:
            yield reply[-2], reply[-1], buffered()
        elif pubsub.is_health_check_response(reply):
            pubsub.health_check_response_counter -= 1
        # else a (p)subscribe confirmation or a pong: nothing for the relay


def _buffered(connection):
    """A function telling whether the connection's parser holds unread bytes, without a syscall."""
    buffer = getattr(getattr(connection, "_parser", None), "_buffer", None)
    if buffer is not None and hasattr(buffer, "unread_bytes"):  # redis-py's own parser
        return lambda: buffer.unread_bytes() > 0
    return lambda: connection.can_read(timeout=0)  # hiredis: it has no buffer we can look at

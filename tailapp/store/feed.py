"""The relay's feed: one pub/sub subscription to every job channel of the installation."""

from __future__ import annotations

from collections.abc import Iterator

import redis

from tailapp.store.keys import JOB_CHANNEL_PATTERN, job_of_channel


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

    def start(self) -> None:
        self._pubsub.psubscribe(JOB_CHANNEL_PATTERN)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for message in self._pubsub.listen():
            yield job_of_channel(message["channel"]), message["data"]

    def pending(self) -> bool:
        """True while more messages wait on the connection (the feed is busy)."""
        return self._pubsub.connection.can_read(timeout=0)

    def close(self) -> None:
        self._pubsub.close()

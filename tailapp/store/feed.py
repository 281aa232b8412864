"""The relay's feed: one pub/sub connection per server, on the job list's channel and on the channels of
the jobs watched on this server (added and dropped as viewers come and go, see tailapp/watch.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import redis

from tailapp.store.keys import job_keys, job_of_channel, key


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
        for message in self._pubsub.listen():
            kind, channel = message["type"], message["channel"]
            if kind == "message":
                yield (None if channel == key.jobs_channel else job_of_channel(channel)), message["data"]
            elif kind == "subscribe" and channel != key.jobs_channel:
                self._on_listening(job_of_channel(channel))

    def pending(self) -> bool:
        """True while more messages wait on the connection (the feed is busy)."""
        return self._pubsub.connection.can_read(timeout=0)

    def close(self) -> None:
        self._pubsub.close()

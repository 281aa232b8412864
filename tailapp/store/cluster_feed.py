"""The relay's feed on a Redis Cluster: one pub/sub connection per master (shard), each read by a greenlet
of its own; job channels are shard channels (SSUBSCRIBE on the master that owns their slot), the job list's
channel a plain one on the first master.

A topology change ends the subscription: a master that dies drops its connection, and a slot that moves
makes its master send `sunsubscribe` for the slot's channels. The relay then opens a new subscription on the
new topology and every viewer resyncs from its last seq.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import gevent
import gevent.queue
import redis
from redis.cluster import RedisCluster

from tailapp.store.keys import job_of_channel, key, tagged_job_keys

_MESSAGES = {"message", "smessage"}


class ClusterFeed:
    """Opens subscriptions on a cluster client's current topology."""

    def __init__(self, client: RedisCluster):
        self.client = client

    def subscription(self, on_listening: Callable[[str], None]) -> ClusterSubscription:
        return ClusterSubscription(self.client, on_listening)


class ClusterSubscription:
    """Iterate for (job id, raw message); job id None for a message on the job list's channel."""

    def __init__(self, client: RedisCluster, on_listening: Callable[[str], None]):
        self._client = client
        self._on_listening = on_listening
        self._inbox: gevent.queue.Queue = gevent.queue.Queue()
        self._pubsubs: dict[str, redis.client.PubSub] = {}  # node name -> its connection
        self._readers: list[gevent.Greenlet] = []
        self._dropping: set[str] = set()  # channels we asked to leave (their sunsubscribe is expected)

    def start(self) -> None:
        self._client.nodes_manager.initialize()  # the topology as it is now (after a failover: the new one)
        for node in self._client.get_primaries():
            master = self._client.get_redis_connection(node)
            master.ping()  # a master that is gone fails the start (the relay tries again), not a later read
            self._pubsubs[node.name] = master.pubsub()
        next(iter(self._pubsubs.values())).subscribe(key.jobs_channel)
        self._readers = [gevent.spawn(self._read, pubsub) for pubsub in self._pubsubs.values()]

    def listen(self, job_ids: list[str]) -> None:
        """SSUBSCRIBE the job channels, each on its master; a failure ends the subscription (see _fail)."""
        self._change(job_ids, "ssubscribe")

    def unlisten(self, job_ids: list[str]) -> None:
        self._change(job_ids, "sunsubscribe")

    def _change(self, job_ids: list[str], command: str) -> None:
        try:
            for node_name, channels in self._by_node(job_ids).items():
                (self._dropping.update if command == "sunsubscribe" else self._dropping.difference_update)(channels)
                for channel in channels:  # one per command: the channels of one SSUBSCRIBE must share a slot
                    getattr(self._pubsubs[node_name], command)(channel)
        except redis.RedisError as exc:
            self._inbox.put(exc)  # the relay starts over on the topology as it is now, and resyncs
            raise

    def _by_node(self, job_ids: list[str]) -> dict[str, list[str]]:
        by_node: dict[str, list[str]] = {}
        for job_id in job_ids:
            channel = tagged_job_keys(job_id).channel
            node = self._client.get_node_from_key(channel)
            if node.name not in self._pubsubs:  # the topology changed since start(): start over
                raise redis.ConnectionError(f"{channel} is now served by {node.name}, not subscribed here")
            by_node.setdefault(node.name, []).append(channel)
        return by_node

    def _read(self, pubsub) -> None:
        try:
            while True:  # get_message, not listen(): a shard without channels yet is no end of its feed
                message = pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._inbox.put(message)
        except Exception as exc:  # noqa: BLE001 - any end of a shard's feed ends the subscription
            self._inbox.put(exc)

    def __iter__(self) -> Iterator[tuple[str | None, str]]:
        while True:
            message = self._inbox.get()
            if isinstance(message, Exception):
                raise message
            kind, channel = message["type"], message["channel"]
            if kind in _MESSAGES:
                yield (None if channel == key.jobs_channel else job_of_channel(channel)), message["data"]
            elif kind == "ssubscribe":
                self._on_listening(job_of_channel(channel))
            elif kind == "sunsubscribe" and channel not in self._dropping:
                raise redis.ConnectionError(f"{channel} left its shard (slot moved)")
            elif kind == "sunsubscribe":
                self._dropping.discard(channel)

    def pending(self) -> bool:
        return not self._inbox.empty()

    def close(self) -> None:
        gevent.killall(self._readers, block=False)
        for pubsub in self._pubsubs.values():
            pubsub.close()

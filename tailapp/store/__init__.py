"""Redis: the only code in tailapp that speaks to it, and the only owner of the key layout and the feed format.

    keys.py       every key and channel name (one job's from `job_keys`)
    messages.py   the feed format: stored line elements, and the typed messages of a job channel
    scripts.py    the Lua scripts that append lines and change job fields
    redis_store   Store: every read and write, for one process
    sessions.py   sign-in sessions and failed sign-in counts
    feed.py       the relay's pub/sub connection: the job list's channel and the watched jobs' channels
    clients.py    every Redis client tailapp opens
    cluster_store.py, cluster_feed.py   the same on a Redis Cluster (TAILAPP_REDIS_URL=redis+cluster://…)
"""

from tailapp.store.clients import (
    RetryButNotWhileLoading,
    connect,
    data_client,
    feed_client,
    fixed_pool_client,
    unavailable_message,
)
from tailapp.store.cluster_feed import ClusterFeed
from tailapp.store.cluster_store import SCHEME, ClusterStore, cluster_client
from tailapp.store.feed import Feed, Subscription
from tailapp.store.keys import PREFIX, JobKeys, job_keys, key
from tailapp.store.messages import (
    JobChanged,
    Lines,
    MalformedMessage,
    Marker,
    Message,
    decode,
    decode_elements,
    encode_line,
    encode_marker,
    pairs_to_dict,
)
from tailapp.store.redis_store import NULL, Store, encode_field
from tailapp.store.scripts import MAX_LINES_PER_CALL

__all__ = [
    "MAX_LINES_PER_CALL",
    "NULL",
    "PREFIX",
    "SCHEME",
    "ClusterFeed",
    "ClusterStore",
    "Feed",
    "JobChanged",
    "JobKeys",
    "Lines",
    "MalformedMessage",
    "Marker",
    "Message",
    "RetryButNotWhileLoading",
    "Store",
    "Subscription",
    "connect",
    "data_client",
    "decode",
    "decode_elements",
    "encode_field",
    "encode_line",
    "encode_marker",
    "feed_client",
    "fixed_pool_client",
    "job_keys",
    "key",
    "open_feed",
    "open_store",
    "pairs_to_dict",
    "unavailable_message",
]


def open_store(url: str, name: str, pool_size: int | None = None, archive=None,
               ttl_seconds: int = 7 * 24 * 3600) -> Store:
    """The store for `url`: a ClusterStore for redis+cluster://, else a Store."""
    if url.startswith(SCHEME):
        return ClusterStore(cluster_client(url, name, pool_size), archive, ttl_seconds)
    return Store(data_client(url, name, pool_size), archive, ttl_seconds)


def open_feed(url: str) -> Feed | ClusterFeed:
    """The relay's feed for `url`: per shard on a cluster."""
    if url.startswith(SCHEME):
        return ClusterFeed(cluster_client(url, "tailapp-relay"))
    return Feed(feed_client(url))

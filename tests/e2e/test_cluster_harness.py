"""The test cluster itself: 3 masters and 3 replicas, sharded pub/sub, and a failover when a master dies."""

from __future__ import annotations

import pytest
from redis.cluster import RedisCluster as ClusterClient
from redis.exceptions import MovedError


def test_the_cluster_has_three_masters_and_routes_keys_by_hash_tag(redis_cluster):
    client = ClusterClient.from_url(redis_cluster.url.replace("redis+cluster", "redis"), decode_responses=True)
    try:
        assert len(redis_cluster.masters()) == 3
        client.set("tailapp:{job-1}:a", "1")
        client.set("tailapp:{job-1}:b", "2")
        assert client.keyslot("tailapp:{job-1}:a") == client.keyslot("tailapp:{job-1}:b")
        assert client.mget_nonatomic("tailapp:{job-1}:a", "tailapp:{job-1}:b") == ["1", "2"]
    finally:
        client.close()


def test_a_shard_channel_message_reaches_a_subscriber_of_its_shard(redis_cluster):
    channel = "tailapp:{job-2}:ch"
    master = redis_cluster.master_of(channel).client()
    pubsub = master.pubsub()
    try:
        pubsub.ssubscribe(channel)
        assert pubsub.get_sharded_message(timeout=2)["type"] == "ssubscribe"
        assert master.spublish(channel, "hello") == 1
        assert pubsub.get_sharded_message(timeout=2)["data"] == "hello"
    finally:
        pubsub.close()
        master.close()


def test_a_wrong_shard_refuses_a_shard_channel(redis_cluster):
    channel = "tailapp:{job-3}:ch"
    other = next(n for n in redis_cluster.masters() if n is not redis_cluster.master_of(channel)).client()
    try:
        with pytest.raises(MovedError):
            other.spublish(channel, "x")
    finally:
        other.close()


def test_a_killed_master_is_replaced_by_its_replica_and_rejoins_as_a_replica(redis_cluster):
    client = ClusterClient.from_url(redis_cluster.url.replace("redis+cluster", "redis"), decode_responses=True)
    try:
        client.set("tailapp:{job-4}:a", "kept")
        client.wait(1, 2000)  # the replica has it: this test is about the failover, not a lost write
        master = redis_cluster.master_of("tailapp:{job-4}:a")
        master.kill()
        redis_cluster.wait_serving()
        assert redis_cluster.master_of("tailapp:{job-4}:a") is not master
        assert client.get("tailapp:{job-4}:a") == "kept"  # redis-py follows the MOVED to the new master
        master.start()
        redis_cluster.wait_healthy()  # back as the new master's replica: the next test has a whole cluster
    finally:
        client.close()

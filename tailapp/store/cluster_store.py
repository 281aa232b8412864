"""Store on a Redis Cluster: one job's keys on one slot (its id as a hash tag), its lines and state changes
on its shard channel (sharded pub/sub: published on its shard only), the installation's keys (the job index,
the running set …) each on a slot of their own, kept by separate commands."""

from __future__ import annotations

from redis.cluster import RedisCluster

from tailapp.store import scripts
from tailapp.store.keys import key, tagged_job_keys
from tailapp.store.messages import encode_marker, pairs_to_dict
from tailapp.store.redis_store import Store, encode_field

SCHEME = "redis+cluster://"  # TAILAPP_REDIS_URL=redis+cluster://<a node>:<port>: the store is a cluster


def cluster_client(url: str, name: str, pool_size: int | None = None) -> RedisCluster:
    """A cluster client from any node's address; redis-py finds the others and follows MOVED / failovers."""
    options = {"max_connections": pool_size} if pool_size else {}
    return RedisCluster.from_url("redis://" + url.removeprefix(SCHEME), decode_responses=True, client_name=name,
                                 health_check_interval=30, **options)


class ClusterStore(Store):
    """Store's reads and writes, on a cluster: the scripts stay on one slot, the rest is split per slot."""

    keys = staticmethod(tagged_job_keys)

    def __init__(self, client: RedisCluster, archive=None, ttl_seconds: int = 7 * 24 * 3600):
        super().__init__(client, archive, ttl_seconds)
        self._append = client.register_script(scripts.CLUSTER_APPEND_LINES)
        self._set_fields = client.register_script(scripts.CLUSTER_SET_FIELDS)

    def set_fields(self, job_id: str, fields: dict, only_from: tuple[str, ...] = ()) -> dict | None:
        args = [",".join(only_from), key.jobs_channel]
        for name, value in fields.items():
            args += [name, encode_field(value)]
        k = self.keys(job_id)
        flat = self._set_fields(keys=(k.hash, k.channel), args=args)
        if flat is None:
            return None
        job = pairs_to_dict(flat)
        # After the script, not in it (another slot): a watchdog pass in between sees the state, not the set.
        if job.get("state") == "running":
            self.redis.sadd(key.running, job_id)
        else:
            self.redis.srem(key.running, job_id)
        return job

    def create_job(self, job_id: str, fields: dict, created_at: int) -> None:
        # The hash first: the index (another slot) never names a job that is not stored.
        self.redis.hset(self.keys(job_id).hash, mapping={k: encode_field(v) for k, v in fields.items()})
        self.redis.zadd(key.jobs, {job_id: created_at})

    def delete_job(self, job_id: str) -> None:
        k = self.keys(job_id)
        self.redis.delete(k.hash, k.lines, k.heartbeat, k.cancel, k.secrets)  # one slot: one command
        self.redis.zrem(key.jobs, job_id)
        self.redis.srem(key.unarchived, job_id)

    def publish_marker(self, job_id: str, token: str) -> None:
        self.redis.spublish(self.keys(job_id).channel, encode_marker(token))

    def settled_line_count(self, job_id: str, timeout: float = 2.0) -> int:
        """The job's line count once its shard's replicas have everything its master had (at most `timeout`):
        from then on a failover keeps those lines."""
        k = self.keys(job_id)
        master = self.redis.get_redis_connection(self.redis.get_node_from_key(k.lines))
        # WAIT counts the writes of its own connection: a write of ours first (on the job's slot, so its
        # offset covers every earlier write there), then WAIT, which asks the replicas to ack at once.
        with master.pipeline(transaction=False) as pipe:
            pipe.set(k.lines + ":settled", 1, ex=60)
            pipe.execute_command("WAIT", 1, int(timeout * 1000))
            pipe.llen(k.lines)
            return int(pipe.execute()[-1])

    def warm(self, count: int | None = None) -> None:
        """Reach every master once (a cluster client's pools open per node as they are used)."""
        self.redis.ping(target_nodes=RedisCluster.PRIMARIES)

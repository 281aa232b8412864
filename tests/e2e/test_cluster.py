"""tailapp on a Redis Cluster: the key layout on the nodes, and a master killed mid-job (its replica takes
over; lines the replica had not received are sent again by the writer, so none is lost)."""

from __future__ import annotations

import re
import time

from tests.e2e.steps import all_lines_once, assert_exactly, watch
from tests.e2e.test_scaleout import feed_messages


def test_a_jobs_keys_share_one_slot_and_its_channel_is_a_shard_channel_on_its_master(cluster_stack, redis_cluster):
    stack = cluster_stack
    job_id = stack.start_job(lines=200, interval=0.02)
    keys = [f"tailapp:job:{{{job_id}}}", f"tailapp:lines:{{{job_id}}}", f"tailapp:ch:{{{job_id}}}"]
    assert len({stack.redis.keyslot(k) for k in keys}) == 1
    viewer = stack.viewer().connect()
    try:
        assert viewer.subscribe(job_id)["ok"]
        viewer.wait_for(1)
        owner = redis_cluster.master_of(keys[1])
        subscribed = {node.port: node.ask("PUBSUB", "SHARDCHANNELS", keys[2]) for node in redis_cluster.masters()}
        assert subscribed == {node.port: [keys[2]] if node is owner else [] for node in redis_cluster.masters()}
        viewer.wait_done(30)
        assert_exactly(viewer, 200)
        assert stack.redis.llen(keys[1]) == 200
    finally:
        viewer.disconnect()


def stored_texts(stack, job_id: str) -> list[str]:
    return [e.partition(" ")[2] for e in stack.redis.lrange(f"tailapp:lines:{{{job_id}}}", 0, -1)]


def test_a_master_killed_mid_job_loses_no_line(cluster_stack, redis_cluster):
    stack = cluster_stack
    total = 30_000
    job_id = stack.start_job(lines=total, interval=0.0001)
    viewers = [stack.viewer().connect() for _ in range(3)]
    master = redis_cluster.master_of(f"tailapp:lines:{{{job_id}}}")
    others = [stack.start_job(lines=5, interval=0) for _ in range(8)]  # more watched channels on each master:
    bystander = stack.viewer().connect()  # the resubscription after the failover holds channels of several slots
    try:
        for other in others:
            stack.wait_job(other)
            assert bystander.subscribe(other)["ok"]
        for viewer in viewers:
            assert viewer.subscribe(job_id, after=0)["ok"]
        viewers[0].wait_for(3_000, 60)
        replica = redis_cluster.replica_of(master)
        replica.pause(True)  # the replica falls behind: what the master takes now is lost when it dies
        time.sleep(1.5)
        master.kill()  # mid-job: the writer is appending, the viewers are reading
        replica.pause(False)
        redis_cluster.wait_serving()
        for viewer in viewers:
            viewer.wait_done(120)
            assert_exactly(viewer, total)
        texts = stored_texts(stack, job_id)
        assert len(texts) == total
        steps = [int(m.group(1)) for t in texts if (m := re.search(r"step (\d+)/", t))]
        assert steps == sorted(steps) and len(set(steps)) == len(steps)
        # Viewers also complete by replaying the backlog again and again: check the live feed works afterwards.
        heard = feed_messages(stack.url, "lines")
        after_job = stack.start_job(lines=50, interval=0.02)
        all_lines_once([watch(stack, after_job)], 50)
        assert feed_messages(stack.url, "lines") > heard
    finally:
        for viewer in [*viewers, bystander]:
            viewer.disconnect()
        master.start()  # back as a replica: the session's cluster is whole again
        redis_cluster.wait_healthy()

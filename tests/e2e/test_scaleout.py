"""Scale-out on one Redis: several server processes and several workers."""

from __future__ import annotations

import uuid

import requests

from bench.producer import TailappJobs
from tailapp.app import create_app
from tests.conftest import stop_process
from tests.e2e.steps import all_lines_once, assert_exactly, watch
from tests.e2e.test_health import samples


def test_viewers_split_over_two_servers_all_get_every_line_once(gapless_stack):
    stack = gapless_stack  # one Redis, then the Redis Cluster
    process, second = stack.spawn_server("server-2")
    try:
        job_id = stack.start_job(lines=3_000, interval=0.0005)
        viewers = [watch(stack, job_id, second if i % 2 else None) for i in range(10)]
        all_lines_once(viewers, 3_000)
    finally:
        stop_process(process)


def test_two_workers_on_two_queues_share_one_redis(stack):
    extra = stack.spawn_worker("worker-2", 2, "-Q", "celery,extra")
    try:
        stack.wait(lambda: requests.get(f"{stack.url}/healthz", timeout=2).json()["workers"] >= 2,
                    "the second worker to beat")
        job_ids = [stack.start_job(lines=200, interval=0.001) for _ in range(6)]
        celery = create_app({"REDIS_URL": stack.redis_url}, serve=False).extensions["celery"]
        for _ in range(2):  # only worker-2 reads the "extra" queue
            job_ids.append(uuid.uuid4().hex)
            celery.send_task("tailapp.demo", kwargs={"lines": 200, "interval": 0.001}, queue="extra",
                             task_id=job_ids[-1])
        stack.wait(lambda: all(requests.get(f"{stack.url}/api/jobs/{j}", timeout=2).ok for j in job_ids),
                    "the jobs sent through Celery to exist")
        all_lines_once([watch(stack, job_id) for job_id in job_ids], 200)
    finally:
        stop_process(extra)


def feed_messages(url: str, kind: str) -> float:
    return samples(url).get(("tailapp_feed_messages_total", (("kind", kind),)), 0)


def test_a_server_receives_only_the_lines_of_the_jobs_watched_on_it(stack):
    process, other = stack.spawn_server("server-b")
    producer = TailappJobs(stack.redis_url)
    try:
        job_ids = [producer.create() for _ in range(50)]
        watched = job_ids[7]
        viewers = [stack.viewer().connect() for _ in range(3)]  # all on the stack's server
        for viewer in viewers:
            assert viewer.subscribe(watched, after=0)["ok"]
        producer.append_each(job_ids, 1)
        for viewer in viewers:
            viewer.wait_for(1)  # joined: the job's channel is live on this server
        here, there = feed_messages(stack.url, "lines"), feed_messages(other, "lines")
        for seq in range(2, 201):  # 50 busy jobs, one append each per round
            producer.append_each(job_ids, seq)
        producer.finish_all(job_ids)
        for viewer in viewers:
            viewer.wait_done(30)
            assert_exactly(viewer, 200)
            viewer.disconnect()
        assert feed_messages(other, "lines") - there == 0  # nobody watches there: no line reaches it
        assert feed_messages(stack.url, "lines") - here == 199  # the watched job's, once (not once per viewer)
        assert feed_messages(other, "job") > 0  # the job list's feed still reaches every server
    finally:
        stop_process(process)

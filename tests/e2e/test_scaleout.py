"""Scale-out on one Redis: several server processes and several workers."""

from __future__ import annotations

import uuid

import requests

from tailapp.app import create_app
from tests.conftest import stop_process
from tests.e2e.steps import all_lines_once, watch


def test_viewers_split_over_two_servers_all_get_every_line_once(stack):
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

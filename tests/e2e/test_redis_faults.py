"""A Redis that takes seconds to load after a restart: servers, viewers and writers recover, lose nothing.

Redis accepts connections, CLIENT SETNAME and PSUBSCRIBE while it loads its data set, but answers data
commands with LOADING; these tests give it enough data (about a million keys in db 1) to stay in that
state for a second or more, and restart it under running jobs and live viewers.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
import uuid

import pytest
import redis
import requests

from tailapp.app import create_app
from tailapp.client import Client
from tests.e2e.steps import start_and_watch
from tests.e2e.test_viewer import CHROMIUM, CHROMIUM_ARGS

BALLAST_KEYS = 1_000_000


@pytest.fixture(scope="module")
def slow_redis(stack):
    """The session's Redis with a data set that takes seconds to load; the ballast goes afterwards."""
    stack.add_ballast(BALLAST_KEYS)
    try:
        yield stack
    finally:
        stack.drop_ballast()


def restart_loading(stack, down_seconds: float = 0.3) -> float:
    """Restart Redis; return once it answers PING again (loaded), with how long it answered LOADING."""
    stack.restart_redis(down_seconds, wait_loaded=False)
    answering = time.monotonic()
    loading = False
    while True:
        try:
            stack.redis.ping()
            return time.monotonic() - answering if loading else 0.0
        except redis.BusyLoadingError:
            loading = True
        except redis.ConnectionError:
            pass
        time.sleep(0.02)


def healthy(url: str) -> bool:
    response = requests.get(f"{url}/healthz", timeout=5)
    return response.status_code == 200 and response.json()["relay"] == "connected"


def test_server_recovers_after_restarts_of_a_redis_that_loads_for_seconds(slow_redis):
    stack = slow_redis
    hammering = threading.Event()
    statuses: list[int] = []

    def hammer() -> None:  # requests keep coming while Redis loads, as they would in production
        while not hammering.is_set():
            try:
                statuses.append(requests.get(f"{stack.url}/api/jobs?limit=5", timeout=30).status_code)
            except requests.RequestException:
                pass

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(24)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            loaded_for = restart_loading(stack)
            assert loaded_for > 0.3, f"Redis loaded in {loaded_for:.2f} s: the test needs a slower load"
            stack.wait(lambda: healthy(stack.url), "/healthz to be healthy after the restart", timeout=20)
    finally:
        hammering.set()
        for thread in threads:
            thread.join(35)
    assert requests.get(f"{stack.url}/api/jobs?limit=5", timeout=10).status_code == 200
    assert set(statuses) <= {200, 503}, sorted(set(statuses))  # LOADING is "try again", never 500
    job_id = stack.start_job(lines=5, interval=0)  # the watchdog and the rest of the server still work
    assert stack.wait_job(job_id, timeout=60)["state"] == "succeeded"


def test_python_viewer_keeps_every_line_across_a_redis_restart_that_loads_for_seconds(slow_redis):
    stack = slow_redis
    n = 3_000
    job_id, viewer = start_and_watch(stack, lines=n, interval=0.003)
    try:
        viewer.wait_for(200)
        assert restart_loading(stack) > 0.3
        job = stack.wait_job(job_id, timeout=120)
        viewer.wait_done(60)
        assert job["state"] == "succeeded" and job["lines"] == n, job
        assert viewer.seqs == list(range(1, n + 1)), (len(viewer.seqs), viewer.resyncs)
        assert viewer.resyncs >= 1
    finally:
        viewer.disconnect()


def test_subscribe_while_redis_loads_answers_a_retryable_error(slow_redis):
    stack = slow_redis
    job_id = stack.start_job(lines=1, interval=0)
    stack.wait_job(job_id)
    viewer = stack.viewer().connect()
    try:
        stack.restart_redis(0.2, wait_loaded=False)
        ack = viewer.call("subscribe", {"job": job_id, "after": 0}, timeout=30)
        if ack["ok"]:
            pytest.skip("Redis finished loading before the subscribe reached it")
        assert ack == {"ok": False, "error": "Redis is loading its data, try again", "retry": True}, ack
    finally:
        viewer.disconnect()
        stack.wait(lambda: stack.redis.ping(), "Redis to load", 60)


def test_browser_keeps_every_line_across_a_redis_restart_that_loads_for_seconds(slow_redis):
    from playwright.sync_api import sync_playwright

    stack = slow_redis
    n = 2_000
    job_id = stack.start_job(lines=n, interval=0.004)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(bypass_csp=True).new_page()
            page.goto(f"{stack.url}/jobs/{job_id}")
            page.wait_for_function("window.tailapp && tailapp.store.length >= 100", timeout=30_000)
            assert restart_loading(stack) > 0.3
            assert stack.wait_job(job_id, timeout=120)["state"] == "succeeded"
            page.wait_for_function(f"tailapp.store.length >= {n}", timeout=60_000)
            assert page.evaluate("tailapp.feed.last") == n
            numbers = page.evaluate("Array.from({length: tailapp.store.length}, (_, i) => tailapp.store.plain(i))")
            assert len(numbers) == n
        finally:
            browser.close()


def test_tailapp_tail_started_while_redis_loads_gets_the_whole_log(slow_redis, tmp_path):
    stack = slow_redis
    job_id = stack.start_job(lines=500, interval=0)
    stack.wait_job(job_id)
    stack.restart_redis(0.2, wait_loaded=False)
    out = io.BytesIO()
    job = Client(stack.url).follow(job_id, out)  # its first subscribe meets LOADING: it asks again
    assert job["state"] == "succeeded"
    assert out.getvalue().decode().split("\n")[:-1] == [e.partition(" ")[2] for e in stack.redis.lrange(
        f"tailapp:lines:{job_id}", 0, -1)] and job["lines"] == 500


def test_relay_dropped_by_the_pubsub_buffer_limit_loses_no_line(stack):
    """Redis drops the relay's subscription when its unread output passes the limit (here tiny, to force
    it); the relay reconnects and the viewer resubscribes from its last line."""
    assert stack.redis.config_get("client-output-buffer-limit")["client-output-buffer-limit"].endswith(
        "pubsub 268435456 134217728 120")  # what tailapp's embedded Redis sets
    n = 3_000
    original = stack.redis.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    stack.redis.config_set("client-output-buffer-limit", "pubsub 16kb 0 0")
    viewer = stack.viewer().connect()
    try:
        # 247 bytes a line: a batch of 70 lines passes 16 kB. Small enough that a replay stays far below the
        # frame sizes that the websocket layer has trouble with (issue 11, item 3).
        job_id = stack.start_job("emoji", lines=n, width=60)
        stack.wait(lambda: requests.get(f"{stack.url}/api/jobs/{job_id}", timeout=2).ok, "the job")
        assert viewer.subscribe(job_id, after=0)["ok"]
        stack.wait_job(job_id, timeout=120)
        stack.redis.config_set("client-output-buffer-limit", original)
        viewer.wait_done(60)
        assert viewer.seqs == list(range(1, n + 1)), (len(viewer.seqs), viewer.resyncs)
        assert viewer.texts[n] == f"{n - 1:06d} " + "\U0001f600" * 60
        assert viewer.resyncs >= 1, "the relay was never dropped: the test proves nothing"
    finally:
        stack.redis.config_set("client-output-buffer-limit", original)
        viewer.disconnect()


def test_watchdog_still_reaps_a_lost_job_after_a_restart_that_loads_for_seconds(slow_redis):
    stack = slow_redis
    worker = stack.spawn_worker("worker-reap", 1, "-Q", "reap")
    try:
        celery = create_app({"REDIS_URL": stack.redis_url}, serve=False).extensions["celery"]
        assert restart_loading(stack) > 0.3
        stack.wait(lambda: healthy(stack.url), "/healthz to be healthy after the restart", timeout=20)
        job_id = uuid.uuid4().hex
        celery.send_task("tailapp.demo", kwargs={"lines": 10_000, "interval": 0.05}, queue="reap", task_id=job_id)
        stack.wait(lambda: requests.get(f"{stack.url}/api/jobs/{job_id}", timeout=2).ok, "the worker to take it")
        stack.wait_job(job_id, states={"running"}, timeout=60)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    job = stack.wait_job(job_id, timeout=60)  # the heartbeat expires, then the server's watchdog reaps it
    assert job["state"] == "lost", job

"""Operations endpoints against the real stack: /healthz and the Prometheus metrics."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from tailapp import runtime
from tailapp.app import create_app
from tailapp.embedded import EmbeddedRedis
from tailapp.metrics import RELAY_DOWN_LIMIT
from tests.conftest import stop_process


def test_healthz_reports_redis_workers_and_relay(stack):
    response = requests.get(f"{stack.url}/healthz", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["redis"] == "ok" and body["relay"] == "connected"
    assert body["workers"] >= 1  # a worker killed by another test counts until its entry expires


def test_healthz_is_503_when_redis_is_gone(stack, tmp_path):
    own = EmbeddedRedis(tmp_path / "redis", appendonly=False).start()
    process, url = stack.spawn_server("server-own-redis", {"TAILAPP_REDIS_URL": own.url})
    try:
        own.stop()
        response = requests.get(f"{url}/healthz", timeout=10)
        assert response.status_code == 503
        assert response.json()["redis"].startswith("error: ")
    finally:
        stop_process(process)


def samples(url: str) -> dict:
    text = requests.get(f"{url}/metrics", timeout=5).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_count_lines_viewers_and_jobs(stack):
    before = samples(stack.url)
    job_id = stack.start_job(lines=50, interval=0.001)
    viewer = stack.viewer().connect()
    try:
        assert viewer.subscribe(job_id)["ok"]
        viewer.wait_done(30)
        after = samples(stack.url)
        assert after[("tailapp_viewers_connected", ())] >= 1
        assert after[("tailapp_subscriptions", ())] >= 1
    finally:
        viewer.disconnect()
    written = ("tailapp_lines_written_total", ())
    assert 0 < after[written] - before.get(written, 0) <= 50  # the job's lines written while watched here
    relayed = sum(v for (name, _), v in after.items() if name == "tailapp_lines_relayed_total")
    assert relayed >= 50
    assert after[("tailapp_jobs", (("state", "succeeded"),))] >= 1
    assert after[("tailapp_relay_connected", ())] == 1
    assert after[("tailapp_outbox_hold_seconds", ())] == 0  # one slow job: not loaded, lines go at once
    assert after[("tailapp_relay_lag_seconds", ())] >= 0


def test_healthz_is_503_when_the_relay_stays_off_its_feed_while_redis_answers(stack):
    app = create_app({"REDIS_URL": stack.redis_url})  # relay not started: as if it could never subscribe
    relay = runtime.get(app).relay
    client = app.test_client()
    try:
        assert client.get("/healthz").status_code == 200  # just started: it may connect any moment
        relay.changed_at -= RELAY_DOWN_LIMIT + 1
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json["redis"] == "ok" and response.json["relay"].startswith("reconnecting for 3")
    finally:  # its pooled connection would count as a server's in test_relay's connection count
        runtime.get(app).store.redis.connection_pool.disconnect()

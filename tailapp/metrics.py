"""Operations endpoints of a server process: GET /healthz and Prometheus metrics at GET /metrics."""

from __future__ import annotations

import time

import redis
from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from tailapp import protocol as p
from tailapp import rooms, runtime
from tailapp.store import Store

JOB_SAMPLE = 1000  # jobs by state are counted among the newest this many (plus every running job)


class Metrics:
    """The counts the relay keeps, and gauges read when Prometheus scrapes.

    The relay counts in plain ints, read at scrape time (`RelayCounts`): prometheus_client's counters take
    a lock and look up their labels on every call, about 10 % of the server's CPU at 10,000 feed messages/s
    (issue 17's many jobs)."""

    def __init__(self, store: Store, server):
        self.server = server
        self.registry = CollectorRegistry()
        self.written = 0  # lines of the jobs watched here, seen on the feed
        self.feed_messages = dict.fromkeys(("lines", "job", "marker"), 0)  # by kind
        self.relayed = {"live": 0, "backlog": 0}  # lines sent to viewers, by source
        self.lag = 0.0  # at the newest line's receipt: receipt time minus the writer's timestamp
        self.registry.register(RelayCounts(self))
        Gauge("tailapp_viewers_connected", "Socket.IO clients connected to /tail",
              registry=self.registry).set_function(lambda: len(rooms.members(server, None)))
        self.registry.register(JobStates(store))

    def watch(self, relay) -> None:
        """Add the gauges read from the relay."""
        Gauge("tailapp_subscriptions", "Job subscriptions (joined or replaying their backlog)",
              registry=self.registry).set_function(lambda: _subscriptions(self.server, relay))
        Gauge("tailapp_relay_connected", "1 while the relay's Redis feed is up",
              registry=self.registry).set_function(lambda: 1 if relay.connected else 0)
        Gauge("tailapp_outbox_hold_seconds", "How long each job's lines are held to go together while the "
              "server is loaded (0: not loaded, lines go at once)", registry=self.registry
              ).set_function(relay.outbox.hold_now)

    def lines_seen(self, count: int, newest_ms: int) -> None:
        self.written += count
        self.lag = max(0.0, time.time() - newest_ms / 1000)

    def received(self, kind: str) -> None:
        self.feed_messages[kind] += 1

    def sent(self, source: str, count: int) -> None:
        self.relayed[source] = self.relayed.get(source, 0) + count


class RelayCounts:
    """A collector: the relay's counts, as Prometheus counters and a gauge."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self):
        m = self.metrics
        yield CounterMetricFamily("tailapp_lines_written", "Lines written by workers to the jobs watched here, "
                                  "as seen on this server's Redis feed", value=m.written)
        yield _by_label(CounterMetricFamily("tailapp_feed_messages", "Messages this server received from Redis, "
                                            "by kind (lines, job, marker)", labels=["kind"]), m.feed_messages)
        yield _by_label(CounterMetricFamily("tailapp_lines_relayed", "Lines sent to viewers (once per Socket.IO "
                                            "emit)", labels=["source"]), m.relayed)
        yield GaugeMetricFamily("tailapp_relay_lag_seconds", "Receipt time by the relay minus the writer's "
                                "timestamp, for the newest line", value=m.lag)


def _by_label(family, counts: dict[str, int]):
    for label, count in counts.items():
        family.add_metric([label], count)
    return family


def _subscriptions(server, relay) -> int:
    return rooms.job_members(server) + sum(len(handshakes) for handshakes in relay.syncing.values())


class JobStates:
    """A collector: jobs by state, read from Redis at scrape time."""

    def __init__(self, store: Store):
        self.store = store

    def collect(self):
        family = GaugeMetricFamily("tailapp_jobs", f"Jobs by state (running: all; others: among the newest "
                                   f"{JOB_SAMPLE})", labels=["state"])
        counts = dict.fromkeys(p.STATES, 0)
        ids = self.store.recent_job_ids(JOB_SAMPLE)
        states, running = self.store.states_of(ids), self.store.running_count()
        for state in states:
            if state in counts:
                counts[state] += 1
        counts[p.RUNNING] = running
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family


def init_metrics(app: Flask) -> None:
    """Add /healthz and /metrics (the runtime's Metrics are built with it)."""
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/metrics", "metrics", metrics)


RELAY_DOWN_LIMIT = 30.0  # seconds the relay may stay off its feed before /healthz says the process is broken


def healthz() -> tuple[Response, int]:
    """200 with {"redis": "ok", ...} when Redis answers and the relay follows it, else 503."""
    shared = runtime.get()
    relay = shared.relay
    body = {"redis": "ok", "workers": 0, "relay": "connected" if relay.connected else "reconnecting"}
    try:
        shared.store.ping()
        body["workers"] = shared.store.live_workers()
    except redis.BusyLoadingError:
        body["redis"] = "loading"
    except redis.RedisError as exc:
        body["redis"] = f"error: {exc}"
    down = time.monotonic() - relay.changed_at
    if not relay.connected and down > RELAY_DOWN_LIMIT:
        body["relay"] = f"reconnecting for {down:.0f} s"  # Redis answers us, yet no feed: restart the process
    ok = body["redis"] == "ok" and (relay.connected or down <= RELAY_DOWN_LIMIT)
    return jsonify(body), 200 if ok else 503


def metrics() -> Response:
    registry = runtime.get().metrics.registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

"""A greenlet in each server process that marks jobs lost when their worker stops sending heartbeats."""

from __future__ import annotations

import logging

import gevent
import redis

from tailapp import jobs
from tailapp.store import Store
from tailapp.supervisor import HEARTBEAT_SECONDS

log = logging.getLogger(__name__)


def start(store: Store, interval: float = 2.0) -> gevent.Greenlet:
    """Check running jobs every `interval` seconds, for as long as the process runs."""
    return gevent.spawn(_loop, store, interval)


def _loop(store: Store, interval: float) -> None:
    while True:
        try:
            for job_id in jobs.reap_lost(store, HEARTBEAT_SECONDS):
                log.warning("job %s lost: no heartbeat for %d s", job_id, HEARTBEAT_SECONDS)
        except redis.RedisError as exc:
            log.warning("watchdog: %s", exc)
        except Exception:
            log.exception("watchdog error")
        gevent.sleep(interval)

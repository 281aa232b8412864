"""A greenlet in each server process that marks jobs lost when their worker stops sending heartbeats."""

from __future__ import annotations

import logging

import gevent
import redis

from tailapp import jobs
from tailapp.store import Store
from tailapp.supervisor import HEARTBEAT_SECONDS

log = logging.getLogger(__name__)


PRUNE_EVERY = 1800  # loops between two retention passes (an hour at the default interval)


def start(store: Store, settings: dict, interval: float = 2.0) -> gevent.Greenlet:
    """Check running jobs every `interval` seconds, and apply archive retention now and then."""
    return gevent.spawn(_loop, store, settings, interval)


def _loop(store: Store, settings: dict, interval: float) -> None:
    loops = 0
    while True:
        try:
            for job_id in jobs.reap_lost(store, HEARTBEAT_SECONDS):
                log.warning("job %s lost: no heartbeat for %d s", job_id, HEARTBEAT_SECONDS)
            if loops % PRUNE_EVERY == 0 and (settings["KEEP_DAYS"] or settings["KEEP_JOBS"]):
                log.info("retention: %d finished jobs deleted", jobs.prune(store, settings["KEEP_DAYS"],
                                                                          settings["KEEP_JOBS"]))
        except redis.RedisError as exc:
            log.warning("watchdog: %s", exc)
        except Exception:
            log.exception("watchdog error")
        loops += 1
        gevent.sleep(interval)

"""A greenlet in each server process that marks jobs lost when their worker stops sending heartbeats."""

from __future__ import annotations

import logging
import time

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
    loops, healthy_since = 0, time.monotonic()
    while True:
        try:
            store.ping()
            # After a Redis outage every heartbeat may have expired meanwhile: give the workers one
            # heartbeat period to beat again before anything counts as lost.
            if time.monotonic() - healthy_since > HEARTBEAT_SECONDS:
                for job_id in jobs.reap_lost(store, HEARTBEAT_SECONDS):
                    log.warning("job %s lost: no heartbeat for %d s", job_id, HEARTBEAT_SECONDS)
            if loops % max(1, round(settings["ARCHIVE_RETRY_SECONDS"] / interval)) == 0:
                if archived := jobs.retry_archives(store, settings["ARCHIVE_RETRY_SECONDS"]):
                    log.info("archived %d finished jobs on a retry", archived)
            if loops % PRUNE_EVERY == 0 and (settings["KEEP_DAYS"] or settings["KEEP_JOBS"]):
                log.info("retention: %d finished jobs deleted", jobs.prune(store, settings["KEEP_DAYS"],
                                                                          settings["KEEP_JOBS"]))
        except redis.RedisError as exc:
            log.warning("watchdog: %s", exc)
            healthy_since = time.monotonic() + interval
        except Exception:
            log.exception("watchdog error")
        loops += 1
        gevent.sleep(interval)

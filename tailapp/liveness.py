"""The worker's side of operations: its log format, and which workers are alive.

Each worker's main process refreshes its entry in a sorted set. The score is the time (Unix s) until
which the entry counts, so counting live workers is one ZCOUNT whatever the size of the keyspace, and a
worker that died without a goodbye drops out by itself.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import redis
from celery.signals import after_setup_logger, after_setup_task_logger, worker_ready, worker_shutdown

from tailapp import logs, runtime
from tailapp.store import key

log = logging.getLogger(__name__)
BEAT_SECONDS = 5
TTL_SECONDS = 20  # a worker missing this long is not counted
_stop = threading.Event()


def beat(client: redis.Redis, name: str) -> None:
    """Mark worker `name` alive for TTL_SECONDS; forget workers that expired."""
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        pipe.zadd(key.workers, {name: now + TTL_SECONDS})
        pipe.zremrangebyscore(key.workers, "-inf", now)
        pipe.execute()


def live_workers(client: redis.Redis) -> int:
    """How many workers beat within the last TTL_SECONDS."""
    return int(client.zcount(key.workers, time.time(), "+inf"))


def _loop(client: redis.Redis, name: str) -> None:
    while not _stop.is_set():
        try:
            beat(client, name)
        except redis.RedisError as exc:
            log.warning("worker beat failed: %s", exc)
        _stop.wait(BEAT_SECONDS)


def _store_client(sender) -> redis.Redis:
    return runtime.get(sender.app.flask_app).store.redis


@worker_ready.connect
def _on_ready(sender=None, **_) -> None:
    name = getattr(sender, "hostname", None) or socket.gethostname()
    client = _store_client(sender)
    threading.Thread(target=_loop, args=(client, name), name="tailapp-liveness", daemon=True).start()
    log.info("worker %s ready", name)


@worker_shutdown.connect
def _on_shutdown(sender=None, **_) -> None:
    _stop.set()
    try:
        _store_client(sender).zrem(key.workers, getattr(sender, "hostname", None) or socket.gethostname())
    except (redis.RedisError, AttributeError):
        pass


@after_setup_logger.connect
@after_setup_task_logger.connect
def _on_logging(logger=None, **_) -> None:
    if logger is not None:
        logs.use_format(logger)

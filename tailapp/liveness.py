"""The worker's side of operations: its log format, and which workers are alive.

Each worker's main process refreshes its entry in a sorted set. The score is the time (Unix s) until
which the entry counts, so counting live workers is one ZCOUNT whatever the size of the keyspace, and a
worker that died without a goodbye drops out by itself.
"""

from __future__ import annotations

import logging
import socket
import threading

import redis
from celery.signals import after_setup_logger, after_setup_task_logger, worker_ready, worker_shutdown

from tailapp import logs, runtime
from tailapp.store import Store

log = logging.getLogger(__name__)
BEAT_SECONDS = 5
TTL_SECONDS = 20  # a worker missing this long is not counted
_stop = threading.Event()


def _loop(store: Store, name: str) -> None:
    while not _stop.is_set():
        try:
            store.worker_beat(name, TTL_SECONDS)
        except redis.RedisError as exc:
            log.warning("worker beat failed: %s", exc)
        _stop.wait(BEAT_SECONDS)


def _store(sender) -> Store:
    return runtime.get(sender.app.flask_app).store


@worker_ready.connect
def _on_ready(sender=None, **_) -> None:
    name = getattr(sender, "hostname", None) or socket.gethostname()
    threading.Thread(target=_loop, args=(_store(sender), name), name="tailapp-liveness", daemon=True).start()
    log.info("worker %s ready", name)


@worker_shutdown.connect
def _on_shutdown(sender=None, **_) -> None:
    _stop.set()
    try:
        _store(sender).worker_gone(getattr(sender, "hostname", None) or socket.gethostname())
    except (redis.RedisError, AttributeError):
        pass


@after_setup_logger.connect
@after_setup_task_logger.connect
def _on_logging(logger=None, **_) -> None:
    if logger is not None:
        logs.use_format(logger)

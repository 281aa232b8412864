"""The Flask app factory: settings, the runtime, Celery, and in servers Socket.IO and the web side."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from tailapp import commands, runtime, sockets
from tailapp.celery_app import init_celery
from tailapp.config import ConfigError
from tailapp.metrics import Metrics
from tailapp.relay import Relay
from tailapp.runtime import Runtime
from tailapp.store import Store, open_feed
from tailapp.tasks import import_task_modules
from tailapp.web import init_web

__all__ = ["ConfigError", "create_app", "import_task_modules", "init_app"]


def create_app(overrides: Mapping[str, Any] | None = None, *, serve: bool = True) -> Flask:
    """Build the app. `serve=False` leaves out the web parts (for Celery workers)."""
    settings = runtime.load_settings(overrides)
    app = Flask("tailapp")
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or secrets.token_hex(32)
    if serve:
        store = runtime.build_store(settings, settings["REDIS_POOL_SIZE"], "tailapp-server")
        runtime.install(app, _server_runtime(app, settings, store))
    else:
        runtime.install(app, Runtime(settings, runtime.build_store(settings)))
    init_celery(app)
    import_task_modules(settings["TASK_MODULES"])
    commands.register_file(settings["COMMANDS_FILE"])
    if serve:
        init_web(app)
    return app


def _server_runtime(app: Flask, settings: dict, store: Store) -> Runtime:
    """Socket.IO bound to `app`, and the relay and metrics that use it."""
    server = sockets.init_sockets(app)
    metrics = Metrics(store, server)
    relay = Relay(server, store, open_feed(settings["REDIS_URL"]),
                  replay_chunk=settings["REPLAY_CHUNK"], ignore_queue=bool(settings["MESSAGE_QUEUE"]),
                  max_subscriptions=settings["MAX_SUBSCRIPTIONS"], metrics=metrics)
    metrics.watch(relay)
    return Runtime(settings, store, relay, metrics)


def init_app(app: Flask, overrides: Mapping[str, Any] | None = None) -> Runtime:
    """Add tailapp to your own Flask app, so tail tasks run by its Celery worker log to tailapp's Redis."""
    settings = runtime.load_settings(overrides)
    installed = runtime.install(app, Runtime(settings, runtime.build_store(settings)))
    commands.register_file(settings["COMMANDS_FILE"])
    return installed

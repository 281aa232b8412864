"""The Flask app factory: settings, Redis, Celery, blueprints and Socket.IO, nothing connected yet."""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask

from tailapp import config
from tailapp.celery_app import init_celery
from tailapp.store import Store, connect


class ConfigError(RuntimeError):
    """The settings do not allow the app to run; the message says what to set."""


@dataclass
class Runtime:
    """What the app's parts share: settings, the Redis store, and (in servers) the relay."""

    settings: dict
    store: Store
    relay: Any = None
    metrics: Any = None


def create_app(overrides: Mapping[str, Any] | None = None, *, serve: bool = True) -> Flask:
    """Build the app. `serve=False` leaves out the web parts (for Celery workers)."""
    settings = config.load(overrides)
    if not settings["REDIS_URL"]:
        raise ConfigError("TAILAPP_REDIS_URL is not set. Set it, or run `tailapp dev` for an embedded Redis.")
    app = Flask("tailapp")
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or secrets.token_hex(32)
    pool_size = settings["REDIS_POOL_SIZE"] if serve else None
    client = _redis(settings["REDIS_URL"], pool_size, "tailapp-server" if serve else "tailapp-worker")
    app.extensions["tailapp"] = Runtime(settings, Store(client))
    init_celery(app)
    _import_tasks(settings)
    if serve:
        from tailapp.web import init_web

        init_web(app)
    return app


def _redis(url: str, pool_size: int | None, name: str) -> redis.Redis:
    """A client; with pool_size, a fixed pool that waits for a free connection instead of growing."""
    if pool_size is None:
        return connect(url, client_name=name)
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=pool_size, timeout=10, client_name=name,
                                                 decode_responses=True, health_check_interval=30)
    return redis.Redis(connection_pool=pool)


def _import_tasks(settings: dict) -> None:
    """Import the modules that define tail tasks, so they are registered."""
    for module in ["tailapp.demo", *filter(None, (settings.get("TASK_MODULES") or "").split(","))]:
        importlib.import_module(module.strip())

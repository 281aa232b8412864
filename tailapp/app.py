"""The Flask app factory: settings, Redis, Celery, blueprints and Socket.IO, nothing connected yet."""

from __future__ import annotations

import importlib
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from flask import Flask

from tailapp import commands, config
from tailapp.archive import Archive
from tailapp.celery_app import init_celery
from tailapp.config import ConfigError
from tailapp.store import Store, connect, fixed_pool_client


@dataclass
class Runtime:
    """What the app's parts share: settings, the Redis store, and (in servers) the relay."""

    settings: dict
    store: Store
    relay: Any = None
    metrics: Any = None


def create_app(overrides: Mapping[str, Any] | None = None, *, serve: bool = True) -> Flask:
    """Build the app. `serve=False` leaves out the web parts (for Celery workers)."""
    settings = _settings(overrides)
    app = Flask("tailapp")
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or secrets.token_hex(32)
    if serve:
        app.extensions["tailapp"] = _runtime(settings, settings["REDIS_POOL_SIZE"], "tailapp-server")
    else:
        app.extensions["tailapp"] = _runtime(settings)
    init_celery(app)
    import_task_modules(settings["TASK_MODULES"])
    commands.register_file(settings["COMMANDS_FILE"])
    if serve:
        from tailapp.web import init_web

        init_web(app)
    return app


def init_app(app: Flask, overrides: Mapping[str, Any] | None = None) -> Runtime:
    """Add tailapp to your own Flask app, so tail tasks run by its Celery worker log to tailapp's Redis."""
    settings = _settings(overrides)
    runtime = _runtime(settings)
    app.extensions["tailapp"] = runtime
    commands.register_file(settings["COMMANDS_FILE"])
    return runtime


_standalone: list[Runtime] = []


def standalone_runtime() -> Runtime:
    """A runtime from the TAILAPP_* settings, for tail tasks run by a Celery worker that is not tailapp's."""
    if not _standalone:
        settings = _settings(None)
        _standalone.append(_runtime(settings))
    return _standalone[0]


def _runtime(settings: dict, pool_size: int | None = None, client_name: str = "tailapp-worker") -> Runtime:
    """Settings, a Redis store and the archive finished jobs go to."""
    client = _redis(settings["REDIS_URL"], pool_size, client_name)
    archive = Archive(settings["ARCHIVE_URL"] or str(Path(settings["DATA_DIR"]).resolve() / "archive"))
    return Runtime(settings, Store(client, archive, settings["REDIS_TTL_SECONDS"]))


def _settings(overrides: Mapping[str, Any] | None) -> dict:
    settings = config.load(overrides)
    if not settings["REDIS_URL"]:
        raise ConfigError("TAILAPP_REDIS_URL is not set. Set it, or run `tailapp dev` for an embedded Redis.")
    return settings


def _redis(url: str, pool_size: int | None, name: str) -> redis.Redis:
    """A client; with pool_size, a fixed pool that waits for a free connection instead of growing."""
    if pool_size is None:
        return connect(url, client_name=name)
    return fixed_pool_client(url, pool_size, name)


def import_task_modules(names: str | None) -> None:
    """Import tailapp's demo and the comma-separated modules that define tail tasks, so they are registered.

    The current directory is searched too (as `flask run` does), whatever script started the process.
    """
    importlib.import_module("tailapp.demo")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    for module in filter(None, (m.strip() for m in (names or "").split(","))):
        try:
            importlib.import_module(module)
        except Exception as exc:  # any error in the user's module is reported the same way
            raise ConfigError(f"TAILAPP_TASK_MODULES: cannot import {module!r}: {type(exc).__name__}: {exc}") from exc

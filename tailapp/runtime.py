"""The runtime a process's parts share (settings, the Redis store, in servers the relay and metrics), built
once, and `get()`, the one way to reach it (as Flask's tutorial reaches its database with `get_db()`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_app_context

from tailapp import config
from tailapp.archive import Archive
from tailapp.config import ConfigError
from tailapp.store import Store, open_store

if TYPE_CHECKING:  # servers only; a worker never imports them
    from tailapp.metrics import Metrics
    from tailapp.relay import Relay

EXTENSION = "tailapp"  # the key in app.extensions


@dataclass(frozen=True)
class Runtime:
    """What the app's parts share: settings, the Redis store, and (in servers) the relay and metrics."""

    settings: Mapping[str, Any]
    store: Store
    relay: Relay | None = None
    metrics: Metrics | None = None


def load_settings(overrides: Mapping[str, Any] | None = None) -> dict:
    """The settings (defaults, TAILAPP_* variables, `overrides`); ConfigError without a Redis URL."""
    settings = config.load(overrides)
    if not settings["REDIS_URL"]:
        raise ConfigError("TAILAPP_REDIS_URL is not set. Set it, or run `tailapp dev` for an embedded Redis.")
    return settings


def build_store(settings: Mapping[str, Any], pool_size: int | None = None,
                client_name: str = "tailapp-worker") -> Store:
    """The Redis store for these settings, with the archive finished jobs go to; with `pool_size`, on a
    fixed pool of that many connections (servers)."""
    archive = Archive(settings["ARCHIVE_URL"] or str(Path(settings["DATA_DIR"]).resolve() / "archive"))
    return open_store(settings["REDIS_URL"], client_name, pool_size, archive, settings["REDIS_TTL_SECONDS"])


def install(app: Flask, runtime: Runtime) -> Runtime:
    """Make `runtime` the app's runtime; once per app."""
    if EXTENSION in app.extensions:
        raise RuntimeError("the app has a tailapp runtime already")
    app.extensions[EXTENSION] = runtime
    return runtime


_standalone: list[Runtime] = []


def get(app: Flask | None = None) -> Runtime:
    """The runtime of `app` (default: the current app); outside a tailapp app (tail tasks run by a Celery
    worker that is not tailapp's), one built once from the TAILAPP_* settings."""
    extensions = app.extensions if app is not None else current_app.extensions if has_app_context() else {}
    if EXTENSION in extensions:
        return extensions[EXTENSION]
    if not _standalone:
        settings = load_settings()
        _standalone.append(Runtime(settings, build_store(settings)))
    return _standalone[0]

"""tailapp: watch Celery task output live in a browser.

Importing the package imports nothing heavy (the server entry must monkey-patch before anything else):
the public names below are loaded on first use.

    from tailapp import tail_task, run, section, progress
"""

from __future__ import annotations

import importlib

__all__ = ["JobFailed", "Param", "Secret", "celery", "create_app", "init_app", "progress", "run", "section",
           "tail_task"]

_LAZY = {
    "create_app": "tailapp.app",
    "init_app": "tailapp.app",
    "tail_task": "tailapp.tasks",
    "JobFailed": "tailapp.tasks",
    "Param": "tailapp.params",
    "Secret": "tailapp.params",
    "run": "tailapp.process",
    "section": "tailapp.markers",
    "progress": "tailapp.markers",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "celery":  # what `celery -A tailapp.celery worker` loads
        app, config = importlib.import_module("tailapp.app"), importlib.import_module("tailapp.config")
        try:
            globals()["celery"] = app.create_app(serve=False).extensions["celery"]
        except config.ConfigError as exc:  # one line for the operator, not a traceback through Celery's loader
            raise SystemExit(f"tailapp: {exc}") from None
        return globals()["celery"]
    raise AttributeError(f"module 'tailapp' has no attribute {name!r}")

"""tailapp: watch Celery task output live in a browser.

Importing the package imports nothing heavy (the server entry must monkey-patch before anything else):
`create_app`, `tail_task` and `celery` are loaded on first use.
"""

from __future__ import annotations

__all__ = ["celery", "create_app", "tail_task"]


def __getattr__(name: str):
    if name == "create_app":
        from tailapp.app import create_app

        return create_app
    if name == "tail_task":
        from tailapp.tasks import tail_task

        return tail_task
    if name == "celery":  # what `celery -A tailapp.celery worker` loads
        from tailapp.app import create_app

        globals()["celery"] = create_app(serve=False).extensions["celery"]
        return globals()["celery"]
    raise AttributeError(f"module 'tailapp' has no attribute {name!r}")

"""An existing Flask + Celery app (the pattern of Flask's own Celery example) with tailapp added."""

from __future__ import annotations

import os

from celery import Celery, Task
from flask import Flask

import tailapp


def celery_init_app(app: Flask) -> Celery:
    """Celery for `app`, tasks run inside its app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def create_app() -> Flask:
    """The shop's app: one route that starts a report."""
    app = Flask(__name__)
    app.config.from_mapping(CELERY={"broker_url": os.environ.get("SHOP_BROKER_URL", "redis://localhost:6379/1"),
                                    "task_ignore_result": True})
    celery_init_app(app)
    tailapp.init_app(app)  # tailapp: tail tasks log to TAILAPP_REDIS_URL

    from shop import tasks

    @app.post("/reports")
    def start_report():
        return {"job": tasks.build_report.delay(pages=3).id}

    return app

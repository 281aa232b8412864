"""Celery set up from the Flask app's settings, the way Flask's own Celery example does it."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from tailapp import liveness  # noqa: F401 - connects the worker's liveness signals
from tailapp.config import ConfigError


def init_celery(app: Flask) -> Celery:
    """Create the Celery app for `app`, store it in app.extensions["celery"] and return it."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    settings = app.config
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=settings["BROKER_URL"],
        broker_connection_retry_on_startup=True,
        # Redis re-delivers a task not acknowledged within the visibility timeout: keep it above the
        # longest job, or a long job would run twice.
        broker_transport_options={"visibility_timeout": settings["MAX_JOB_SECONDS"] + 3600},
        # The soft limit raises in the task (it ends failed, saying so); the hard one kills the process.
        task_soft_time_limit=settings["MAX_JOB_SECONDS"],
        task_time_limit=settings["MAX_JOB_SECONDS"] + 60,
        task_ignore_result=True,  # a job's state lives in its own hash, not in a result backend
        task_track_started=True,
        task_acks_late=False,  # a job whose worker died is marked lost, never silently run again
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
    )
    _check_transport(celery)
    celery.set_default()
    celery.flask_app = app  # how worker signal handlers reach the app's Redis
    app.extensions["celery"] = celery
    return celery


def _check_transport(celery: Celery) -> None:
    """Load the broker's transport now (it connects to nothing): a broken install fails at start, in one
    line, instead of on the first job as if the broker were down."""
    try:
        celery.connection_for_write().transport  # noqa: B018 - the property imports the transport
    except ImportError as exc:
        raise ConfigError(f"the Celery broker transport for {celery.conf.broker_url.split(':')[0]}:// cannot load "
                          f"({exc}): the install is incomplete; reinstall tailapp with its dependencies "
                          "(pip install tailapp)") from None

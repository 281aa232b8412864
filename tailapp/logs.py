"""Levelled logs for the server and the worker; TAILAPP_LOG_FORMAT=json makes them one JSON object a line."""

from __future__ import annotations

import json
import logging
import os
import time

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                 + f".{int(record.msecs):03d}Z", "level": record.levelname, "logger": record.name,
                 "message": record.getMessage(), "process": record.process}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def formatter() -> logging.Formatter:
    """The formatter TAILAPP_LOG_FORMAT asks for ("json", else plain text)."""
    if os.environ.get("TAILAPP_LOG_FORMAT", "").lower() == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def setup(level: str | None = None) -> None:
    """Log to stderr at `level` (default TAILAPP_LOG_LEVEL or INFO) in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("TAILAPP_LOG_LEVEL", "INFO"))


def use_format(logger: logging.Logger) -> None:
    """Give the handlers Celery set up on `logger` the chosen format."""
    for handler in logger.handlers:
        handler.setFormatter(formatter())

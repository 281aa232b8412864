"""Settings: defaults in one place, overridden by TAILAPP_* environment variables, then by a mapping."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    "REDIS_URL": None,  # None: `tailapp dev` starts an embedded Redis; the app itself needs one
    "BROKER_URL": None,  # defaults to REDIS_URL
    "DATA_DIR": "./var",
    "ARCHIVE_URL": None,  # where finished jobs are kept: a directory or an fsspec URL; None: <DATA_DIR>/archive
    "REDIS_TTL_SECONDS": 7 * 24 * 3600,  # finished jobs leave Redis after this; the archive keeps them
    "ARCHIVE_RETRY_SECONDS": 300,  # how often servers retry archiving jobs whose copy failed (disk full…)
    "KEEP_DAYS": 0,  # archive retention: delete finished jobs older than this (0: keep)
    "KEEP_JOBS": 0,  # archive retention: keep at most this many finished jobs (0: no limit)
    "HOST": "127.0.0.1",
    "PORT": 5000,
    "SECRET_KEY": None,  # None: a random key per process (sessions do not survive restarts)
    "REDIS_POOL_SIZE": 16,  # connections a server process uses for reads, fixed, whatever the viewers
    "MAX_LINE_BYTES": 64 * 1024,
    "MAX_LOG_BYTES": 100 * 1024 * 1024,  # per job; past it output is dropped but its last LOG_TAIL_BYTES kept
    "LOG_TAIL_BYTES": 1024 * 1024,
    "SECRET_ENV": "TAILAPP_SECRET_KEY,TAILAPP_AUTH_TOKEN",  # env variables whose values are masked in logs
    "WRITER_MAX_PENDING": 50_000,  # lines buffered in a worker before the task waits for Redis
    "REPLAY_CHUNK": 5_000,  # lines per `lines` event when replaying a backlog
    "SEND_QUEUE_BYTES": 16 * 1024 * 1024,  # a viewer with more waiting to be sent is disconnected
    "SEND_STALL_SECONDS": 30,  # a viewer that takes no byte for this long is disconnected
    "JOB_LIST_LIMIT": 50,
    "MAX_JOB_SECONDS": 6 * 3600,  # hard time limit of a job; Celery's visibility timeout is above it
    "CORS_ALLOWED_ORIGINS": None,  # None: same origin only
    "ALLOWED_HOSTS": None,  # comma-separated names requests may use (`.example.com`: and subdomains; `*`: any)
    "AUTH_TOKEN": None,  # set: pages, API and Socket.IO need it (login page, or Authorization: Bearer)
    "ALLOW_PUBLIC": False,  # true: serve a non-local interface without AUTH_TOKEN
    "USERS_FILE": None,  # TOML file of users with hashed tokens and roles (viewer, operator, admin)
    "PROXY_USER_HEADER": None,  # e.g. X-Remote-User: the signed-in user, set by an authenticating proxy
    "PROXY_DEFAULT_ROLE": "viewer",  # role of a proxy-authenticated user the users file does not list
    "TRUSTED_PROXIES": "127.0.0.1,::1",  # addresses (or networks) whose X-Forwarded-* and user header count
    "COOKIE_SECURE": False,  # true: the session cookie is always Secure (it is anyway when served over TLS)
    "SESSION_DAYS": 7,  # a sign-in lasts this long
    "SIGNIN_FAILURES_PER_MINUTE": 60,  # failed sign-ins from all clients; past it every attempt waits
    "MAX_SUBSCRIPTIONS": 50,  # jobs one Socket.IO connection may follow at once
    "MESSAGE_QUEUE": None,  # a Socket.IO message queue URL, only needed for emits from outside servers
    "TASK_MODULES": "",  # comma-separated modules with more tail tasks, imported by servers and workers
    "COMMANDS_FILE": None,  # TOML file of allowlisted command jobs; None: ./tailapp.toml when it exists
    # Rows the log viewer marks as errors / warnings: regular expressions (JavaScript syntax, matched
    # case-insensitively on a row's text), one per line; `::error::` / `::warning::` rows count anyway.
    "ERROR_PATTERNS": "\\b(error|fatal|failed|failure|exception|panic)\\b\n^Traceback \\(most recent call last\\)",
    "WARNING_PATTERNS": "\\bwarn(ing)?\\b\n\\bdeprecat(ed|ion)\\b",
    "COMPARE_FILE": None,  # TOML file of rules for comparing runs (see tailapp/compare.py); None: built-ins
}

class ConfigError(RuntimeError):
    """The settings do not allow the app to run; the message says what to set."""


_BOOLS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}
_INTS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and k not in _BOOLS}
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """Return the settings: defaults, then TAILAPP_* variables, then `overrides`. Raises ConfigError."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for name in DEFAULTS:
        value = environ.get(f"TAILAPP_{name}")
        if value not in (None, ""):
            settings[name] = value
    settings.update(overrides or {})
    for name in _BOOLS | _INTS:
        settings[name] = _typed(name, settings[name])
    settings["BROKER_URL"] = settings["BROKER_URL"] or settings["REDIS_URL"]
    return settings


def _typed(name: str, value: object) -> object:
    """A boolean or integer setting from its text; an unknown word is an error, never a guess."""
    if not isinstance(value, str):
        return value
    word = value.strip().lower()
    if name in _BOOLS and word in TRUE_WORDS + FALSE_WORDS:
        return word in TRUE_WORDS
    if name in _INTS:
        try:
            return int(word)
        except ValueError:
            raise ConfigError(f"TAILAPP_{name}={value!r} is not a whole number") from None
    raise ConfigError(f"TAILAPP_{name}={value!r} is not a boolean: use one of "
                      f"{'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}")

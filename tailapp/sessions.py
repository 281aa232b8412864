"""Server-side sign-in sessions: the cookie holds a random id, Redis holds what it stands for.

Deleting the record ends the session on every server at once (logout); a record whose credential mark no
longer matches the user's (token rotated, role changed) counts as gone.
"""

from __future__ import annotations

import secrets

import redis

PREFIX = "tailapp:session:"


def _key(session_id: str) -> str:
    return PREFIX + session_id


def create(client: redis.Redis, name: str, mark: str, seconds: int) -> str:
    """Store a new session for user `name`; returns its id."""
    session_id = secrets.token_urlsafe(32)
    with client.pipeline() as pipe:
        pipe.hset(_key(session_id), mapping={"user": name, "mark": mark})
        pipe.expire(_key(session_id), seconds)
        pipe.execute()
    return session_id


def get(client: redis.Redis, session_id: object) -> dict | None:
    """{"user", "mark"} of a live session; None when it ended or never was."""
    if not isinstance(session_id, str) or not session_id:
        return None
    record = client.hgetall(_key(session_id))
    return record or None


def end(client: redis.Redis, session_id: object) -> None:
    if isinstance(session_id, str) and session_id:
        client.delete(_key(session_id))


def alive(client: redis.Redis, session_ids: list[str]) -> list[bool]:
    """For each id, whether its session still exists (one round trip)."""
    with client.pipeline(transaction=False) as pipe:
        for session_id in session_ids:
            pipe.exists(_key(session_id))
        return [bool(n) for n in pipe.execute()]

"""Server-side sign-in sessions: the cookie holds a random id, Redis holds what it stands for.

Deleting the record ends the session on every server at once (logout); a record whose credential mark no
longer matches the user's (token rotated, role changed) counts as gone.
"""

from __future__ import annotations

import secrets

import redis

from tailapp.store.keys import key


class Sessions:
    """The sign-in session records of an installation."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    def create(self, name: str, mark: str, seconds: int) -> str:
        """Store a new session for user `name`; returns its id."""
        session_id = secrets.token_urlsafe(32)
        with self.redis.pipeline() as pipe:
            pipe.hset(key.session(session_id), mapping={"user": name, "mark": mark})
            pipe.expire(key.session(session_id), seconds)
            pipe.execute()
        return session_id

    def get(self, session_id: object) -> dict | None:
        """{"user", "mark"} of a live session; None when it ended or never was."""
        if not isinstance(session_id, str) or not session_id:
            return None
        record = self.redis.hgetall(key.session(session_id))
        return record or None

    def end(self, session_id: object) -> None:
        if isinstance(session_id, str) and session_id:
            self.redis.delete(key.session(session_id))

    def alive(self, session_ids: list[str]) -> list[bool]:
        """For each id, whether its session still exists (one round trip)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.exists(key.session(session_id))
            return [bool(n) for n in pipe.execute()]


class SigninCounts:
    """Failed sign-ins, per client address and per minute for everyone (see tailapp.throttle)."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    def wait_left(self, address: str) -> int:
        """Seconds this client must still wait (≤ 0: none)."""
        return self.redis.ttl(key.signin("wait", address))

    def failures_in(self, minute: int) -> int:
        return int(self.redis.get(key.signin("global", minute)) or 0)

    def count_failure(self, address: str, minute: int, keep_seconds: int) -> tuple[int, int]:
        """Count a failure of `address` in `minute`: (its failures in a row, everyone's this minute)."""
        count_key, minute_key = key.signin("count", address), key.signin("global", minute)
        with self.redis.pipeline() as pipe:
            pipe.incr(count_key).expire(count_key, keep_seconds).incr(minute_key).expire(minute_key, 120)
            count, _, global_count, _ = pipe.execute()
        return count, global_count

    def hold(self, address: str, seconds: int) -> None:
        """Make `address` wait `seconds` before its next attempt is heard."""
        self.redis.set(key.signin("wait", address), 1, ex=seconds)

    def clear(self, address: str) -> None:
        self.redis.delete(key.signin("count", address), key.signin("wait", address))

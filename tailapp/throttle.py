"""Slows down token guessing: per-client backoff after a few failures, and a cap on failures server-wide.

State lives in Redis, so every server of an installation counts the same failures. A client gets
FREE_FAILURES tries, then must wait 1 s, 2 s, 4 s … (at most MAX_BACKOFF_SECONDS) after each further
failure; a success clears its count. Past GLOBAL_FAILURES_PER_MINUTE failures from anyone in a minute,
every attempt waits for the next minute: that bounds a guess spread over many addresses.
"""

from __future__ import annotations

import logging
import time

from tailapp.store.sessions import SigninCounts

log = logging.getLogger("tailapp.auth")

FREE_FAILURES = 5
MAX_BACKOFF_SECONDS = 15 * 60
COUNT_SECONDS = 24 * 3600  # a client's failures are forgotten a day after its last one


class Throttled(Exception):
    """Too many failed sign-ins; `retry_after` seconds until the next attempt is heard."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Throttle:
    """Failed sign-in accounting for one installation (shared through Redis)."""

    def __init__(self, counts: SigninCounts, global_per_minute: int):
        self.counts = counts
        self.global_per_minute = global_per_minute

    def check(self, client_address: str) -> None:
        """Raise Throttled when this client (or everyone) must wait before trying again."""
        wait = self.counts.wait_left(client_address)
        if wait > 0:
            raise Throttled(f"too many failed sign-ins from your address: try again in {wait} s", wait)
        minute = int(time.time() // 60)
        failures = self.counts.failures_in(minute)
        if self.global_per_minute and failures >= self.global_per_minute:
            retry = 60 - int(time.time()) % 60
            raise Throttled(f"too many failed sign-ins on this server: try again in {retry} s", retry)

    def failed(self, client_address: str, who: str) -> None:
        """Count a failure, start this client's backoff when due, and log it."""
        count, global_count = self.counts.count_failure(client_address, int(time.time() // 60), COUNT_SECONDS)
        backoff = 0
        if count >= FREE_FAILURES:
            backoff = min(2 ** (count - FREE_FAILURES), MAX_BACKOFF_SECONDS)
            self.counts.hold(client_address, backoff)
        log.warning("failed sign-in as %s from %s: %d in a row from there, %d on this installation this minute%s",
                    who, client_address, count, global_count, f"; it waits {backoff} s" if backoff else "")

    def succeeded(self, client_address: str) -> None:
        self.counts.clear(client_address)

"""A token bucket per key, for requests a client may repeat but not flood (resubscribes)."""

from __future__ import annotations

import time


class RateLimit:
    """At most `burst` requests at once per key, then `rate` per second."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when it has none left."""
        now = time.monotonic()
        tokens, then = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            return False
        self.buckets[key] = (tokens - 1, now)
        return True

    def forget(self, key: str) -> None:
        self.buckets.pop(key, None)

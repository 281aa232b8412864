"""The job channels a server listens to: only those of jobs with a local viewer, kept a while after the last.

A job's channel is subscribed when its first local viewer subscribes and unsubscribed `linger` seconds
after its last one left (a viewer that reloads the page finds it still there). `ready` is set when Redis
has confirmed the subscription on the feed connection: from then on every message published on the
channel reaches this server, so a backlog read after it cannot miss a line that is neither in the
backlog nor on the feed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent.event

LINGER = 10.0  # seconds a channel stays subscribed after its job's last local viewer left


@dataclass
class Watch:
    """One subscribed (or being subscribed) job channel."""

    ready: gevent.event.Event = field(default_factory=gevent.event.Event)
    idle_since: float | None = None  # when the sweep first found no local viewer


class Watches:
    """Job id -> Watch; `listen` / `unlisten` send SUBSCRIBE / UNSUBSCRIBE for job ids on the feed."""

    def __init__(self, listen: Callable[[list[str]], None], unlisten: Callable[[list[str]], None],
                 linger: float = LINGER):
        self.listen, self.unlisten = listen, unlisten
        self.linger = linger
        self.watching: dict[str, Watch] = {}

    def need(self, job_id: str) -> gevent.event.Event:
        """Subscribe the job's channel unless it is; return the event set once Redis confirmed it."""
        watch = self.watching.get(job_id)
        if watch is None:
            watch = self.watching[job_id] = Watch()
            self.listen([job_id])
        watch.idle_since = None
        return watch.ready

    def confirmed(self, job_id: str) -> None:
        """Redis confirmed a subscription to the job's channel (seen in order on the feed)."""
        watch = self.watching.get(job_id)
        if watch is not None:
            watch.ready.set()

    def reconnected(self) -> None:
        """A new feed connection: subscribe every watched channel on it again."""
        for watch in self.watching.values():
            watch.ready.clear()
        if self.watching:
            self.listen(list(self.watching))

    def sweep(self, in_use: Callable[[str], bool]) -> list[str]:
        """Unsubscribe the channels of jobs without a local viewer for `linger` seconds; return their ids."""
        now, idle = time.monotonic(), []
        for job_id, watch in self.watching.items():
            if in_use(job_id):
                watch.idle_since = None
            elif watch.idle_since is None:
                watch.idle_since = now
            # An unconfirmed one waits: its confirmation must arrive before an UNSUBSCRIBE can be sent, or
            # a later SUBSCRIBE of the same channel could take this one's confirmation for its own.
            elif now - watch.idle_since >= self.linger and watch.ready.is_set():
                idle.append(job_id)
        for job_id in idle:
            del self.watching[job_id]
        if idle:
            self.unlisten(idle)
        return idle

"""Shared Redis calls for a subscription storm: thousands of viewers subscribing to one job at once (a
deploy restarts a server, a link goes round the team) would each make the same calls, and wait their turn
for the fixed pool of Redis connections. Calls with the same key that queue while one is in flight go
together in the next one.

A caller always gets the result of a call *sent after it asked*: a round takes callers until it starts,
and it starts only when the previous round of its key has ended. So a shared read sees every write that a
caller's own read would have seen, which the relay's exactly-once handshake depends on (tailapp.relay).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from typing import Any

import gevent
import gevent.event


class Round:
    """One shared call: the callers that joined before it started, and its result."""

    def __init__(self):
        self.token = uuid.uuid4().hex  # known before the call starts (a marker names its round)
        self.callers = 0
        self.result = gevent.event.AsyncResult()

    def wait(self) -> Any:
        """The call's value, or its exception raised again."""
        return self.result.get()


class Coalesced:
    """Rounds of shared calls, by key; at most one round of a key runs at a time and one waits."""

    def __init__(self):
        self.waiting: dict[Hashable, Round] = {}  # the round that still takes callers
        self.running: dict[Hashable, Round] = {}
        self.calls = 0  # calls made (for the bench and tests: callers / calls is the sharing)

    def join(self, key: Hashable, call: Callable[[Round], Any]) -> Round:
        """The round `call` will run in for `key`: a waiting one, or a new one started after the running one."""
        joined = self.waiting.get(key)
        if joined is None:
            joined = self.waiting[key] = Round()
            gevent.spawn(self._run, key, joined, call)
        joined.callers += 1
        return joined

    def call(self, key: Hashable, call: Callable[[], Any]) -> Any:
        """Join the round of `key` and wait for its value."""
        return self.join(key, lambda _: call()).wait()

    def _run(self, key: Hashable, joined: Round, call: Callable[[Round], Any]) -> None:
        while (ahead := self.running.get(key)) is not None:
            ahead.result.wait()  # set (value or exception) when it ends; it then leaves `running`
        del self.waiting[key]  # from here on, new callers join the next round
        self.running[key] = joined
        self.calls += 1
        try:
            joined.result.set(call(joined))
        except Exception as exc:  # noqa: BLE001 - every caller gets it raised again, in its own greenlet
            joined.result.set_exception(exc)
        finally:
            del self.running[key]

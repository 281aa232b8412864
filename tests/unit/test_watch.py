"""Which job channels a server listens to (tailapp.watch), step by step against recorded SUBSCRIBE /
UNSUBSCRIBE calls; and the relay's handshake, which must not read a backlog before its channel is live."""

from __future__ import annotations

import gevent
import gevent.event

from tailapp.watch import Watches
from tests.unit.test_relay_pacing import JOB, FakeServer, FakeStore, relay_with


class Feed:
    def __init__(self):
        self.sent: list[tuple[str, list[str]]] = []

    def watches(self, linger: float = 0.0) -> Watches:
        return Watches(lambda ids: self.sent.append(("subscribe", ids)),
                       lambda ids: self.sent.append(("unsubscribe", ids)), linger)


def test_the_first_viewer_subscribes_once_and_ready_waits_for_the_confirmation():
    feed = Feed()
    watches = feed.watches()
    ready = watches.need("a")
    assert watches.need("a") is ready and feed.sent == [("subscribe", ["a"])]
    assert not ready.is_set()
    watches.confirmed("a")
    assert ready.is_set()


def test_a_channel_is_dropped_only_after_lingering_without_viewers():
    feed = Feed()
    watches = feed.watches(linger=0.05)
    watches.need("a")
    watches.confirmed("a")
    viewers = {"a"}
    assert watches.sweep(viewers.__contains__) == []
    viewers.clear()
    assert watches.sweep(viewers.__contains__) == []  # idle from now
    gevent.sleep(0.06)
    assert watches.sweep(viewers.__contains__) == ["a"]
    assert feed.sent[-1] == ("unsubscribe", ["a"]) and not watches.watching


def test_a_viewer_coming_back_while_it_lingers_keeps_the_channel():
    feed = Feed()
    watches = feed.watches(linger=0.05)
    watches.need("a")
    watches.confirmed("a")
    watches.sweep(lambda job_id: False)
    gevent.sleep(0.06)
    watches.need("a")  # a page reload
    assert watches.sweep(lambda job_id: False) == [] and feed.sent == [("subscribe", ["a"])]


def test_an_unconfirmed_channel_is_not_unsubscribed():
    # Else the confirmation of this SUBSCRIBE could be taken by a later SUBSCRIBE of the same channel.
    feed = Feed()
    watches = feed.watches(linger=0.0)
    watches.need("a")
    watches.sweep(lambda job_id: False)
    assert watches.sweep(lambda job_id: False) == [] and "a" in watches.watching


def test_a_new_feed_connection_subscribes_every_watched_channel_again_and_waits_for_it():
    feed = Feed()
    watches = feed.watches()
    ready = watches.need("a")
    watches.need("b")
    watches.confirmed("a")
    watches.reconnected()
    assert feed.sent[-1] == ("subscribe", ["a", "b"]) and not ready.is_set()


def test_the_replay_reads_no_backlog_before_its_channel_is_live():
    server, store = FakeServer(), FakeStore(count=3, width=10)
    reads = []
    read_lines = store.read_lines
    store.read_lines = lambda *args: reads.append(args) or read_lines(*args)
    relay, sync = relay_with(server, store)
    listening = gevent.event.Event()
    replay = gevent.spawn(relay._replay, sync, 0, {"id": JOB}, listening)
    gevent.sleep(0.05)
    assert reads == []  # a line published now would be neither in the backlog nor on the feed
    listening.set()
    gevent.sleep(0.05)
    assert reads and [pk["seq"] for event, pk in server.emitted if event == "lines"] == [1]
    replay.kill()


def test_a_channel_never_confirmed_sends_the_viewer_to_resync():
    server = FakeServer()
    relay, sync = relay_with(server, FakeStore(count=3, width=10))
    relay.marker_timeout = 0.05
    gevent.spawn(relay._replay, sync, 0, {"id": JOB}, gevent.event.Event()).join(1)
    assert server.emitted == [("resync", {"job": JOB})] and not relay.syncing

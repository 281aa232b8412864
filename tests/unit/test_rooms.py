"""rooms.py on python-socketio's own room table (no server process): entering, and clients that left."""

from __future__ import annotations

import socketio

from tailapp import protocol as p
from tailapp import rooms


def server_with(*eio_sids: str) -> tuple[socketio.Server, list[str]]:
    server = socketio.Server()
    return server, [server.manager.connect(eio_sid, p.NAMESPACE) for eio_sid in eio_sids]


def test_a_connected_client_enters_a_room():
    server, (sid,) = server_with("eio-1")
    assert rooms.enter(server, sid, rooms.JOBS)
    assert sid in rooms.members(server, rooms.JOBS)


def test_a_client_that_left_is_not_entered_and_nothing_is_raised():
    """A watch_jobs or a handshake's join can run after its client left; python-socketio raised for
    it (KeyError, or ValueError with nobody left in the namespace), which put a trace in the log."""
    server, (gone, staying) = server_with("eio-1", "eio-2")
    server.manager.disconnect(gone, p.NAMESPACE)
    assert not rooms.enter(server, gone, rooms.job_room("0123456789abcdef0123456789abcdef"))
    server.manager.disconnect(staying, p.NAMESPACE)
    assert not rooms.enter(server, staying, rooms.JOBS)
    assert not rooms.members(server, rooms.JOBS)

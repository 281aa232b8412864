"""Socket.IO handlers of the /tail namespace: subscribe, unsubscribe, watch the job list."""

from __future__ import annotations

import functools
import logging
import time

import gevent
import redis
from flask import g, request
from flask_socketio import ConnectionRefusedError

from tailapp import protocol as p
from tailapp import rooms, runtime, sockets, transport
from tailapp.auth import identify, local_only_refusal
from tailapp.ratelimit import RateLimit
from tailapp.store import unavailable_message
from tailapp.store.sessions import Sessions
from tailapp.throttle import Throttled

log = logging.getLogger(__name__)
socketio = sockets.socketio
SWEEP_SECONDS = 3  # how soon a logout on another server closes this server's connections of that session
_sweeper: list = []
# Each subscribe replays a backlog: a page with many jobs may resubscribe to all at once after a resync,
# but one connection resubscribing 20 times a second made the server push 17 MB/s of replays.
subscribes = RateLimit(rate=2, burst=50)
REFUSED_CLOSE_SECONDS = 1.0  # a refused client's connection closes this long after the refusal was sent
UNJOINED_SECONDS = 10.0  # a connection that joins no namespace for this long is closed


def _relay():
    return runtime.get().relay


def register() -> None:
    """Attach the /tail handlers to Socket.IO."""
    handlers = {"connect": on_connect, p.SUBSCRIBE: on_subscribe, p.UNSUBSCRIBE: on_unsubscribe,
                p.WATCH_JOBS: on_watch_jobs, "disconnect": on_disconnect}
    for event, handler in handlers.items():
        socketio.on_event(event, _leaving_no_request(handler), namespace=p.NAMESPACE)
    socketio.on_error(p.NAMESPACE)(on_error)


def _leaving_no_request(handler):
    """The handler, run without the request object its event's context left in the connection's environ.

    Flask-SocketIO runs every event in a request context built from the environ that python-socketio keeps
    for the connection, and werkzeug stores each new request object in that environ ("werkzeug.request"):
    the last event's request (its headers, its arguments, the event's payload) stayed there for the
    connection's life. The context holds its own reference, so nothing reads the environ's."""
    @functools.wraps(handler)
    def run(*args):
        request.environ.pop("werkzeug.request", None)
        return handler(*args)
    return run


def _error(message: str) -> dict:
    return {"ok": False, "error": message}


def on_connect(auth=None):
    refusal = local_only_refusal() or _identity_refusal(auth)
    if refusal is not None:
        # Without this the Engine.IO connection stayed open while the client answered pings: 499 refused
        # clients held every file descriptor of the server and locked out those with the token.
        eio_sid = socketio.server.manager.eio_sid_from_sid(request.sid, p.NAMESPACE)
        gevent.spawn_later(REFUSED_CLOSE_SECONDS, _close_unjoined, eio_sid, "namespace connect refused")
        raise ConnectionRefusedError(refusal)
    if g.session_id is not None:
        sockets.remember_session(request.sid, g.session_id)
        _start_sweeper()


def _identity_refusal(auth) -> str | None:
    """Why the client may not connect (throttled, not signed in); None if it may."""
    try:
        user = identify(auth)
    except Throttled as exc:
        return str(exc)
    return "authentication required" if user is None else None


def _signed_out() -> bool:
    """True (and the connection is closed) when this connection's sign-in session has ended."""
    session_id = sockets.session_of(request.sid)
    if session_id is None or runtime.get().store.sessions.get(session_id):
        return False
    sockets.disconnect(request.sid)
    return True


def on_subscribe(payload=None):
    if _signed_out():
        return _error("signed out")
    try:
        job_id, after = p.parse_subscribe(payload)
    except p.BadRequest as exc:
        return _error(str(exc))
    if not subscribes.allow(request.sid):
        return _error("too many subscribe requests on this connection; wait a second and retry")
    try:
        return _relay().subscribe(request.sid, job_id, after)
    except (redis.ConnectionError, redis.TimeoutError) as exc:  # Redis restarting or loading: not our bug
        log.warning("subscribe to %s failed: %s", job_id, exc)
        return {**_error(unavailable_message(exc)), "retry": True}


def on_unsubscribe(payload=None):
    try:
        job_id = p.parse_unsubscribe(payload)
    except p.BadRequest as exc:
        return _error(str(exc))
    _relay().unsubscribe(request.sid, job_id)
    return {"ok": True}


def on_watch_jobs(payload=None):
    if _signed_out():
        return _error("signed out")
    if not rooms.enter(socketio.server, request.sid, rooms.JOBS):
        return _error("not connected")  # it left while asking: nobody reads this answer
    return {"ok": True}


def on_disconnect(reason=None):
    sockets.forget_session(request.sid)
    subscribes.forget(request.sid)
    _relay().forget_sid(request.sid)


def on_error(exc):
    # A handler bug must not reach the client as a trace, nor take the connection down.
    log.exception("socket.io handler failed", exc_info=exc)
    return _error("internal error")


def _start_sweeper() -> None:
    if not _sweeper:
        _sweeper.append(socketio.start_background_task(_sweep, runtime.get().store.sessions))


def _sweep(records: Sessions) -> None:
    """Close connections whose sign-in session ended (logged out on another server, token rotated)."""
    while True:
        socketio.sleep(SWEEP_SECONDS)
        try:
            owned = sockets.owned_connections()
            if not owned:
                continue
            for (sid, _), alive in zip(owned, records.alive([s for _, s in owned]), strict=True):
                if not alive:
                    sockets.disconnect(sid)
        except Exception:  # Redis away for a moment: try again next round
            log.warning("session sweep failed", exc_info=True)


def _close_unjoined(eio_sid: str, why: str) -> None:
    if socketio.server.manager.sid_from_eio_sid(eio_sid, p.NAMESPACE) is None:
        transport.close(socketio.server.eio, eio_sid, why)


def close_unjoined_connections() -> None:
    """Forever: close Engine.IO connections that have not joined /tail within UNJOINED_SECONDS."""
    first_seen: dict[str, float] = {}
    while True:
        gevent.sleep(UNJOINED_SECONDS / 4)
        try:
            first_seen = _sweep_unjoined(first_seen)
        except Exception:
            log.exception("closing unjoined connections failed")


def _sweep_unjoined(first_seen: dict[str, float]) -> dict[str, float]:
    now, manager = time.monotonic(), socketio.server.manager
    first_seen = {sid: first_seen.get(sid, now) for sid in list(socketio.server.eio.sockets)
                  if manager.sid_from_eio_sid(sid, p.NAMESPACE) is None}
    for eio_sid, since in first_seen.items():
        if now - since >= UNJOINED_SECONDS:
            _close_unjoined(eio_sid, f"joined no namespace within {UNJOINED_SECONDS:g}s")
    return first_seen

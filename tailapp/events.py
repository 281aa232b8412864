"""Socket.IO handlers of the /tail namespace: subscribe, unsubscribe, watch the job list."""

from __future__ import annotations

import logging
import time

import gevent
from flask import current_app, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from tailapp import protocol as p
from tailapp import transport
from tailapp.auth import is_authenticated, local_only_refusal
from tailapp.ratelimit import RateLimit

log = logging.getLogger(__name__)
socketio = SocketIO()  # bound to the app in create_app
# Each subscribe replays a backlog: a page with many jobs may resubscribe to all at once after a resync,
# but one connection resubscribing 20 times a second made the server push 17 MB/s of replays.
subscribes = RateLimit(rate=2, burst=50)
REFUSED_CLOSE_SECONDS = 1.0  # a refused client's connection closes this long after the refusal was sent
UNJOINED_SECONDS = 10.0  # a connection that joins no namespace for this long is closed


def _relay():
    return current_app.extensions["tailapp"].relay


def _error(message: str) -> dict:
    return {"ok": False, "error": message}


@socketio.on("connect", namespace=p.NAMESPACE)
def on_connect(auth=None):
    refusal = local_only_refusal()
    if refusal is None and not is_authenticated(auth):
        refusal = "authentication required"
    if refusal is not None:
        # Without this the Engine.IO connection stayed open while the client answered pings: 499 refused
        # clients held every file descriptor of the server and locked out those with the token.
        eio_sid = socketio.server.manager.eio_sid_from_sid(request.sid, p.NAMESPACE)
        gevent.spawn_later(REFUSED_CLOSE_SECONDS, _close_unjoined, eio_sid, "namespace connect refused")
        raise ConnectionRefusedError(refusal)


@socketio.on(p.SUBSCRIBE, namespace=p.NAMESPACE)
def on_subscribe(payload=None):
    try:
        job_id, after = p.parse_subscribe(payload)
    except p.BadRequest as exc:
        return _error(str(exc))
    if not subscribes.allow(request.sid):
        return _error("too many subscribe requests on this connection; wait a second and retry")
    return _relay().subscribe(request.sid, job_id, after)


@socketio.on(p.UNSUBSCRIBE, namespace=p.NAMESPACE)
def on_unsubscribe(payload=None):
    try:
        job_id = p.parse_unsubscribe(payload)
    except p.BadRequest as exc:
        return _error(str(exc))
    _relay().unsubscribe(request.sid, job_id)
    return {"ok": True}


@socketio.on(p.WATCH_JOBS, namespace=p.NAMESPACE)
def on_watch_jobs(payload=None):
    join_room(p.JOBS_ROOM)
    return {"ok": True}


@socketio.on("disconnect", namespace=p.NAMESPACE)
def on_disconnect(reason=None):
    subscribes.forget(request.sid)
    _relay().forget_sid(request.sid)


@socketio.on_error(p.NAMESPACE)
def on_error(exc):
    # A handler bug must not reach the client as a trace, nor take the connection down.
    log.exception("socket.io handler failed", exc_info=exc)
    return _error("internal error")


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

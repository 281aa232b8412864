"""Socket.IO handlers of the /tail namespace: subscribe, unsubscribe, watch the job list."""

from __future__ import annotations

import logging

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from tailapp import protocol as p
from tailapp.auth import is_authenticated, local_only_refusal
from tailapp.ratelimit import RateLimit

log = logging.getLogger(__name__)
socketio = SocketIO()  # bound to the app in create_app
# Each subscribe replays a backlog: a page with many jobs may resubscribe to all at once after a resync,
# but one connection resubscribing 20 times a second made the server push 17 MB/s of replays.
subscribes = RateLimit(rate=2, burst=50)


def _relay():
    return current_app.extensions["tailapp"].relay


def _error(message: str) -> dict:
    return {"ok": False, "error": message}


@socketio.on("connect", namespace=p.NAMESPACE)
def on_connect(auth=None):
    refusal = local_only_refusal()
    if refusal is not None:
        raise ConnectionRefusedError(refusal)
    if not is_authenticated(auth):
        raise ConnectionRefusedError("authentication required")


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

"""Socket.IO handlers of the /tail namespace: subscribe, unsubscribe, watch the job list."""

from __future__ import annotations

import logging

import redis
from flask import current_app, g, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from tailapp import protocol as p
from tailapp import sessions
from tailapp.auth import identify, local_only_refusal
from tailapp.store import unavailable_message
from tailapp.throttle import Throttled

log = logging.getLogger(__name__)
socketio = SocketIO()  # bound to the app in create_app
SWEEP_SECONDS = 3  # how soon a logout on another server closes this server's connections of that session
_session_of: dict[str, str] = {}  # Socket.IO sid -> the sign-in session it was opened with
_sweeper: list = []


def _relay():
    return current_app.extensions["tailapp"].relay


def _error(message: str) -> dict:
    return {"ok": False, "error": message}


@socketio.on("connect", namespace=p.NAMESPACE)
def on_connect(auth=None):
    refusal = local_only_refusal()
    if refusal is not None:
        raise ConnectionRefusedError(refusal)
    try:
        user = identify(auth)
    except Throttled as exc:
        raise ConnectionRefusedError(str(exc)) from None
    if user is None:
        raise ConnectionRefusedError("authentication required")
    if g.session_id is not None:
        _session_of[request.sid] = g.session_id
        _start_sweeper()


def _signed_out() -> bool:
    """True (and the connection is closed) when this connection's sign-in session has ended."""
    session_id = _session_of.get(request.sid)
    if session_id is None or sessions.get(current_app.extensions["tailapp"].store.redis, session_id):
        return False
    socketio.server.disconnect(request.sid, namespace=p.NAMESPACE)
    return True


@socketio.on(p.SUBSCRIBE, namespace=p.NAMESPACE)
def on_subscribe(payload=None):
    if _signed_out():
        return _error("signed out")
    try:
        job_id, after = p.parse_subscribe(payload)
    except p.BadRequest as exc:
        return _error(str(exc))
    try:
        return _relay().subscribe(request.sid, job_id, after)
    except (redis.ConnectionError, redis.TimeoutError) as exc:  # Redis restarting or loading: not our bug
        log.warning("subscribe to %s failed: %s", job_id, exc)
        return {**_error(unavailable_message(exc)), "retry": True}


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
    if _signed_out():
        return _error("signed out")
    join_room(p.JOBS_ROOM)
    return {"ok": True}


@socketio.on("disconnect", namespace=p.NAMESPACE)
def on_disconnect(reason=None):
    _session_of.pop(request.sid, None)
    _relay().forget_sid(request.sid)


@socketio.on_error(p.NAMESPACE)
def on_error(exc):
    # A handler bug must not reach the client as a trace, nor take the connection down.
    log.exception("socket.io handler failed", exc_info=exc)
    return _error("internal error")


def close_session(session_id: str) -> None:
    """Close this server's connections opened with that sign-in session (others' go within SWEEP_SECONDS)."""
    for sid in [sid for sid, owner in list(_session_of.items()) if owner == session_id]:
        socketio.server.disconnect(sid, namespace=p.NAMESPACE)


def _start_sweeper() -> None:
    if not _sweeper:
        redis_client = current_app.extensions["tailapp"].store.redis
        _sweeper.append(socketio.start_background_task(_sweep, redis_client))


def _sweep(redis_client) -> None:
    """Close connections whose sign-in session ended (logged out on another server, token rotated)."""
    while True:
        socketio.sleep(SWEEP_SECONDS)
        try:
            owned = list(_session_of.items())
            if not owned:
                continue
            for (sid, _), alive in zip(owned, sessions.alive(redis_client, [s for _, s in owned]), strict=True):
                if not alive:
                    socketio.server.disconnect(sid, namespace=p.NAMESPACE)
        except Exception:  # Redis away for a moment: try again next round
            log.warning("session sweep failed", exc_info=True)

"""Socket.IO in a server: the extension object, its setup on the app, and which connections belong to which
sign-in session (so a logout closes them)."""

from __future__ import annotations

import socketio as python_socketio
from flask import Flask
from flask_socketio import SocketIO

from tailapp import protocol as p
from tailapp import socket_json, transport

MAX_SOCKET_PAYLOAD = 4 * 1024 * 1024  # larger Socket.IO packets close the connection

socketio = SocketIO()  # bound to the app by init_sockets
_session_of: dict[str, str] = {}  # Socket.IO sid -> the sign-in session it was opened with


def init_sockets(app: Flask) -> python_socketio.Server:
    """Bind Socket.IO to `app` (gevent, our JSON codec, the whole-frame transport); return its server."""
    settings = app.config
    socketio.init_app(
        app, async_mode="gevent", message_queue=settings["MESSAGE_QUEUE"],
        cors_allowed_origins=settings["CORS_ALLOWED_ORIGINS"] or None,
        max_http_buffer_size=MAX_SOCKET_PAYLOAD, json=socket_json.json, serializer=socket_json.TextPacket,
    )
    transport.install(socketio.server.eio, queue_limit=settings["SEND_QUEUE_BYTES"],
                      stall_seconds=settings["SEND_STALL_SECONDS"])
    return socketio.server


def remember_session(sid: str, session_id: str) -> None:
    _session_of[sid] = session_id


def session_of(sid: str) -> str | None:
    return _session_of.get(sid)


def forget_session(sid: str) -> None:
    _session_of.pop(sid, None)


def owned_connections() -> list[tuple[str, str]]:
    """(sid, sign-in session) of every connection opened signed in."""
    return list(_session_of.items())


def close_session(session_id: str) -> None:
    """Close this server's connections opened with that sign-in session (other servers' go by their sweep)."""
    for sid in [sid for sid, owner in owned_connections() if owner == session_id]:
        disconnect(sid)


def disconnect(sid: str) -> None:
    socketio.server.disconnect(sid, namespace=p.NAMESPACE)

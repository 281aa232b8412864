"""The Socket.IO rooms of /tail: one per job (its viewers) and one of the job list; their names, who is in
them, and entering and leaving.

Entering, leaving and closing use python-socketio's public Server API. Who is in a room is read from its
manager's room table: the public `get_participants` copies the room on every call, and the relay and the
outbox ask once per message on the feed.
"""

from __future__ import annotations

from collections.abc import Mapping

from tailapp import protocol as p

JOB_PREFIX = "job:"
JOBS = "jobs"  # the room of viewers of the job list


def job_room(job_id: str) -> str:
    return JOB_PREFIX + job_id


def job_of(room: object) -> str | None:
    """The job id of a job's room; None for any other room."""
    return room[len(JOB_PREFIX) :] if isinstance(room, str) and room.startswith(JOB_PREFIX) else None


def _table(server) -> dict:
    return server.manager.rooms.get(p.NAMESPACE, {})


def members(server, room: str | None) -> Mapping[str, str]:
    """The room's members here, Socket.IO sid -> Engine.IO sid (room None: every client of /tail)."""
    return _table(server).get(room) or {}


def has_members(server, room: str) -> bool:
    return bool(_table(server).get(room))


def job_rooms(server) -> list[str]:
    """The job rooms that have members here."""
    return [room for room in _table(server) if job_of(room) is not None]


def job_members(server) -> int:
    """Members of all job rooms here (a client in two rooms counts twice)."""
    return sum(len(members(server, room)) for room in job_rooms(server))


def jobs_joined(server, sid: str) -> int:
    """How many job rooms client `sid` is in."""
    return sum(1 for room in server.rooms(sid, namespace=p.NAMESPACE) if job_of(room) is not None)


def enter(server, sid: str, room: str) -> None:
    server.enter_room(sid, room, namespace=p.NAMESPACE)


def leave(server, sid: str, room: str) -> None:
    server.leave_room(sid, room, namespace=p.NAMESPACE)


def close(server, room: str) -> None:
    server.close_room(room, namespace=p.NAMESPACE)

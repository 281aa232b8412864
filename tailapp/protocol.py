"""Names and payload checks shared by the Socket.IO handlers, the HTTP API and the Python client.

docs/PROTOCOL.md is the prose version of this module; keep them together.
"""

from __future__ import annotations

import re

NAMESPACE = "/tail"

# client -> server
SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
WATCH_JOBS = "watch_jobs"
# server -> client
LINES = "lines"
JOB = "job"
RESYNC = "resync"

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, LOST = "queued", "running", "succeeded", "failed", "cancelled", "lost"
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, LOST)
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED, LOST})

JOB_ID = re.compile(r"[0-9a-f]{32}")
PACKET_BYTES = 1024 * 1024  # a `lines` packet holds at most this much text (or one longer line)


def line_bytes(text: str) -> int:
    """UTF-8 size of a line (its length when ASCII, which costs nothing to check)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def text_bytes(texts: list[str]) -> int:
    return sum(map(line_bytes, texts))


def split_lines(payload: dict, max_bytes: int = PACKET_BYTES):
    """The `lines` payload cut into payloads of at most `max_bytes` of text (a longer line goes alone)."""
    texts, times = payload["lines"], payload["times"]
    start, size = 0, 0
    for end, text in enumerate(texts):
        length = line_bytes(text)
        if size + length > max_bytes and end > start:
            yield {**payload, "seq": payload["seq"] + start, "lines": texts[start:end], "times": times[start:end]}
            start, size = end, 0
        size += length
    if start == 0:
        yield payload
    elif start < len(texts):
        yield {**payload, "seq": payload["seq"] + start, "lines": texts[start:], "times": times[start:]}


class BadRequest(ValueError):
    """A payload that breaks the protocol; its message is safe to show the client."""


def parse_job_id(value: object) -> str:
    if not isinstance(value, str) or not JOB_ID.fullmatch(value):
        raise BadRequest('"job" must be a job id (32 hex characters)')
    return value


MAX_SEQ = 2**53 - 1  # the largest seq a client may name: exact in JavaScript, and far from Redis' 64-bit limit


def parse_after(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise BadRequest(f'"after" must be an integer from 0 to {MAX_SEQ}')
    return value


def parse_subscribe(payload: object) -> tuple[str, int]:
    """Check a `subscribe` payload; return (job id, after)."""
    if not isinstance(payload, dict):
        raise BadRequest("payload must be an object")
    return parse_job_id(payload.get("job")), parse_after(payload.get("after", 0))


def parse_unsubscribe(payload: object) -> str:
    if not isinstance(payload, dict):
        raise BadRequest("payload must be an object")
    return parse_job_id(payload.get("job"))

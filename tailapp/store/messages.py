"""The feed format: how a line is stored, and the three messages on a job's channel.

A line is stored as the element "<unix ms> <text>" (a text never holds "\\n": the writer splits on it).
A job channel carries:

    L<first seq>\\n<element>\\n<element>…   lines, published with their append (scripts.APPEND_LINES)
    J<job hash as a JSON array of field, value, …>   a state change (scripts.SET_FIELDS)
    S<token>   a subscription has read its backlog (published by the relay, see relay.py)

`decode` turns a message into a typed one: Lines, JobChanged or Marker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

LINES_TAG, JOB_TAG, MARKER_TAG = "L", "J", "S"


class MalformedMessage(ValueError):
    """A channel message tailapp did not write."""


def encode_line(ms: int, text: str) -> str:
    """The stored element of a line written at `ms` (Unix milliseconds)."""
    return f"{ms} {text}"


def decode_elements(elements: list[str]) -> tuple[list[str], list[int]]:
    """Split stored elements into texts and times."""
    texts, times = [], []
    for element in elements:
        ms, _, text = element.partition(" ")
        texts.append(text)
        times.append(int(ms))
    return texts, times


@dataclass
class Lines:
    """Lines from seq `seq` on, as published; split into texts and times on first use (the relay skips
    that for jobs nobody watches)."""

    seq: int
    body: str  # the elements joined by "\n"

    @property
    def count(self) -> int:
        return self.body.count("\n") + 1

    @property
    def newest_ms(self) -> int:
        """When the last line was written (Unix ms)."""
        last = self.body.rfind("\n") + 1
        return int(self.body[last : self.body.index(" ", last)])

    @cached_property
    def _split(self) -> tuple[list[str], list[int]]:
        return decode_elements(self.body.split("\n"))

    @property
    def texts(self) -> list[str]:
        return self._split[0]

    @property
    def times(self) -> list[int]:
        return self._split[1]


@dataclass(frozen=True)
class JobChanged:
    """A job's fields after a change (the whole hash, as stored)."""

    fields: dict


@dataclass(frozen=True)
class Marker:
    """Subscription `token` has read its backlog."""

    token: str


Message = Lines | JobChanged | Marker


def encode_marker(token: str) -> str:
    return MARKER_TAG + token


def decode(data: str) -> Message:
    """The typed message; MalformedMessage when it is not one tailapp writes."""
    tag = data[:1]
    try:
        if tag == LINES_TAG:
            head, _, body = data.partition("\n")
            return Lines(int(head[1:]), body)
        if tag == JOB_TAG:
            fields = pairs_to_dict(json.loads(data[1:]))
            if "id" in fields:
                return JobChanged(fields)
        if tag == MARKER_TAG:
            return Marker(data[1:])
    except (IndexError, TypeError, ValueError) as exc:
        raise MalformedMessage(f"malformed message: {exc}") from exc
    raise MalformedMessage(f"not a tailapp message: {data[:20]!r}")


def pairs_to_dict(flat: list) -> dict:
    """{field: value} from Redis' flat [field, value, …] list."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}

"""How the server encodes Socket.IO packets: JSON by orjson, and no per-element binary scan.

`json` is a stand-in for the json module python-socketio and python-engineio use: `lines` payloads are
encoded several times faster than by the standard library (orjson gives bytes, Socket.IO wants str).
`TextPacket` skips python-socketio's search for binary data, which visits every element of every
payload in Python (about 1 ms for a 4,000-line batch): tailapp never sends bytes. Binary packets from
clients still decode as usual, their type says so on the wire.
"""

from __future__ import annotations

import json as _stdlib_json

import orjson
from socketio import packet


class _OrjsonModule:
    """dumps/loads with the json module's signatures (options such as separators do not apply)."""

    JSONDecodeError = _stdlib_json.JSONDecodeError

    @staticmethod
    def dumps(obj: object, **_ignored) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, **_ignored) -> object:
        return orjson.loads(text)


json = _OrjsonModule()


class TextPacket(packet.Packet):
    """A Socket.IO packet whose outgoing data is text only."""

    json = json

    @classmethod
    def data_is_binary(cls, data: object) -> bool:
        return isinstance(data, bytes | bytearray)


__all__ = ["TextPacket", "json"]

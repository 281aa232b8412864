"""The load client: many Socket.IO viewers per process, several processes.

Each viewer speaks just enough Engine.IO 4 / Socket.IO 5 over one websocket (an asyncio protocol around
websockets' Sans-I/O client, JSON by orjson) to subscribe to a job and count `lines` events. Messages are
handled in arrival order on one event loop, so there is nothing like python-engineio's thread per message to
reorder them. Lines whose text starts with "<unix time> " (as bench producers write them) give a latency
sample at receipt.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

NS = "/tail"
EVENT_PREFIX = f"42{NS},"


@dataclass
class Tally:
    """What one viewer saw."""

    expected: int
    received: int = 0
    messages: int = 0  # `lines` messages that brought them
    last: int = 0
    gaps: int = 0
    resyncs: int = 0
    duplicates: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    subscribed_at: float = 0.0
    acked_at: float = 0.0  # the server answered the subscribe (backlog sent, viewer in the room)
    latencies: list[float] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)  # each latency sample's line was written at this time
    every_line: bool = False  # a latency sample per line, else one per message (its oldest line)

    def lines(self, seq: int, texts: list[str]) -> None:
        now = time.time()
        self.messages += 1
        end = seq + len(texts) - 1
        if end <= self.last:
            self.duplicates += len(texts)
            return
        if seq > self.last + 1:
            self.gaps += seq - self.last - 1
        skip = max(0, self.last + 1 - seq)
        self.duplicates += skip
        fresh = texts[skip:]
        self.received += len(fresh)
        self.last = end
        self.first_at = self.first_at or now
        self.last_at = now
        for text in fresh if self.every_line else fresh[:1]:
            sent = _stamp(text)
            if sent is not None:
                self.latencies.append(now - sent)
                self.sent.append(sent)

    @property
    def done(self) -> bool:
        return self.received >= self.expected > 0


def _stamp(text: str) -> float | None:
    head = text.split(" ", 1)[0]
    try:
        return float(head)
    except ValueError:
        return None


async def viewer(url: str, job: str, tally: Tally, subscribed: asyncio.Event, stop: asyncio.Event) -> None:
    """One viewer: connect, subscribe from seq 0, count lines until `stop`. Raises ConnectionError when the
    connection ends before the server answered the subscribe (a refused handshake, a dropped connection)."""
    uri = parse_uri(url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket")
    loop = asyncio.get_running_loop()
    _, connection = await asyncio.wait_for(
        loop.create_connection(lambda: _Viewer(uri, job, tally, subscribed), uri.host, uri.port), 60)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stopping, connection.lost], return_when=asyncio.FIRST_COMPLETED)
    if connection.lost.done() and not subscribed.is_set():
        stopping.cancel()
        raise ConnectionError(f"viewer of {job}: the connection ended before the subscribe was answered "
                              f"({connection.ws.handshake_exc or connection.lost.result() or 'closed'})")
    await stopping  # a connection lost later ends the count early: the tally shows the lines missing
    connection.close()


class _Viewer(asyncio.Protocol):
    """A viewer's connection: websockets' Sans-I/O client for the framing, each message handled in the
    callback that read its bytes. Without asyncio streams, a message queue and a reading task per viewer, a
    `lines` message costs the bench ~22 µs of CPU instead of ~29 µs through `websockets.connect`
    (BENCHMARKS.md, "Stop 27"). On a 2-core machine, the viewers' CPU is CPU the server under test does not
    get. Latency samples are taken here, as the bytes are read (before: after websockets' queue and a switch
    to the reading task)."""

    def __init__(self, uri, job: str, tally: Tally, subscribed: asyncio.Event):
        self.ws = ClientProtocol(uri, max_size=None)
        self.job, self.tally, self.subscribed = job, tally, subscribed
        self.kind: Opcode | None = None  # the opcode of the message whose frames are arriving
        self.fragments: list[bytes] = []
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()  # its result: the error, or None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        try:
            for event in self.ws.events_received():
                if isinstance(event, Frame):
                    self._frame(event)
        finally:
            self._flush()
        if self.ws.handshake_exc is not None:  # refused, or not HTTP at all: `viewer` raises it
            self.transport.close()

    def eof_received(self) -> bool:
        self.ws.receive_eof()
        self._flush()
        return False  # the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)

    def close(self) -> None:
        """A close frame, then the connection's end."""
        if self.ws.state is State.OPEN and not self.lost.done():
            self.ws.send_close()
            self._flush()
        self.transport.close()

    def _frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self.kind = frame.opcode
        elif frame.opcode is not Opcode.CONT:
            return  # websockets answers pings and closes itself
        if self.kind is not Opcode.TEXT:
            return  # (a binary message: Socket.IO attachments, never sent to viewers)
        self.fragments.append(frame.data)
        if frame.fin:
            message = b"".join(self.fragments).decode()
            self.fragments = []
            self._message(message)

    def _message(self, message: str) -> None:
        tally = self.tally
        if message.startswith(EVENT_PREFIX):
            event, payload = orjson.loads(message[len(EVENT_PREFIX):])
            if event == "lines":
                tally.lines(payload["seq"], payload["lines"])
            elif event == "resync":  # as the browser does: resubscribe from the last seq held
                tally.resyncs += 1
                self._send(f'42{NS},2["subscribe",{{"job":"{self.job}","after":{tally.last}}}]')
        elif message == "2":
            self._send("3")  # Engine.IO pong
        elif message.startswith(f"43{NS},1["):
            tally.acked_at = time.time()
            self.subscribed.set()
        elif message.startswith(f"40{NS}"):  # namespace connected
            tally.subscribed_at = time.time()
            self._send(f'42{NS},1["subscribe",{{"job":"{self.job}","after":0}}]')
        elif message.startswith("0"):  # Engine.IO open
            self._send(f"40{NS},")

    def _send(self, text: str) -> None:
        if self.ws.state is State.OPEN:  # not once a close frame came in the same read
            self.ws.send_text(text.encode())

    def _flush(self) -> None:
        for chunk in self.ws.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()


@dataclass
class Group:
    """A process's share of viewers: (server url, job id) per viewer."""

    targets: list[tuple[str, str]]
    expected: int
    every_line: bool = False
    nice: int = 0  # added to the process's niceness: > 0 runs the viewers on the CPU the server leaves


def run_group(group: Group, conn) -> None:
    """Process entry: connect the group's viewers, report 'ready', count until done or told to stop."""
    if group.nice:
        os.nice(group.nice)
    asyncio.run(_run_group(group, conn))


async def _run_group(group: Group, conn) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    tallies = [Tally(group.expected, every_line=group.every_line) for _ in group.targets]
    events = [asyncio.Event() for _ in group.targets]
    tasks = []
    for (url, job), tally, ev in zip(group.targets, tallies, events, strict=True):
        tasks.append(asyncio.ensure_future(viewer(url, job, tally, ev, stop)))
        await asyncio.sleep(0.002)  # do not stampede the server's accept queue
    ready = asyncio.ensure_future(asyncio.gather(*(e.wait() for e in events)))
    done, _ = await asyncio.wait([ready, *tasks], timeout=120, return_when=asyncio.FIRST_COMPLETED)
    failed = [t.exception() for t in done if t is not ready and t.exception() is not None]
    if ready not in done:
        conn.send(f"not ready: {failed[0] if failed else 'no answer to a subscribe within 120 s'}")
        for task in (ready, *tasks):
            task.cancel()
        await asyncio.gather(ready, *tasks, return_exceptions=True)
        return
    conn.send("ready")
    deadline = await loop.run_in_executor(None, conn.recv)  # the parent's "go": a time to give up at
    while time.time() < deadline and not (group.expected and all(t.done for t in tallies)):
        await asyncio.sleep(0.01)
    conn.send([_summary(t) for t in tallies])
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


def _summary(t: Tally) -> dict:
    return {"received": t.received, "messages": t.messages, "last": t.last, "gaps": t.gaps,
            "duplicates": t.duplicates, "resyncs": t.resyncs, "first_at": t.first_at, "last_at": t.last_at,
            "subscribed_at": t.subscribed_at, "acked_at": t.acked_at,
            "latencies": t.latencies, "sent": t.sent}


class Viewers:
    """Viewers spread over `processes` client processes; start(), go(deadline), results()."""

    def __init__(self, targets: list[tuple[str, str]], expected: int, processes: int, every_line: bool = False,
                 nice: int = 0):
        ctx = mp.get_context("spawn")
        self.procs, self.conns = [], []
        for i in range(processes):
            share = targets[i::processes]
            if not share:
                continue
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=run_group, args=(Group(share, expected, every_line, nice), child), daemon=True)
            self.procs.append(proc)
            self.conns.append(parent)

    def start(self, timeout: float = 180) -> Viewers:
        """Start the processes and wait until every viewer's subscribe was acknowledged."""
        for proc in self.procs:
            proc.start()
        for conn in self.conns:
            if not conn.poll(timeout):
                raise TimeoutError("viewers did not subscribe in time")
            if (answer := conn.recv()) != "ready":
                raise RuntimeError(f"viewers did not subscribe: {answer}")
        return self

    def go(self, seconds: float) -> None:
        """Let the viewers count for at most `seconds` (they stop earlier once all have every line)."""
        for conn in self.conns:
            conn.send(time.time() + seconds)

    def results(self, timeout: float = 600) -> list[dict]:
        out = []
        for conn in self.conns:
            if conn.poll(timeout):
                out.extend(conn.recv())
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        return out

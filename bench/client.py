"""The load client: many Socket.IO viewers per process, several processes.

Each viewer speaks just enough Engine.IO 4 / Socket.IO 5 over one websocket (asyncio + `websockets`, JSON
by orjson) to subscribe to a job and count `lines` events. Messages are handled in arrival order on one
event loop, so there is nothing like python-engineio's thread per message to reorder them. Lines whose
text starts with "<unix time> " (as bench producers write them) give a latency sample at receipt.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from dataclasses import dataclass, field

import orjson
import websockets

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
    """One viewer: connect, subscribe from seq 0, count lines until `stop`."""
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(ws_url, max_size=None, compression=None, ping_interval=None,
                                  open_timeout=60, max_queue=None, close_timeout=1) as ws:
        await ws.recv()  # Engine.IO open packet
        await ws.send(f"40{NS},")
        await ws.recv()  # namespace connected
        tally.subscribed_at = time.time()
        await ws.send(f'42{NS},1["subscribe",{{"job":"{job}","after":0}}]')
        reader = asyncio.ensure_future(_read(ws, job, tally, subscribed))
        await stop.wait()
        reader.cancel()


async def _read(ws, job: str, tally: Tally, subscribed: asyncio.Event) -> None:
    async for message in ws:
        if message == "2":
            await ws.send("3")  # Engine.IO pong
        elif message.startswith(EVENT_PREFIX):
            event, payload = orjson.loads(message[len(EVENT_PREFIX):])
            if event == "lines":
                tally.lines(payload["seq"], payload["lines"])
            elif event == "resync":  # as the browser does: resubscribe from the last seq held
                tally.resyncs += 1
                await ws.send(f'42{NS},2["subscribe",{{"job":"{job}","after":{tally.last}}}]')
        elif message.startswith(f"43{NS},1"):
            tally.acked_at = time.time()
            subscribed.set()


@dataclass
class Group:
    """A process's share of viewers: (server url, job id) per viewer."""

    targets: list[tuple[str, str]]
    expected: int
    every_line: bool = False


def run_group(group: Group, conn) -> None:
    """Process entry: connect the group's viewers, report 'ready', count until done or told to stop."""
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
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 120)
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

    def __init__(self, targets: list[tuple[str, str]], expected: int, processes: int, every_line: bool = False):
        ctx = mp.get_context("spawn")
        self.procs, self.conns = [], []
        for i in range(processes):
            share = targets[i::processes]
            if not share:
                continue
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=run_group, args=(Group(share, expected, every_line), child), daemon=True)
            self.procs.append(proc)
            self.conns.append(parent)

    def start(self, timeout: float = 180) -> Viewers:
        """Start the processes and wait until every viewer's subscribe was acknowledged."""
        for proc in self.procs:
            proc.start()
        for conn in self.conns:
            if not conn.poll(timeout) or conn.recv() != "ready":
                raise TimeoutError("viewers did not subscribe in time")
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

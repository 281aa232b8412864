"""The load client measured alone: a stub Engine.IO server that sends pre-built `lines` messages as fast
as it can to 100 bench viewers, with no Redis and no Flask in the way."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time

import websockets

from bench.client import NS, Viewers
from tailapp.embedded import free_port

OPEN = '0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000000}'


def _message(seq: int, batch: int) -> str:
    now = f"{time.time():.6f}"
    lines = ",".join(f'"{now} step {seq + i} compiling module_01 ok"' for i in range(batch))
    return f'42{NS},["lines",{{"job":"j","seq":{seq},"lines":[{lines}],"times":[{",".join(["0"] * batch)}]}}]'


async def _serve(port: int, viewers: int, lines: int, batch: int) -> None:
    sockets: list = []
    ready = asyncio.Event()

    async def handler(ws):
        await ws.send(OPEN)
        await ws.recv()
        await ws.send(f'40{NS},{{"sid":"n"}}')
        subscribe = await ws.recv()  # 42/tail,<ack id>["subscribe",…]: the bench client's id is 1, node's 0
        ack_id = subscribe[len(NS) + 3 : subscribe.index("[")]
        await ws.send(f"43{NS},{ack_id}[{{\"ok\":true}}]")
        sockets.append(ws)
        if len(sockets) == viewers:
            ready.set()
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None):
        await ready.wait()
        for seq in range(1, lines + 1, batch):
            message = _message(seq, batch)
            for ws in sockets:
                await ws.send(message)
        await asyncio.sleep(30)


def _stub(port: int, viewers: int, lines: int, batch: int) -> None:
    asyncio.run(_serve(port, viewers, lines, batch))


def client_capacity(client=Viewers) -> dict:
    """The client's deliveries/s from the stub in big batches, and its messages/s at one line each.
    `client` is bench.client.Viewers or bench.stock.StockViewers (node socket.io-client)."""
    batched = _capacity(client, 100, 20_000, 500)
    single = _capacity(client, 100, 500, 1)
    return {"deliveries/s": batched, "messages/s (1 line each)": single,
            "1 viewer: deliveries/s": _capacity(client, 1, 200_000, 500),
            "1 viewer: messages/s (1 line each)": _capacity(client, 1, 10_000, 1)}


def _capacity(client, viewers: int, lines: int, batch: int) -> float:
    """Deliveries/s the client takes from the stub (2 client processes, as in fan-out)."""
    port = free_port()
    stub = mp.get_context("spawn").Process(target=_stub, args=(port, viewers, lines, batch), daemon=True)
    stub.start()
    time.sleep(1)
    group = client([(f"http://127.0.0.1:{port}", "j")] * viewers, lines, min(2, viewers)).start()
    group.go(60)
    results = group.results()
    stub.kill()
    received = sum(r["received"] for r in results)
    span = max(r["last_at"] for r in results) - min(r["first_at"] for r in results)
    return received / span

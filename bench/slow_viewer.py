"""One viewer that never reads: the server's memory, and the other viewers' latency meanwhile.

Layer: one server process (python server.py) over real WebSockets on loopback, Redis, the producer
(the real LogWriter) and the load clients on the same machine. A "heavy" job of 64 KB lines is written at
1.3 MB/s all along. Each phase writes a new job at 200 lines/s, followed by 10 reading viewers from its
first line (latency = receipt - the producer's stamp). Baseline phase first; then one client subscribes
to the heavy job and never reads again, and the server's RSS is sampled every second meanwhile.

    .venv/bin/python -m bench.slow_viewer [--seconds 60] [--baseline 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from bench.client import Viewers
from bench.producer import TailappJobs, line
from bench.scenarios import _latency, _pct
from bench.stack import BenchStack

NS = "/tail"
WIDE = "x" * 65_000


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


class Producer(threading.Thread):
    """Writes `text()` lines to a job at `rate` per second until stopped."""

    def __init__(self, design: TailappJobs, job_id: str, rate: float, text):
        super().__init__(daemon=True)
        self.writer, self.rate, self.text, self.running = design.writer(job_id), rate, text, True
        self.start()

    def run(self) -> None:
        start, n = time.monotonic(), 0
        while self.running:
            n += 1
            self.writer.write(self.text(n))
            time.sleep(max(0.0, start + n / self.rate - time.monotonic()))

    def stop(self) -> None:
        self.running = False
        self.join()
        self.writer.close()


def never_reader(url: str, job_ids: list[str]) -> socket.socket:
    """A client that subscribes to the jobs, then reads nothing (its socket stays open)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host=f"{host}:{port}", target="/socket.io/?EIO=4&transport=websocket")))
    while not any(isinstance(event, AcceptConnection) for event in ws.events()):
        ws.receive_data(sock.recv(4096))  # the handshake answer: the last bytes it reads
    for text in [f"40{NS},"] + [f'42{NS},{n}["subscribe",{{"job":"{job}","after":0}}]'
                                 for n, job in enumerate(job_ids, 1)]:
        sock.sendall(ws.send(TextMessage(data=text)))
    return sock


def watch(design: TailappJobs, url: str, seconds: float) -> list[float]:
    """A new job written at 200 lines/s for `seconds`, followed by 10 viewers subscribed before its first
    line: their latency samples, in seconds."""
    job_id = design.create()
    viewers = Viewers([(url, job_id)] * 10, expected=0, processes=1, every_line=True).start()
    producer = Producer(design, job_id, 200, line)
    viewers.go(seconds)
    samples = _latency(viewers.results())
    producer.stop()
    return samples


def sample_rss(pid: int, seconds: float, out: list[float]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        out.append(rss_mb(pid))
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline", type=float, default=20)
    args = parser.parse_args()
    with BenchStack("tailapp") as stack:
        url = stack.start_server()
        design = TailappJobs(stack.redis.url)
        heavy = design.create()
        producer = Producer(design, heavy, 20, lambda n: f"{n} {WIDE}\n")
        time.sleep(2)
        base_rss = rss_mb(stack.pid())
        baseline = watch(design, url, args.baseline)
        start_rss = rss_mb(stack.pid())
        stuck = never_reader(url, [heavy])
        samples: list[float] = []
        sampler = threading.Thread(target=sample_rss, args=(stack.pid(), args.seconds, samples))
        sampler.start()
        during = watch(design, url, args.seconds)
        sampler.join()
        producer.stop()
        stuck.close()
        report(base_rss, start_rss, samples, baseline, during)


def report(base_rss: float, start_rss: float, samples: list[float], baseline: list[float],
           during: list[float]) -> None:
    p99_base, p99_during = _pct(baseline, 99), _pct(during, 99)
    print(f"server RSS: {base_rss:.0f} MB before viewers, {start_rss:.0f} MB when the never-reading viewer "
          f"subscribed, peak {max(samples):.0f} MB, last {samples[-1]:.0f} MB over {len(samples)} s "
          f"(+{max(samples) - start_rss:.0f} MB; target <= +50 MB)")
    print("RSS each second (MB):", " ".join(f"{x:.0f}" for x in samples))
    print(f"other viewers' p99: baseline {p99_base:.1f} ms ({len(baseline)} samples), with the never-reading "
          f"viewer {p99_during:.1f} ms ({len(during)} samples) = {p99_during / p99_base:.2f}x (target <= 2x)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

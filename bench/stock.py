"""Stock viewers driven from Python: node processes running bench/stock_viewer.js (npm socket.io-client).

Same interface as bench.client.Viewers (start(), go(seconds), results(), procs), so the scenarios and the
CPU accounting treat both clients alike. Results are per viewer, with the keys bench.client reports.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

from bench.stack import ROOT

SCRIPT = ROOT / "bench" / "stock_viewer.js"


class StockViewers:
    """Viewers of (url, job) targets spread over `processes` node processes. deflate=False: the clients do
    not offer permessage-deflate (by default they do, like every stock client and browser)."""

    def __init__(self, targets: list[tuple[str, str]], expected: int, processes: int = 1, every_line: bool = False,
                 deflate: bool = True):
        self.procs: list[subprocess.Popen] = []
        self.shares = [targets[i::processes] for i in range(processes) if targets[i::processes]]
        self.expected, self.every_line, self.deflate = expected, every_line, deflate

    def start(self, timeout: float = 180) -> StockViewers:
        """Start the node processes and wait until every viewer's subscribe was acknowledged."""
        for share in self.shares:
            url = share[0][0]
            options = {"url": url, "jobs": [job for _, job in share], "expected": self.expected,
                       "everyLine": self.every_line, "deflate": self.deflate}
            self.procs.append(subprocess.Popen(["node", str(SCRIPT), json.dumps(options)], cwd=ROOT, text=True,
                                               stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        watchdog = threading.Timer(timeout, self.kill)  # a stuck process ends, and readline() with it
        watchdog.start()
        try:
            for proc in self.procs:
                line = proc.stdout.readline()  # "ready"; EOF if the script failed or was killed
                if line.strip() != "ready":
                    raise RuntimeError(f"stock viewers did not subscribe within {timeout} s (got {line!r})")
        finally:
            watchdog.cancel()
        return self

    def kill(self) -> None:
        for proc in self.procs:
            proc.kill()

    def go(self, seconds: float) -> None:
        """Let the viewers count for at most `seconds` (they stop earlier once all have every line)."""
        for proc in self.procs:
            proc.stdin.write(f"go {time.time() + seconds}\n")
            proc.stdin.flush()

    def results(self) -> list[dict]:
        """Per-viewer results; self.cpu is then the CPU seconds the node processes used in all."""
        out, self.cpu = [], 0.0
        for proc in self.procs:
            line = proc.stdout.readline()
            report = json.loads(line) if line.strip() else {"cpu": 0.0, "viewers": []}
            out.extend(report["viewers"])
            self.cpu += report["cpu"]
            proc.wait(30)
        return out

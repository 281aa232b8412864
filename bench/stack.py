"""The stack a bench scenario runs on: a Redis (no persistence) and one or more server processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tailapp.embedded import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


class BenchStack:
    """Redis plus server processes of one design ("tailapp" or "naive"); use as a context manager."""

    def __init__(self, design: str):
        self.design = design
        self.tmp = Path(tempfile.mkdtemp(prefix="tailapp-bench-"))
        self.redis = EmbeddedRedis(self.tmp / "redis", appendonly=False).start()
        self.servers: list[tuple[subprocess.Popen, str]] = []
        self.workers: list[subprocess.Popen] = []
        # The bench's own task module (bench/user_tasks.py), imported by servers and workers alike.
        self.env = {**os.environ, "TAILAPP_REDIS_URL": self.redis.url, "TAILAPP_LOG_LEVEL": "WARNING",
                    "TAILAPP_DATA_DIR": str(self.tmp / "data"), "TAILAPP_TASK_MODULES": "bench.user_tasks"}

    def __enter__(self) -> BenchStack:
        return self

    def __exit__(self, *exc) -> None:
        for proc in [*self.workers, *(proc for proc, _ in self.servers)]:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.redis.stop()

    def start_server(self, env: dict | None = None) -> str:
        """Start a server process (with `env` added to its environment); return its URL once it answers."""
        port = free_port()
        if self.design == "naive":
            argv = [sys.executable, "bench/naive_server.py", "--port", str(port), "--redis", self.redis.url]
        else:
            argv = [sys.executable, "server.py", "--port", str(port)]
        proc = self._spawn(f"{self.design}-server", argv, env)
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/socket.io/?EIO=4&transport=polling", proc)
        self.servers.append((proc, url))
        return url

    def start_worker(self, pool: str, concurrency: int) -> subprocess.Popen:
        """A real `celery -A tailapp.celery worker` with `pool` (prefork, threads); waits until the first server
        counts it (/healthz), so start a server first."""
        argv = [sys.executable, "-m", "celery", "-A", "tailapp.celery", "worker", "-P", pool, "-c", str(concurrency),
                "--loglevel", "WARNING", "--without-mingle", "--without-gossip", "-n", f"bench-{pool}@%h"]
        proc = self._spawn(f"worker-{pool}", argv)
        self.workers.append(proc)
        deadline = time.monotonic() + 60
        while not _workers(self.servers[0][1]):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {pool} worker did not start; see {OUT}/worker-{pool}.log")
            time.sleep(0.2)
        return proc

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        OUT.mkdir(exist_ok=True)
        with open(OUT / f"{name}.log", "ab") as log:
            return subprocess.Popen(argv, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                                    stderr=subprocess.STDOUT)

    def pid(self, index: int = 0) -> int:
        return self.servers[index][0].pid


def _workers(url: str) -> int:
    """Live Celery workers, as the server's /healthz counts them."""
    try:
        return requests.get(f"{url}/healthz", timeout=5).json().get("workers", 0)
    except (requests.RequestException, ValueError):
        return 0


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no answer from {url}")


def rss_mb(pid: int) -> float:
    """Resident set size of a process, MB."""
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return 0.0


def redis_connections(pid: int, redis_port: int) -> int:
    """TCP connections from process `pid` to the Redis port (read from /proc, whatever their names)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    port_hex = f"{redis_port:04X}"
    count = 0
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = row.split()
        remote, status, inode = cols[2], cols[3], cols[9]
        if status == "01" and inode in inodes and remote.endswith(f":{port_hex}"):
            count += 1
    return count


def cpu_seconds(pid: int, system_only: bool = False) -> float:
    """User + system CPU time a process has used so far (with `system_only`: the kernel's part alone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[12]) + (0 if system_only else int(fields[11]))) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its live children (a prefork worker's pool processes)."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += cpu_seconds(proc.pid)
        except (FileNotFoundError, ProcessLookupError):
            pass  # ended meanwhile
    return total


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class ClockWatch:
    """Says whether the wall clock was stepped (NTP, a VM resumed) while a run's figures were taken.

    Latencies are the receiver's time.time() minus the writer's stamp, both on this machine: a step
    between the two moves every sample by the step (stop 22 saw negative p99s). CLOCK_MONOTONIC is not
    stepped, so the wall clock's offset from it must stay the same over the run."""

    STEP = 0.0005  # seconds of drift between the two clocks taken as a step (NTP slews far slower)

    def __init__(self):
        self.offset = time.time() - time.monotonic()

    def stepped(self) -> float:
        """The step in ms since this watch began (0.0 when under STEP)."""
        step = time.time() - time.monotonic() - self.offset
        return round(step * 1000, 2) if abs(step) >= self.STEP else 0.0

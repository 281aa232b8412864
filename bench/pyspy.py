"""py-spy on a server process, and where its time went, by layer.

`record()` starts `py-spy record --format raw` (collapsed stacks: "frame;frame;… count", the root first)
on a pid for some seconds. `summary()` reads such a file and prints shares of the busy samples. py-spy's idle
filter misses gevent's wait: a sample with the hub's loop on top (`Hub.run`, or `epoll_wait` with native
frames) is the server waiting in epoll, so such samples are counted apart as idle (checked: busy samples
≈ the server's CPU seconds × the sampling rate, and a native profile puts ~all of them in epoll_wait).
Shares of the busy samples, i.e. of CPU time:
- inclusive: the share of samples with a frame of each layer anywhere on the stack (they overlap: an emit
  from the relay loop counts for both);
- self: each sample counted once, for the layer of its innermost recognised frame;
- the functions most often on top of the stack.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
from pathlib import Path

# layer -> substrings of a py-spy frame ("function (path/file.py:line)"); the first match names the layer.
LAYERS = {
    "JSON (orjson, json, tailapp socket_json)": ("orjson", "/json/", "tailapp/socket_json.py"),
    "websocket framing (simple_websocket, wsproto)": ("wsproto/", "simple_websocket/"),
    "socket send/recv (gevent socket, ssl)": ("gevent/_socketcommon", "gevent/_socket3", "gevent/os.py"),
    "greenlet switches, gevent hub, queues, events": ("gevent/hub", "gevent/_hub", "gevent/greenlet", "gevent/queue",
                                                      "gevent/event", "gevent/_abstract_linkable", "gevent/timeout",
                                                      "gevent/_greenlet", "gevent/lock", "gevent/_semaphore",
                                                      "gevent/_waiter"),
    "python-engineio (sockets, packets, writer loop)": ("engineio/",),
    "python-socketio (emit, rooms, packets)": ("socketio/",),
    "tailapp outbox": ("tailapp/outbox.py",),
    "tailapp relay": ("tailapp/relay.py",),
    "redis-py (pub/sub read, parse)": ("redis/",),
    "WSGI server (gevent.pywsgi, serve.py)": ("gevent/pywsgi", "tailapp/serve.py"),
    "Flask, handlers (web.py, api)": ("flask/", "werkzeug/", "tailapp/web.py", "tailapp/api.py"),
}
IDLE = ("Hub.run (", "epoll_wait (")  # on top of the stack: gevent's hub waiting for events
# Stacks through these entry points, for the inclusive view of "which greenlet".
ROOTS = {
    "relay greenlet (Relay._run)": "_run (",
    "engineio writer greenlets (Socket._send_packet / writer)": "writer (",
    "websocket reader greenlets (simple_websocket _thread)": "_thread (",
}


# BENCH_PYSPY_NATIVE=1: C frames too (inside gevent's loop); py-spy then pauses the process per sample.
MODE = ["--native"] if os.environ.get("BENCH_PYSPY_NATIVE") else ["--nonblocking"]


def record(pid: int, out: Path, seconds: float, rate: int = 1000) -> subprocess.Popen:
    """Start py-spy on `pid` for `seconds` writing collapsed stacks to `out` (its messages to `out`.log);
    wait() on the result."""
    spy = shutil.which("py-spy") or str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy")
    out.parent.mkdir(exist_ok=True)
    out.unlink(missing_ok=True)  # a failed run must not leave an old profile to be read as this one
    with open(out.with_suffix(".log"), "w") as log:
        return subprocess.Popen([spy, "record", "--format", "raw", "--pid", str(pid), "--rate", str(rate),
                                 "--duration", str(max(1, int(seconds))), *MODE, "--output", str(out)],
                                stdout=log, stderr=subprocess.STDOUT)


def read(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for row in path.read_text().splitlines():
        frames, _, count = row.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def layer(frame: str) -> str | None:
    return next((name for name, marks in LAYERS.items() if any(m in frame for m in marks)), None)


def summary(path: Path, top: int = 15) -> str:
    if not path.exists():
        return f"no profile: py-spy said {path.with_suffix('.log').read_text().strip()!r}"
    everything = read(path)
    stacks = [(frames, n) for frames, n in everything if not frames[-1].startswith(IDLE)]
    idle = sum(n for _, n in everything) - sum(n for _, n in stacks)
    total = sum(n for _, n in stacks) or 1
    inclusive, own, leaves, roots = (collections.Counter() for _ in range(4))
    for frames, n in stacks:
        layers = [layer(f) for f in frames]
        for name in set(filter(None, layers)):
            inclusive[name] += n
        own[next((x for x in reversed(layers) if x), "other")] += n
        leaves[frames[-1]] += n
        for name, mark in ROOTS.items():
            if any(mark in f for f in frames):
                roots[name] += n
    lines = [f"{total} busy samples, {idle} idle in the hub's loop left out ({path.name})", "",
             "| layer | inclusive | self |", "|---|---|---|"]
    for name, n in inclusive.most_common():
        lines.append(f"| {name} | {n / total:.0%} | {own[name] / total:.0%} |")
    lines.append(f"| other (not in a listed layer) | | {own['other'] / total:.0%} |")
    lines += ["", "| stacks through | share |", "|---|---|"]
    lines += [f"| {name} | {n / total:.0%} |" for name, n in roots.most_common()]
    lines += ["", "| function on top of the stack | share |", "|---|---|"]
    lines += [f"| `{frame}` | {n / total:.1%} |" for frame, n in leaves.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(summary(Path(sys.argv[1])))

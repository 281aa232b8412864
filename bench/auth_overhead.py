"""What authentication costs and what it stops, measured over HTTP against a real server process.

    .venv/bin/python bench/auth_overhead.py [requests] [guess_seconds]   # defaults: 1,000 and 20

Layer: one client, sequential requests over loopback to `python server.py` (gevent) on its own Redis.
1. Latency of `GET /api/tasks` (no Redis read in the view itself) on a server without authentication
   (Host check only), with a bearer token, and with a signed-in session cookie (one Redis HGETALL).
2. Token guessing for `guess_seconds`: from one address, then from a new address per guess (through
   X-Forwarded-For, as a proxy on this host sends it). Prints how many guesses the server evaluated
   (401) and how many it turned away (429) before looking at the token.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tailapp.embedded import EmbeddedRedis, free_port  # noqa: E402

TOKEN = "bench-token-" + "x1y2z3w4v5"


def start_server(redis_url: str, log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "server.py", "--port", str(port)], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT,
                                   env={**os.environ, "TAILAPP_REDIS_URL": redis_url, "TAILAPP_LOG_LEVEL": "ERROR",
                                        **env})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code in (200, 503):
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"server did not start, see {log}")


def latencies(session: requests.Session, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(f"{url}/api/tasks", timeout=10)
        times.append((time.perf_counter() - started) * 1000)
        assert response.ok, response.status_code
    return times


def signed_in(url: str) -> requests.Session:
    session = requests.Session()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', session.get(f"{url}/login", timeout=5).text).group(1)
    assert session.post(f"{url}/login", data={"csrf_token": csrf, "token": TOKEN}, timeout=5).ok
    return session


def guesses(url: str, seconds: float, spread: bool) -> tuple[int, int]:
    """(evaluated, refused) wrong bearer tokens in `seconds`."""
    counts = {401: 0, 429: 0}
    deadline, n = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        n += 1
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" if spread else "10.0.0.1"
        answer = requests.get(f"{url}/api/jobs", timeout=5,
                              headers={"Authorization": f"Bearer guess-{n:012d}", "X-Forwarded-For": address})
        counts[answer.status_code] = counts.get(answer.status_code, 0) + 1
    return counts[401], counts[429]


def report(name: str, times: list[float]) -> None:
    times.sort()
    print(f"{name:<32} median {statistics.median(times):6.2f} ms   p95 {times[int(len(times) * 0.95)]:6.2f} ms")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    tmp = Path(tempfile.mkdtemp(prefix="tailapp-auth-bench-"))
    redis_server = EmbeddedRedis(tmp / "redis", appendonly=False).start()
    processes = []
    try:
        open_server, open_url = start_server(redis_server.url, tmp / "open.log")
        locked_server, locked_url = start_server(redis_server.url, tmp / "locked.log", TAILAPP_AUTH_TOKEN=TOKEN)
        processes += [open_server, locked_server]
        print(f"load average {os.getloadavg()[0]:.2f}; {count} sequential GET /api/tasks each")
        report("no authentication", latencies(requests.Session(), open_url, count))
        bearer = requests.Session()
        bearer.headers["Authorization"] = f"Bearer {TOKEN}"
        report("bearer token", latencies(bearer, locked_url, count))
        report("session cookie (Redis session)", latencies(signed_in(locked_url), locked_url, count))
        for spread in (False, True):
            evaluated, refused = guesses(locked_url, seconds, spread)
            where = "a new address per guess" if spread else "one address"
            print(f"wrong tokens for {seconds:.0f} s from {where}: {evaluated} evaluated, {refused} refused (429)")
        print(f"load average {os.getloadavg()[0]:.2f}")
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        redis_server.stop()


if __name__ == "__main__":
    main()

"""Fixtures: a real redis-server, a real Celery worker and a real server process, per test session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from tailapp.embedded import EmbeddedRedis, free_port
from tests.cluster import RedisCluster
from tests.viewer import Viewer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TOKEN = "tok-7d1f0c9e2b"  # a declared secret of tests.sample_tasks.leaky
SAMPLE_SECRET_KEY = "key-a83b55e0c4"  # masked because TAILAPP_SECRET_ENV lists TAILAPP_SECRET_KEY
SAMPLE_PEM = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB
QyNTUxOQAAACDzpGl0c2FzZWNyZXRrZXlmb3J0ZXN0aW5nb25seQ
-----END OPENSSH PRIVATE KEY-----
"""  # a multi-line secret, masked because the stack's TAILAPP_SECRET_ENV lists SAMPLE_PEM
TERMINAL = {"succeeded", "failed", "cancelled", "lost"}


class Stack:
    """A running tailapp: Redis, one worker, one server; with helpers to start and watch jobs."""

    def __init__(self, tmp: Path, cluster: RedisCluster | None = None):
        """With `cluster`, tailapp's data is on the Redis Cluster and the Redis started here is Celery's broker."""
        self.tmp = tmp
        self.redis_server = EmbeddedRedis(tmp / "redis", appendonly=True).start()
        self.redis_url = cluster.url if cluster else self.redis_server.url
        self.redis = cluster.client() if cluster else redis.Redis.from_url(self.redis_url, decode_responses=True)
        self.env = {**os.environ, "TAILAPP_REDIS_URL": self.redis_url, "TAILAPP_DATA_DIR": str(tmp / "data"),
                    "TAILAPP_BROKER_URL": self.redis_server.url,
                    "PYTHONUNBUFFERED": "1", "TAILAPP_TASK_MODULES": "tests.sample_tasks",
                    "TAILAPP_COMMANDS_FILE": str(ROOT / "tests" / "commands.toml"),
                    "SAMPLE_TOKEN": SAMPLE_TOKEN, "TAILAPP_SECRET_KEY": SAMPLE_SECRET_KEY, "SAMPLE_PEM": SAMPLE_PEM,
                    "TAILAPP_SECRET_ENV": "TAILAPP_SECRET_KEY,TAILAPP_AUTH_TOKEN,SAMPLE_PEM"}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.worker = self.server = None
        self.extras: list[subprocess.Popen] = []
        self.start_worker()
        self.start_server()

    # -- processes ----------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "ab") as out:  # the child keeps its own descriptor
            return subprocess.Popen(argv, cwd=ROOT, env={**self.env, **(env or {})}, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start_worker(self, concurrency: int = 4) -> None:
        self.worker = self.spawn_worker("worker", concurrency)

    def spawn_worker(self, name: str, concurrency: int = 4, *extra: str, env: dict | None = None) -> subprocess.Popen:
        """A Celery worker process named `name` on this Redis; stop it with stop_process."""
        return self._spawn(name, [sys.executable, "-m", "celery", "-A", "tailapp.celery", "worker", "-n",
                                  f"{name}@%h", "-c", str(concurrency), "--loglevel", "INFO", "--without-mingle",
                                  "--without-gossip", *extra], env)

    def spawn_server(self, name: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
        """Another server process on this Redis, once it answers: (process, url). Stop it with stop_process."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = self._spawn(name, [sys.executable, "server.py", "--port", str(port)], env)
        self.extras.append(process)  # stopped with the stack at the latest
        self.wait(lambda: requests.get(f"{url}/healthz", timeout=1).status_code in (200, 503), f"{name} to answer")
        return process, url

    def start_server(self) -> None:
        self.server = self._spawn("server", [sys.executable, "server.py", "--port", str(self.port)])
        self.wait(lambda: requests.get(f"{self.url}/api/tasks", timeout=1).ok, "server to answer")

    def stop_server(self) -> None:
        stop_process(self.server)

    def restart_server(self) -> None:
        self.stop_server()
        self.start_server()

    def restart_redis(self, down_seconds: float, wait_loaded: bool = True) -> None:
        """Stop Redis (it writes its append-only file), wait, start it again on the same port and data;
        return once it is loaded, or (not `wait_loaded`) as soon as it answers, maybe with LOADING."""
        self.redis_server.stop()
        time.sleep(down_seconds)
        self.redis_server = EmbeddedRedis(self.tmp / "redis", port=self.redis_server.port, appendonly=True)
        self.redis_server.start(timeout=60, wait_loaded=wait_loaded)

    def add_ballast(self, keys: int, value_bytes: int = 100) -> None:
        """Fill Redis' db 1 with `keys` keys and rewrite the append-only file, so a restart takes seconds to
        load (about 1.5 s per million 100-byte keys here); drop_ballast() undoes it."""
        ballast = redis.Redis.from_url(self.redis_url.rsplit("/", 1)[0] + "/1", socket_timeout=300)
        try:
            ballast.execute_command("DEBUG", "POPULATE", keys, "ballast", value_bytes)
        finally:
            ballast.close()
        self.rewrite_aof()

    def drop_ballast(self) -> None:
        redis.Redis.from_url(self.redis_url.rsplit("/", 1)[0] + "/1", socket_timeout=300).flushdb()
        self.rewrite_aof()

    def rewrite_aof(self) -> None:
        """Rewrite the append-only file (DEBUG POPULATE is not written to it) and wait until it is done."""
        self.wait(lambda: self.redis.info("persistence")["aof_rewrite_in_progress"] == 0, "no AOF rewrite", 60)
        self.redis.bgrewriteaof()
        self.wait(lambda: self.redis.info("persistence")["aof_rewrite_scheduled"] == 0
                  and self.redis.info("persistence")["aof_rewrite_in_progress"] == 0, "the AOF rewrite", 120)

    def close(self) -> None:
        for process in self.extras:
            stop_process(process)
        stop_process(self.server)
        stop_process(self.worker)
        self.redis_server.stop()

    # -- jobs ---------------------------------------------------------------------------------------
    def start_job(self, task: str = "demo", **params) -> str:
        response = requests.post(f"{self.url}/api/jobs", json={"task": task, "params": params}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def job(self, job_id: str) -> dict:
        return requests.get(f"{self.url}/api/jobs/{job_id}", timeout=10).json()

    def wait_job(self, job_id: str, states=TERMINAL, timeout: float = 60) -> dict:
        self.wait(lambda: self.job(job_id)["state"] in states, f"job {job_id} to reach {states}", timeout)
        return self.job(job_id)

    def viewer(self, url: str | None = None, **options) -> Viewer:
        return Viewer(url or self.url, **options)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    @staticmethod
    def wait(check, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (requests.RequestException, redis.RedisError):
                pass
            time.sleep(0.05)
        raise TimeoutError(f"timed out waiting for {what}")


def stop_process(process: subprocess.Popen | None) -> None:
    """SIGTERM to the process group, SIGKILL after 15 s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test on the stack shows the end of each process's log (CI keeps only the test output)."""
    report = yield
    running = item.funcargs.get("stack") if report.failed and hasattr(item, "funcargs") else None
    if isinstance(running, Stack):
        for path in sorted(running.tmp.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-40:]
            report.sections.append((f"end of {path.name}", "\n".join(tail)))
    return report


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    """Redis, a worker and a server, shared by the whole session; the worker is ready when yielded."""
    yield from _running_stack(Stack(tmp_path_factory.mktemp("stack")))


@pytest.fixture(scope="session")
def cluster_stack(tmp_path_factory, redis_cluster) -> Stack:
    """A worker and a server on the Redis Cluster (and a Redis of their own as Celery's broker)."""
    yield from _running_stack(Stack(tmp_path_factory.mktemp("cluster-stack"), redis_cluster))


@pytest.fixture(params=["one Redis", "Redis Cluster"])
def gapless_stack(request) -> Stack:
    """The stack, then the cluster stack: the exactly-once tests run on both."""
    return request.getfixturevalue("stack" if request.param == "one Redis" else "cluster_stack")


def _running_stack(running: Stack):
    try:
        warmup = running.start_job(lines=1, interval=0)
        running.wait_job(warmup, timeout=60)
        yield running
    finally:
        running.close()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory) -> RedisCluster:
    """A 3-master, 3-replica Redis Cluster on free local ports, shared by the session."""
    cluster = RedisCluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()

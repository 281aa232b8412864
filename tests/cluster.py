"""A real Redis Cluster for tests: Debian's redis-server (≥ 7, for sharded pub/sub) as 3 masters + 3 replicas
on free local ports, made with `redis-cli --cluster create`."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis
from redis.cluster import RedisCluster as ClusterClient

from tailapp.embedded import PUBSUB_BUFFER_LIMIT, port_is_free

NODE_TIMEOUT_MS = 1000  # how long a silent master is given before its replica takes over (default 15 s)


def redis_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    return tuple(int(part) for part in out.split("v=")[1].split()[0].split("."))


def cluster_port(taken: set[int]) -> int:
    """A free port whose cluster bus port (+10000) is free and below 65536."""
    for port in random.sample(range(20_000, 55_000), 2_000):
        if port not in taken and port_is_free("127.0.0.1", port) and port_is_free("127.0.0.1", port + 10_000):
            taken.add(port)
            return port
    raise RuntimeError("no free port pair for a cluster node")


class ClusterNode:
    """One redis-server process of the cluster."""

    def __init__(self, binary: str, data_dir: Path, port: int):
        self.binary, self.data_dir, self.port = binary, data_dir, port
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--appendonly", "no", "--save", "",
                "--daemonize", "no", "--loglevel", "warning", "--client-output-buffer-limit",
                *PUBSUB_BUFFER_LIMIT.split()]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=5)

    def ask(self, *command):
        """One command on a connection of its own, closed after."""
        with self.client() as client:
            return client.execute_command(*command)

    def kill(self) -> None:
        """SIGKILL: no goodbye to the cluster, as when a machine dies."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def pause(self, paused: bool) -> None:
        """SIGSTOP / SIGCONT: a replica that stops reading its master's stream, as on a slow link."""
        self.process.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class RedisCluster:
    """Six nodes: three masters with one replica each; `url` is a redis+cluster:// address of a seed node."""

    def __init__(self, data_dir: Path, masters: int = 3):
        binary = shutil.which("redis-server")
        if binary is None or redis_version(binary) < (7,):
            raise RuntimeError("Redis Cluster tests need Debian's redis-server ≥ 7 (sharded pub/sub)")
        taken: set[int] = set()
        self.nodes = [ClusterNode(binary, data_dir / f"node-{i}", cluster_port(taken)) for i in range(2 * masters)]

    @property
    def url(self) -> str:
        return f"redis+cluster://{self.nodes[0].address}/0"

    def client(self) -> ClusterClient:
        """A cluster client (redis-py finds every node from the first and follows MOVED)."""
        return ClusterClient(host="127.0.0.1", port=self.nodes[0].port, decode_responses=True)

    def start(self, timeout: float = 60) -> RedisCluster:
        for node in self.nodes:
            node.start()
        self._wait(lambda: all(node.ask("PING") for node in self.nodes), "the nodes to answer", timeout)
        subprocess.run(["redis-cli", "--cluster", "create", *(n.address for n in self.nodes),
                        "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True, timeout=timeout)
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 60) -> None:
        """Until every live node says the cluster is ok and each slot range has a master and a replica."""
        def healthy() -> bool:
            ranges = self._slots()
            return all("cluster_state:ok" in node.ask("CLUSTER", "INFO") for node in self._live()) and len(
                ranges) == len(self.nodes) // 2 and all(len(entry) >= 4 for entry in ranges)

        self._wait(healthy, "the cluster to be ok", timeout)

    def wait_serving(self, timeout: float = 60) -> None:
        """Until every slot has a live master again (after a failover: its replica's promotion)."""
        self._wait(lambda: len(self.masters()) == len(self.nodes) // 2 and all(
            "cluster_state:ok" in node.ask("CLUSTER", "INFO") for node in self._live()), "a failover", timeout)

    def masters(self) -> list[ClusterNode]:
        """The live nodes that serve slots now, as the first live node sees it."""
        by_port = {node.port: node for node in self._live()}
        return [by_port[entry[2][1]] for entry in self._slots() if entry[2][1] in by_port]

    def master_of(self, key: str) -> ClusterNode:
        """The node that serves `key`'s slot now."""
        slot = self._live()[0].ask("CLUSTER", "KEYSLOT", key)
        entry = next(entry for entry in self._slots() if entry[0] <= slot <= entry[1])
        return next(node for node in self.nodes if node.port == entry[2][1])

    def replica_of(self, master: ClusterNode) -> ClusterNode:
        """A live replica of `master`."""
        entry = next(entry for entry in self._slots() if entry[2][1] == master.port)
        return next(node for node in self.nodes if node.port == entry[3][1])

    def _live(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.process.poll() is None]

    def _slots(self) -> list:
        """CLUSTER SLOTS, raw: [start, end, [host, port, id], replicas…] per range."""
        return self._live()[0].ask("CLUSTER", "SLOTS")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    @staticmethod
    def _wait(check, what: str, timeout: float) -> None:
        deadline, error = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (redis.RedisError, OSError, KeyError, StopIteration) as exc:
                error = exc
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what} (last error: {error!r})")

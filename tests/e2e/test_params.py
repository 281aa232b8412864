"""Secret task parameters through the real stack (what parameters accept: tests/unit/test_params.py)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from pathlib import Path

import redis
import requests

from tailapp import jobs
from tailapp.embedded import EmbeddedRedis
from tailapp.store import Store

PASSWORD = "pw-5c0ffee-d1sc0"
REALM = "realm-9e8d7c6b"


class RedisMonitor:
    """Every command Redis runs while it is open (MONITOR), as text."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.commands: list[str] = []
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        with self.client.monitor() as monitor:
            self.ready.set()
            for command in monitor.listen():  # the worker polls Redis all the time: this never waits long
                self.commands.append(command["command"])
                if self.stop.is_set():
                    return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.close()

    def mentioning(self, secret: str) -> list[str]:
        """Commands whose text, or base64 inside it (a Celery message body), holds `secret`."""
        return [c for c in self.commands if secret in c or any(secret in text for text in _decoded(c))]


def _decoded(command: str):
    for blob in re.findall(r"[A-Za-z0-9+/]{24,}={0,2}", command):
        try:
            yield base64.b64decode(blob + "=" * (-len(blob) % 4)).decode(errors="replace")
        except (binascii.Error, ValueError):
            continue


def test_secret_parameters_reach_the_task_only(stack):
    """Masked in the job hash, the API, the job list, the pages, the archive, the log and the Celery message."""
    monitor = RedisMonitor(stack.redis_url)
    try:
        job_id = stack.start_job("login", user="ann", password=PASSWORD, realm=REALM)
        job = stack.wait_job(job_id)
    finally:
        monitor.close()
    assert (job["state"], job["params"]) == ("succeeded", {"user": "ann", "password": "***", "realm": "***",
                                                            "wait": 0.0})
    log = requests.get(f"{stack.url}/api/jobs/{job_id}/log", timeout=5).text
    assert log.split("\n")[:2] == ["logging in ann with *** to ***", f"password length {len(PASSWORD)}"]
    for secret in (PASSWORD, REALM):  # one SET of the short-lived key the worker takes and deletes
        assert [c.split(" ")[:2] for c in monitor.mentioning(secret)] == [["SET", f"tailapp:secrets:{job_id}"]]
    assert not stack.redis.exists(f"tailapp:secrets:{job_id}")
    archived = Path(stack.env["TAILAPP_DATA_DIR"]) / "archive" / job_id[:2] / f"{job_id}.json"
    shown = [requests.get(f"{stack.url}{path}", timeout=5).text for path in ("/", f"/jobs/{job_id}", "/api/jobs")]
    assert not [text for text in [*shown, archived.read_text()] if PASSWORD in text or REALM in text]
    assert json.loads(archived.read_text())["params"]["password"] == "***"


def test_a_failing_job_does_not_leak_its_secret_parameter_and_cannot_be_restarted(stack):
    job = stack.wait_job(stack.start_job("login", user="ann", password="wrong-" + PASSWORD))
    assert (job["state"], job["error"]) == ("failed", "password *** refused")
    response = requests.post(f"{stack.url}/api/jobs/{job['id']}/restart", json={}, timeout=5)
    assert response.status_code == 409
    assert response.json() == {"error": "this job has secret parameters, which are not kept: start it again with them"}


def test_a_secret_command_parameter_goes_by_environment_and_is_masked(stack):
    job = stack.wait_job(stack.start_job("signin", password=PASSWORD))
    log = requests.get(f"{stack.url}/api/jobs/{job['id']}/log", timeout=5).text.split("\n")
    assert (job["state"], job["params"]) == ("succeeded", {"password": "***"})
    assert [line.strip() for line in log[1:3]] == ["[***]", str(len(PASSWORD))]


def test_the_form_asks_for_a_secret_with_a_password_input(stack):
    page = requests.get(stack.url, timeout=5).text
    assert re.search(r'<input type="password" id="p-login-password" name="param.password" autocomplete="off"'
                     r'\s*required>', page)
    assert re.search(r'<input type="password" id="p-login-realm" name="param.realm" autocomplete="off"'
                     r'\s*placeholder="\(default\)">', page)
    assert "default-realm" not in page
    listed = next(t for t in requests.get(f"{stack.url}/api/tasks", timeout=5).json()["tasks"] if t["name"] == "login")
    assert [(p["name"], p.get("secret", False), p["default"]) for p in listed["params"]] == [
        ("user", False, None), ("password", True, None), ("realm", True, None), ("wait", False, 0.0)]


def test_secret_parameters_of_a_job_cancelled_while_queued_are_dropped(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis", appendonly=False).start()
    try:
        store = Store(redis.Redis.from_url(server.url, decode_responses=True))
        job = jobs.create(store, "login", {"user": "ann", "password": "***"})
        store.stash_secrets(job["id"], {"password": PASSWORD}, 60)
        assert jobs.cancel(store, job)["state"] == "cancelled"
        assert store.take_secrets(job["id"]) is None
        store.redis.close()
    finally:
        server.stop()

"""Security by default: headers and no inline script, token auth everywhere, same-origin Socket.IO, limits."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
import socketio

from tests.conftest import ROOT
from tests.viewer import NS

TOKEN = "s3cret-test-token-42"


def test_pages_send_security_headers_and_have_no_inline_script(stack):
    job_id = stack.start_job(lines=1, interval=0)
    for path in ("/", f"/jobs/{job_id}", "/jobs/" + "0" * 32):
        response = requests.get(stack.url + path, timeout=5)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split(
            "style-src-attr")[0]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S):
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs, body[:80])
        assert not re.search(r"\son[a-z]+=", response.text)  # no inline event handlers either


def test_foreign_origin_cannot_open_a_socket(stack):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(stack.url, namespaces=[NS], transports=["websocket"], headers={"Origin": "http://evil.example"},
                       wait_timeout=5)


@pytest.fixture(scope="module")
def locked(stack):
    """A second server on the same Redis that needs a token and allows 3 subscriptions a connection."""
    _, url = stack.spawn_server("server-locked", {"TAILAPP_AUTH_TOKEN": TOKEN, "TAILAPP_MAX_SUBSCRIPTIONS": "3"})
    return url


def test_without_token_nothing_is_served(locked, stack):
    job_id = stack.start_job(lines=3, interval=0)
    assert requests.get(f"{locked}/api/jobs", timeout=5).status_code == 401
    assert requests.get(f"{locked}/api/jobs/{job_id}/log", timeout=5).status_code == 401
    assert requests.post(f"{locked}/api/jobs", json={"task": "demo"}, timeout=5).status_code == 401
    page = requests.get(f"{locked}/jobs/{job_id}", allow_redirects=False, timeout=5)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    wrong = requests.get(f"{locked}/api/jobs", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401 and "Traceback" not in wrong.text
    assert requests.get(f"{locked}/healthz", timeout=5).status_code == 200  # open for load balancers


def test_bearer_token_opens_the_api(locked, stack):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = requests.post(f"{locked}/api/jobs", json={"task": "demo", "params": {"lines": 2, "interval": 0}},
                             headers=headers, timeout=5)
    assert response.status_code == 201
    stack.wait_job(response.json()["id"])
    assert requests.get(f"{locked}/api/jobs/{response.json()['id']}/log", headers=headers, timeout=5).ok


def test_login_page_then_pages_and_socket_work(locked, stack):
    job_id = stack.start_job(lines=5, interval=0)
    stack.wait_job(job_id)
    browser = requests.Session()
    form = browser.get(f"{locked}/login", timeout=5).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    bad = browser.post(f"{locked}/login", data={"csrf_token": csrf, "token": "guess"}, timeout=5)
    assert bad.status_code == 401 and "not right" in bad.text
    good = browser.post(f"{locked}/login?next=/jobs/{job_id}", data={"csrf_token": csrf, "token": TOKEN},
                        allow_redirects=False, timeout=5)
    assert good.status_code == 303 and good.headers["Location"] == f"/jobs/{job_id}"
    assert browser.get(f"{locked}/jobs/{job_id}", timeout=5).status_code == 200
    evil = browser.post(f"{locked}/login?next=//evil.example/x", data={"csrf_token": csrf, "token": TOKEN},
                        allow_redirects=False, timeout=5)
    assert evil.headers["Location"] == "/"  # no open redirect

    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    with_cookie = socketio.Client(reconnection=False)
    with_cookie.connect(locked, namespaces=[NS], transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=5)
    assert with_cookie.call("subscribe", {"job": job_id, "after": 0}, namespace=NS)["ok"]
    with_cookie.disconnect()


def test_socket_needs_the_token(locked):
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(locked, namespaces=[NS], transports=["websocket"], wait_timeout=5)
    with_token = socketio.Client(reconnection=False)
    with_token.connect(locked, namespaces=[NS], transports=["websocket"], auth={"token": TOKEN}, wait_timeout=5)
    assert with_token.connected
    with_token.disconnect()


def test_subscriptions_per_connection_are_capped(locked, stack):
    ids = [stack.start_job(lines=1, interval=0) for _ in range(4)]
    client = socketio.Client(reconnection=False)
    client.connect(locked, namespaces=[NS], transports=["websocket"], auth={"token": TOKEN}, wait_timeout=5)
    acks = [client.call("subscribe", {"job": job_id, "after": 0}, namespace=NS) for job_id in ids]
    assert [a["ok"] for a in acks] == [True, True, True, False]
    assert "too many subscriptions" in acks[3]["error"]
    client.disconnect()


def test_server_refuses_public_interface_without_auth(stack):
    env = {k: v for k, v in stack.env.items() if k not in ("TAILAPP_AUTH_TOKEN", "TAILAPP_ALLOW_PUBLIC")}
    result = subprocess.run([sys.executable, "server.py", "--host", "0.0.0.0", "--port", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "refusing to listen on 0.0.0.0 without authentication" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("word", ["false", "0", "no", "off"])
def test_allow_public_false_keeps_public_access_off(stack, word):
    env = {k: v for k, v in stack.env.items() if k != "TAILAPP_AUTH_TOKEN"}
    result = subprocess.run([sys.executable, "server.py", "--host", "0.0.0.0", "--port", "1"], cwd=ROOT,
                            env={**env, "TAILAPP_ALLOW_PUBLIC": word}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "refusing to listen on 0.0.0.0 without authentication" in result.stderr


def test_unknown_boolean_refuses_to_start_with_one_line(stack):
    result = subprocess.run([sys.executable, "server.py", "--port", "1"], cwd=ROOT,
                            env={**stack.env, "TAILAPP_ALLOW_PUBLIC": "maybe"}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("tailapp: TAILAPP_ALLOW_PUBLIC='maybe' is not a boolean")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("path", [
    "/vendor/socket.io-client/%2e%2e/package.json", "/vendor/socket.io-client/../../pyproject.toml",
    "/vendor/ansi_up/package.json", "/vendor/get-east-asian-width/package.json",
    "/vendor/socket.io-client/dist/socket.io.js", "/vendor/%2e%2e/%2e%2e/README.md", "/vendor/README.md"])
def test_vendor_serves_only_the_listed_browser_files(stack, path):
    response = requests.get(f"{stack.url}{path}", timeout=10)
    assert response.status_code == 404, (path, response.status_code, response.text[:200])


def test_vendor_serves_the_files_the_pages_import(stack):
    for name in ("socket.io-client/dist/socket.io.esm.min.js", "get-east-asian-width/index.js"):
        response = requests.get(f"{stack.url}/vendor/{name}", timeout=10)
        assert response.ok and response.headers["Content-Type"].startswith("text/javascript"), name

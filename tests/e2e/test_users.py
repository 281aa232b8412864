"""Users and roles on a real server: a users file, the shared token as admin, a proxy's user header,
enforced on the API, the form and Socket.IO, with who did what in the job object and on the job page."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
import socketio
from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from tailapp.config import ConfigError
from tailapp.users import load_accounts
from tests.conftest import ROOT, stop_process
from tests.e2e.test_auth import sign_in
from tests.e2e.test_cli import TAILAPP
from tests.e2e.test_viewer import browser  # noqa: F401 - the module's Chromium, shared with the viewer tests
from tests.viewer import NS

SHARED = "shared-admin-token-5120"
TOKENS = {"alice": "alice-admin-token-8812", "olga": "olga-operator-token-3305", "victor": "victor-viewer-token-6640"}
ROLES = {"alice": "admin", "olga": "operator", "victor": "viewer", "pat": "operator"}


def users_file(path) -> str:
    entries = []
    for name, role in ROLES.items():
        token_hash = generate_password_hash(TOKENS[name]) if name in TOKENS else ""
        entries.append(f'[users.{name}]\nrole = "{role}"\n' + (f'token_hash = "{token_hash}"\n' if token_hash else ""))
    path.write_text("\n".join(entries))
    return str(path)


@pytest.fixture(scope="module")
def server(stack, tmp_path_factory):
    path = users_file(tmp_path_factory.mktemp("users") / "users.toml")
    first, url = stack.spawn_server("server-users", {"TAILAPP_USERS_FILE": path, "TAILAPP_AUTH_TOKEN": SHARED,
                                                     "TAILAPP_PROXY_USER_HEADER": "X-Remote-User"})
    second, untrusting = stack.spawn_server("server-users-untrusting", {
        "TAILAPP_USERS_FILE": path, "TAILAPP_PROXY_USER_HEADER": "X-Remote-User",
        "TAILAPP_TRUSTED_PROXIES": "192.0.2.1"})
    yield {"url": url, "untrusting": untrusting, "file": path}
    stop_process(first)  # other modules count the servers on the stack's Redis
    stop_process(second)


def as_user(name: str) -> tuple[str, str]:
    return name, TOKENS[name]


def api(server, method: str, path: str, user: str | None = None, **kwargs) -> requests.Response:
    auth = as_user(user) if user else None
    return requests.request(method, server["url"] + path, auth=auth, timeout=10, **kwargs)


def test_viewer_reads_but_cannot_start_cancel_or_delete(stack, server):
    job_id = stack.start_job(lines=200, interval=0.05)
    assert api(server, "GET", "/api/jobs", "victor").ok
    assert api(server, "GET", f"/api/jobs/{job_id}/log", "victor").ok
    started = api(server, "POST", "/api/jobs", "victor", json={"task": "demo"})
    assert started.status_code == 403 and started.json()["error"] == \
        "starting a job needs the operator role; victor is a viewer"
    assert api(server, "POST", f"/api/jobs/{job_id}/cancel", "victor", json={}).status_code == 403
    assert api(server, "POST", f"/api/jobs/{job_id}/restart", "victor", json={}).status_code == 403
    assert stack.job(job_id)["state"] in ("queued", "running")
    assert api(server, "POST", f"/api/jobs/{job_id}/cancel", "olga", json={}).status_code == 202
    done = stack.wait_job(job_id)
    assert done["state"] == "cancelled" and done["cancelled_by"] == "olga" and done["cancelled_via"] == "api"
    assert api(server, "DELETE", f"/api/jobs/{job_id}", "victor", json={}).status_code == 403


def test_operator_starts_and_restarts_but_only_admins_delete(stack, server):
    answer = api(server, "POST", "/api/jobs", "olga", json={"task": "demo", "params": {"lines": 1, "interval": 0}})
    assert answer.status_code == 201
    job = answer.json()["job"]
    assert (job["started_by"], job["started_via"]) == ("olga", "api")
    stack.wait_job(job["id"])
    restarted = api(server, "POST", f"/api/jobs/{job['id']}/restart", "olga", json={}).json()["job"]
    assert (restarted["started_by"], restarted["started_via"]) == ("olga", f"restart-of {job['id']}")
    refused = api(server, "DELETE", f"/api/jobs/{job['id']}", "olga", json={})
    assert refused.status_code == 403 and "admin role" in refused.json()["error"]
    assert api(server, "DELETE", f"/api/jobs/{job['id']}", "alice", json={}).status_code == 204
    stack.wait_job(restarted["id"])
    shared = requests.delete(f"{server['url']}/api/jobs/{restarted['id']}", timeout=10, json={},
                             headers={"Authorization": f"Bearer {SHARED}"})
    assert shared.status_code == 204  # the shared token still signs in, as an admin


def test_cli_user_is_recorded_as_cli(stack, server):
    env = {**stack.env, "TAILAPP_URL": server["url"], "TAILAPP_USER": "olga", "TAILAPP_TOKEN": TOKENS["olga"]}
    result = subprocess.run([TAILAPP, "start", "demo", "-p", "lines=1", "-p", "interval=0"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    job_id = re.search(r"[0-9a-f]{32}", result.stdout + result.stderr).group(0)
    job = stack.job(job_id)
    assert (job["started_by"], job["started_via"]) == ("olga", "cli")


def test_wrong_user_token_and_proxy_only_user_cannot_sign_in(server):
    elsewhere = {"X-Forwarded-For": "203.0.113.50"}  # its own failure count
    wrong = requests.get(f"{server['url']}/api/jobs", auth=("olga", TOKENS["victor"]), headers=elsewhere, timeout=5)
    assert wrong.status_code == 401
    assert requests.get(f"{server['url']}/api/jobs", auth=("pat", ""), headers=elsewhere, timeout=5).status_code == 401
    _, page = sign_in(server["url"], TOKENS["victor"], "olga", **elsewhere)
    assert page.status_code == 401 and "name or token is not right" in page.text


def test_proxy_user_header_counts_only_from_trusted_proxies(server):
    listed = requests.post(f"{server['url']}/api/jobs", json={"task": "demo", "params": {"lines": 1}},
                           headers={"X-Remote-User": "pat"}, timeout=10)
    assert listed.status_code == 201 and listed.json()["job"]["started_by"] == "pat"  # operator in the users file
    unknown = requests.post(f"{server['url']}/api/jobs", json={"task": "demo"}, headers={"X-Remote-User": "zed"},
                            timeout=10)
    assert unknown.status_code == 403 and "zed is a viewer" in unknown.json()["error"]  # TAILAPP_PROXY_DEFAULT_ROLE
    forged = requests.get(f"{server['untrusting']}/api/jobs", headers={"X-Remote-User": "alice"}, timeout=5)
    assert forged.status_code == 401


def test_socket_io_needs_a_user_and_takes_users_tokens(stack, server):
    job_id = stack.start_job(lines=1, interval=0)
    for options in ({"auth": {"user": "victor", "token": TOKENS["victor"]}},
                    {"headers": {"X-Remote-User": "zed"}}):
        client = socketio.Client(reconnection=False)
        client.connect(server["url"], namespaces=[NS], transports=["websocket"], wait_timeout=5, **options)
        assert client.call("subscribe", {"job": job_id, "after": 0}, namespace=NS, timeout=5)["ok"]
        client.disconnect()
    wrong = {"auth": {"user": "victor", "token": TOKENS["olga"]}, "headers": {"X-Forwarded-For": "203.0.113.51"}}
    for options in ({}, wrong):
        with pytest.raises(socketio.exceptions.ConnectionError):
            socketio.Client(reconnection=False).connect(server["url"], namespaces=[NS], transports=["websocket"],
                                                        wait_timeout=5, **options)


def test_viewer_form_post_is_refused_with_a_page(server):
    web, _ = sign_in(server["url"], TOKENS["victor"], "victor")
    index = web.get(server["url"] + "/", timeout=5).text
    assert "needs the operator role; victor is a viewer" in index and 'id="start-form"' not in index
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', index).group(1)
    posted = web.post(server["url"] + "/jobs", data={"csrf_token": csrf, "task": "demo"}, allow_redirects=False,
                      timeout=5)
    assert posted.status_code == 403 and "starting a job needs the operator role" in posted.text


def test_bad_users_file_refuses_to_start_with_one_line(stack, tmp_path):
    bad = tmp_path / "users.toml"
    bad.write_text('[users.eve]\nrole = "root"\ntoken_hash = "x$y"\n')
    result = subprocess.run([sys.executable, "server.py", "--port", "1"], cwd=ROOT, capture_output=True, text=True,
                            env={**stack.env, "TAILAPP_USERS_FILE": str(bad)}, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "user 'eve' has role 'root'; use one of viewer, operator, admin" in result.stderr.strip().splitlines()[-1]


def browser_sign_in(context, url: str, name: str):
    """A page of `context` signed in as `name` through the login form."""
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=user]", name)
    page.fill("input[name=token]", TOKENS[name])
    page.click("button[type=submit]")
    expect(page.locator("#signed-in-as")).to_contain_text(f"{name} ({ROLES[name]})")
    return page


def test_job_page_shows_who_started_and_who_cancelled(stack, server, browser):  # noqa: F811
    context = browser.new_context()
    page = browser_sign_in(context, server["url"], "olga")
    page.select_option("#task-select", "demo")
    page.fill("input[name='param.lines']", "500")
    page.fill("input[name='param.interval']", "0.05")
    page.click("#start-btn")
    expect(page.locator("#job-started-by")).to_have_text("started by olga via ui")
    page.click("#cancel-btn")
    expect(page.locator("#job-cancelled-by")).to_have_text("cancelled by olga via ui", timeout=10_000)
    expect(page.locator("#job-badge")).to_have_text("cancelled", timeout=10_000)
    job_url = page.url
    context.close()
    viewer = browser.new_context()
    seen = browser_sign_in(viewer, server["url"], "victor")
    seen.goto(job_url)
    expect(seen.locator("#job-cancelled-by")).to_have_text("cancelled by olga via ui")
    expect(seen.locator("#cancel-btn")).to_be_hidden()
    expect(seen.locator("#restart-btn")).to_be_hidden()
    viewer.close()


@pytest.mark.parametrize(("text", "message"), [
    ('[users.token]\nrole = "admin"\n', "'token' is reserved"),
    ('[users.eve]\nrole = "admin"\ntoken_hash = "plain-text-token"\n', "token_hash must be a hash"),
    ("[users]\n", "no [users.<name>] entries"),
    ("[users.eve\n", "TAILAPP_USERS_FILE"),
])
def test_users_file_mistakes_are_named(tmp_path, text, message):
    path = tmp_path / "users.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_accounts(str(path))

"""Sign-in hardening on real server processes: throttling, weak tokens, server-side sessions, cookies."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
import requests
import socketio
from playwright.sync_api import expect

from tests.conftest import ROOT, stop_process
from tests.e2e.test_viewer import browser  # noqa: F401 - the module's Chromium, shared with the viewer tests
from tests.viewer import NS

TOKEN = "rotating-test-token-0451"
OTHER_TOKEN = "the-rotated-test-token-9982"


def sign_in(url: str, token: str, user: str | None = None, **headers) -> tuple[requests.Session, requests.Response]:
    """A requests session that went through the login form; and the form's answer."""
    web = requests.Session()
    web.headers.update(headers)
    form = web.get(f"{url}/login", timeout=5).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = {"csrf_token": csrf, "token": token, **({"user": user} if user else {})}
    return web, web.post(f"{url}/login", data=data, allow_redirects=False, timeout=5)


def sign_out(web: requests.Session, url: str) -> requests.Response:
    page = web.get(f"{url}/", timeout=5).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return web.post(f"{url}/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=5)


def socket_with(url: str, cookie: str) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(url, namespaces=[NS], transports=["websocket"], headers={"Cookie": f"session={cookie}"},
                   wait_timeout=5)
    return client


@pytest.fixture(scope="module")
def token_servers(stack):
    """Two servers on the stack's Redis with the same token and secret key (a logout on one ends it on both)."""
    servers = [stack.spawn_server(f"server-auth-{n}", {"TAILAPP_AUTH_TOKEN": TOKEN}) for n in (1, 2)]
    yield [url for _, url in servers]
    for process, _ in servers:  # other modules count the servers on the stack's Redis
        stop_process(process)


@pytest.fixture(scope="module")
def guarded(stack):
    """A token server on its own Redis database, so its failure counts touch no other test; 10 failures a minute."""
    url, _ = stack.redis_url.rsplit("/", 1) if stack.redis_url.count("/") > 2 else (stack.redis_url, "")
    process, server = stack.spawn_server("server-throttled", {
        "TAILAPP_AUTH_TOKEN": TOKEN, "TAILAPP_REDIS_URL": f"{url}/7", "TAILAPP_SIGNIN_FAILURES_PER_MINUTE": "10"})
    yield server
    stop_process(process)


def test_wrong_tokens_from_one_client_back_off_and_are_logged(stack, guarded):
    client = {"X-Forwarded-For": "203.0.113.7"}  # through a proxy on this host, as nginx would send it
    codes = [sign_in(guarded, "wrong-guess-number-x", **client)[1].status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    _, right = sign_in(guarded, TOKEN, **client)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1  # even the right token waits
    api = requests.get(f"{guarded}/api/jobs", headers={"Authorization": "Bearer nope", **client}, timeout=5)
    assert api.status_code == 429 and "try again" in api.json()["error"]
    _, elsewhere = sign_in(guarded, TOKEN, **{"X-Forwarded-For": "203.0.113.8"})
    assert elsewhere.status_code == 303  # another client is not held up
    time.sleep(int(right.headers["Retry-After"]) + 0.2)
    assert sign_in(guarded, TOKEN, **client)[1].status_code == 303
    assert "failed sign-in as the shared token from 203.0.113.7" in stack.log("server-throttled")


def test_a_guess_spread_over_many_addresses_hits_the_global_cap(guarded):
    """Each address fails once (no per-client backoff can apply), yet the 11th failure of the minute at the
    latest is refused, and then even the right token from a fresh address waits."""
    time.sleep(max(0.0, 60 - time.time() % 60 + 0.5) if time.time() % 60 > 45 else 0)  # all in one minute
    codes = []
    for n in range(12):
        codes.append(sign_in(guarded, "wrong-guess-number-y", **{"X-Forwarded-For": f"198.51.100.{n}"})[1].status_code)
        if codes[-1] == 429:
            break
    assert codes[-1] == 429 and set(codes[:-1]) == {401}, codes
    fresh = {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "198.51.100.99"}
    assert requests.get(f"{guarded}/api/jobs", headers=fresh, timeout=5).status_code == 429


@pytest.mark.parametrize("token", ["short-token", "aaaaaaaaaaaaaaaaaaaaaaaa", "12341234123412341234"])
def test_weak_token_refuses_to_start_with_one_line(stack, token):
    result = subprocess.run([sys.executable, "server.py", "--port", "1"], cwd=ROOT,
                            env={**stack.env, "TAILAPP_AUTH_TOKEN": token}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("tailapp: TAILAPP_AUTH_TOKEN is too weak: use at least 16")


def test_logout_ends_the_session_on_every_server(token_servers):
    first, second = token_servers
    web, answer = sign_in(first, TOKEN)
    assert answer.status_code == 303
    cookie = web.cookies["session"]
    assert requests.get(f"{second}/api/jobs", cookies={"session": cookie}, timeout=5).ok
    assert sign_out(web, first).status_code == 303
    for url in (first, second):  # the cookie kept by an attacker (or another tab) is dead everywhere
        assert requests.get(f"{url}/api/jobs", cookies={"session": cookie}, timeout=5).status_code == 401
        page = requests.get(f"{url}/", cookies={"session": cookie}, allow_redirects=False, timeout=5)
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_logout_closes_that_sessions_sockets_here_and_on_other_servers(stack, token_servers):
    first, second = token_servers
    job_id = stack.start_job(lines=2, interval=0)
    web, _ = sign_in(first, TOKEN)
    cookie = web.cookies["session"]
    here, there = socket_with(first, cookie), socket_with(second, cookie)
    assert here.call("subscribe", {"job": job_id, "after": 0}, namespace=NS, timeout=5)["ok"]
    assert there.call("subscribe", {"job": job_id, "after": 0}, namespace=NS, timeout=5)["ok"]
    other, _ = sign_in(first, TOKEN)  # another sign-in stays connected
    bystander = socket_with(first, other.cookies["session"])
    sign_out(web, first)
    stack.wait(lambda: not here.connected, "the socket on the same server to close", 5)
    stack.wait(lambda: not there.connected, "the socket on the other server to close", 10)
    assert bystander.call("subscribe", {"job": job_id, "after": 0}, namespace=NS, timeout=5)["ok"]
    bystander.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        socket_with(second, cookie)


def test_rotated_token_ends_old_sessions(stack, token_servers):
    web, _ = sign_in(token_servers[0], TOKEN)
    process, rotated = stack.spawn_server("server-rotated", {"TAILAPP_AUTH_TOKEN": OTHER_TOKEN})
    try:
        assert requests.get(f"{rotated}/api/jobs", cookies=web.cookies, timeout=5).status_code == 401
        assert sign_in(rotated, OTHER_TOKEN)[1].status_code == 303
    finally:
        stop_process(process)


def test_session_cookie_is_lax_httponly_and_secure_behind_tls(token_servers):
    _, plain = sign_in(token_servers[0], TOKEN)
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    _, proxied = sign_in(token_servers[0], TOKEN, **{"X-Forwarded-Proto": "https"})  # from a proxy on this host
    assert "Secure" in proxied.headers["Set-Cookie"] and "SameSite=Lax" in proxied.headers["Set-Cookie"]


def test_chromium_sign_in_cookie_attributes_and_sign_out(token_servers, browser):  # noqa: F811
    url = token_servers[0]
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/")
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    expect(page.locator("#signed-in-as")).to_contain_text("token (admin)")
    cookie = next(c for c in context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain http here
    page.click("#logout-btn")
    expect(page.locator("input[name=token]")).to_be_visible()
    context.close()
    replay = browser.new_context()  # the cookie as it was before signing out, in a fresh browser
    replay.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    again = replay.new_page()
    again.goto(f"{url}/")
    assert again.url.startswith(f"{url}/login")
    replay.close()

"""DNS rebinding against the token-less loopback server: a real server process, and a real Chromium whose
resolver maps evil.example to 127.0.0.1 exactly as a rebinding DNS server would."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.conftest import stop_process
from tests.e2e.steps import open_to_the_end
from tests.e2e.test_viewer import CHROMIUM, CHROMIUM_ARGS

EVIL = "evil.example"
OWN = "tail.test"  # a name the operator configures in TAILAPP_ALLOWED_HOSTS


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def named(stack):
    """A second server that also answers to tail.test."""
    process, url = stack.spawn_server("server-named", {"TAILAPP_ALLOWED_HOSTS": OWN})
    yield url
    stop_process(process)  # other modules count the servers on the stack's Redis


@pytest.fixture(scope="module")
def rebinding_browser():
    with sync_playwright() as p:
        rules = f"--host-resolver-rules=MAP {EVIL} 127.0.0.1, MAP {OWN} 127.0.0.1"
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, rules])
        yield chromium
        chromium.close()


@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("GET", "/api/jobs"), ("GET", "/api/tasks"),
                                              ("POST", "/api/jobs"), ("GET", "/socket.io/?EIO=4&transport=polling"),
                                              ("GET", "/socket.io/?EIO=4&transport=websocket")])
def test_foreign_host_name_is_refused_everywhere(stack, method, path):
    response = requests.request(method, stack.url + path, headers={"Host": f"{EVIL}:{stack.port}"},
                                json={"task": "demo", "params": {"lines": 1}} if method == "POST" else None, timeout=5)
    assert response.status_code == 403, response.text
    assert "TAILAPP_ALLOWED_HOSTS" in response.json()["error"]


def test_foreign_origin_is_refused_even_with_a_good_host(stack):
    response = requests.post(f"{stack.url}/api/jobs", json={"task": "demo"},
                             headers={"Origin": f"http://{EVIL}:{stack.port}"}, timeout=5)
    assert response.status_code == 403 and "Origin" in response.json()["error"]


def test_own_names_still_work(stack, named):
    for host in (f"localhost:{stack.port}", f"127.0.0.1:{stack.port}"):
        assert requests.get(f"{stack.url}/api/jobs", headers={"Host": host}, timeout=5).ok
    assert requests.get(f"{named}/api/jobs", headers={"Host": f"{OWN}:{port_of(named)}"}, timeout=5).ok
    assert requests.get(f"{stack.url}/healthz", headers={"Host": "10.9.9.9.internal"}, timeout=5).status_code == 200


def test_rebound_page_in_chromium_gets_403_and_cannot_read_jobs(stack, rebinding_browser):
    job_id = stack.start_job(lines=2, interval=0)
    stack.wait_job(job_id)
    context = rebinding_browser.new_context()
    page = context.new_page()
    response = page.goto(f"http://{EVIL}:{stack.port}/")
    assert response.status == 403
    status = page.evaluate("fetch('/api/jobs').then(r => r.status)")
    assert status == 403
    assert job_id not in page.content()
    context.close()


def test_configured_name_works_in_chromium_with_the_live_log(stack, named, rebinding_browser):
    job_id = stack.start_job(lines=50, interval=0.01)
    context = rebinding_browser.new_context()
    page = context.new_page()
    errors = open_to_the_end(page, f"http://{OWN}:{port_of(named)}/jobs/{job_id}", "50")
    expect(page.locator("#conn-status")).not_to_have_attribute("data-status", "connecting")
    context.close()
    assert not errors, errors

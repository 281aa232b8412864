"""deploy/nginx/tailapp.conf, as shipped, in front of two real servers: TLS, WebSocket, long-polling, a browser.

Only what cannot work on a test machine is swapped: ports, the certificate (self-signed, made here) and
the upstream addresses. Everything else, the proxy directives above all, is the file users copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import requests

from tailapp.embedded import free_port
from tests.conftest import ROOT, stop_process
from tests.e2e.steps import assert_exactly, open_to_the_end, self_signed_cert
from tests.e2e.test_serve import outside_address
from tests.e2e.test_viewer import browser  # noqa: F401 - the module's Chromium, shared with the viewer tests

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx" / "tailapp.conf"
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # self-signed


def swap(text: str, old: str, new: str) -> str:
    assert old in text, f"deploy/nginx/tailapp.conf no longer has {old!r}: update this test with it"
    return text.replace(old, new)


@pytest.fixture
def nginx(stack, tmp_path):
    """nginx with the shipped site in front of the stack's server and a second one: its https URL."""
    if not os.path.exists(NGINX):
        pytest.fail("nginx is missing: ./dev.sh test installs it (apt-get install nginx)", pytrace=False)
    second, second_url = stack.spawn_server("server-nginx-2")
    cert, key = self_signed_cert(tmp_path)
    https, http = free_port(), free_port()
    site = SITE.read_text()
    for old, new in (("listen 443 ssl;", f"listen {https} ssl;"), ("listen 80;", f"listen {http};"),
                     ("/etc/ssl/certs/tail.example.com.pem", str(cert)),
                     ("/etc/ssl/private/tail.example.com.key", str(key)),
                     ("server 127.0.0.1:5001;", f"server 127.0.0.1:{stack.port};"),
                     ("server 127.0.0.1:5002;", f"server 127.0.0.1:{second_url.rsplit(':', 1)[1]};")):
        site = swap(site, old, new)
    (tmp_path / "site.conf").write_text(site)
    temp = "".join(f"{kind}_temp_path {tmp_path}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                         "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "") +
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nworker_processes 1;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\naccess_log {tmp_path}/access.log;\n{temp}include {tmp_path}/site.conf;\n}}\n")
    argv = [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*argv, "-g", "daemon off;"], start_new_session=True)
    url = f"https://127.0.0.1:{https}"
    try:
        stack.wait(lambda: requests.get(f"{url}/healthz", timeout=1, verify=False).ok, "nginx to proxy")
        yield {"url": url, "http": f"http://127.0.0.1:{http}", "https_port": https}
    finally:
        stop_process(process)
        stop_process(second)


def test_shipped_nginx_site_proxies_websocket_polling_and_the_browser(stack, nginx, browser):  # noqa: F811
    url = nginx["url"]
    moved = requests.get(f"{nginx['http']}/jobs", timeout=5, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"].startswith("https://")
    cookie = requests.get(f"{url}/", timeout=5, verify=False).headers["Set-Cookie"]  # X-Forwarded-Proto: https
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie

    job_id = stack.start_job(lines=3_000, interval=0.001)
    viewers = [stack.viewer(url, transports=transports, ssl_verify=False).connect()
               for transports in (("websocket",), ("polling",))]
    for viewer in viewers:
        assert viewer.subscribe(job_id, after=0)["ok"]

    context = browser.new_context(ignore_https_errors=True)  # the app's CSP stays on
    errors = open_to_the_end(context.new_page(), f"{url}/jobs/{job_id}", "3000")
    context.close()
    assert not errors, errors

    for viewer in viewers:
        viewer.wait_done(60)
        assert_exactly(viewer, 3_000)
        viewer.close()
    assert viewers[1].client.transport() == "polling"


def test_nginx_forwarding_another_hosts_request_is_refused_without_a_token(stack, nginx):
    outside = outside_address()
    if outside is None:
        pytest.skip("no non-loopback address here to play a client on another host")
    local = requests.get(f"{nginx['url']}/api/jobs", timeout=5, verify=False)
    assert local.status_code == 200
    remote = requests.get(f"https://{outside}:{nginx['https_port']}/api/jobs", timeout=5, verify=False)
    assert remote.status_code == 403 and "TAILAPP_AUTH_TOKEN" in remote.json()["error"]

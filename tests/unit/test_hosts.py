"""DNS rebinding: Host and Origin allowlist. Unit layer here; the real server and Chromium in test_rebinding."""

from __future__ import annotations

import socket

import pytest

from tailapp import hosts

DEFAULTS = {"HOST": "127.0.0.1", "ALLOWED_HOSTS": None}


def environ(host: str | None, origin: str | None = None, path: str = "/api/jobs") -> dict:
    env = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    if host is not None:
        env["HTTP_HOST"] = host
    if origin is not None:
        env["HTTP_ORIGIN"] = origin
    return env


@pytest.mark.parametrize("host", ["localhost:5000", "127.0.0.1:5000", "[::1]:5000", "LOCALHOST", "10.1.2.3:80",
                                  "[2001:db8::1]", socket.gethostname()])
def test_default_names_pass(host):
    assert hosts.refusal(environ(host), hosts.allowed_names(DEFAULTS)) is None


@pytest.mark.parametrize("host", ["evil.example:5000", "evil.example", "localhost.evil.example", "127.0.0.1.nip.io",
                                  "bad host", "localhost:99999"])
def test_other_names_are_refused_naming_the_setting(host):
    reason = hosts.refusal(environ(host), hosts.allowed_names(DEFAULTS))
    assert reason is not None and "TAILAPP_ALLOWED_HOSTS" in reason


def test_configured_names_and_subdomains():
    allowed = hosts.allowed_names({"HOST": "127.0.0.1", "ALLOWED_HOSTS": "tail.example.com, .corp.example"})
    assert hosts.refusal(environ("tail.example.com"), allowed) is None
    assert hosts.refusal(environ("ci.corp.example:443"), allowed) is None
    assert hosts.refusal(environ("example.com"), allowed) is not None
    assert hosts.refusal(environ("evilcorp.example"), allowed) is not None


def test_bound_name_passes_unless_a_wildcard():
    assert hosts.refusal(environ("box.lan"), hosts.allowed_names({"HOST": "box.lan"})) is None
    assert hosts.refusal(environ("box.lan"), hosts.allowed_names({"HOST": "0.0.0.0"})) is not None


def test_star_turns_the_check_off():
    assert hosts.refusal(environ("evil.example"), hosts.allowed_names({"ALLOWED_HOSTS": "*"})) is None


def test_origin_is_checked_when_sent():
    allowed = hosts.allowed_names(DEFAULTS)
    assert hosts.refusal(environ("127.0.0.1:5000", "http://127.0.0.1:5000"), allowed) is None
    assert hosts.refusal(environ("127.0.0.1:5000", "null"), allowed) is None
    assert "Origin" in hosts.refusal(environ("127.0.0.1:5000", "http://evil.example:5000"), allowed)
    assert hosts.refusal(environ("127.0.0.1:5000", "http://app.example"), allowed, {"http://app.example"}) is None
    assert hosts.refusal(environ("127.0.0.1:5000", "http://any.example"), allowed, {"*"}) is None  # CORS: any


def test_health_check_and_host_less_requests_pass():
    allowed = hosts.allowed_names(DEFAULTS)
    assert hosts.refusal(environ("10.0.0.5.internal", path="/healthz"), allowed) is None
    assert hosts.refusal(environ(None), allowed) is None  # HTTP/1.0: no browser sends that

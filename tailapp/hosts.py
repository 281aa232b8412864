"""DNS rebinding defence: every request must name this server in `Host` (and `Origin`, when sent).

A page on evil.example whose name the attacker rebinds to 127.0.0.1 talks to tailapp as
"evil.example": the browser sends `Host: evil.example`, and `Origin: http://evil.example` where it sends
one. Only names the operator owns pass. IP literals always pass: a page can only be on an address
(rather than a name) by being served from it, and no rebinding moves an address.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("", "0.0.0.0", "::")
EXEMPT_PATHS = ("/healthz",)  # load balancers probe by address or by an internal name


def allowed_names(settings: dict) -> frozenset[str] | None:
    """The host names requests may use; None when TAILAPP_ALLOWED_HOSTS is `*` (no check)."""
    configured = [n.strip().lower() for n in (settings.get("ALLOWED_HOSTS") or "").split(",") if n.strip()]
    if "*" in configured:
        return None
    own = [socket.gethostname(), socket.getfqdn()]
    bound = settings.get("HOST") or ""
    names = [*LOCAL_NAMES, *configured, *own, *([] if bound in WILDCARD_BINDS else [bound])]
    return frozenset(_bare(name) for name in names)


def _bare(name: str) -> str:
    return name.strip().lower().strip("[]").rstrip(".")


def hostname(authority: str) -> str | None:
    """The host part of a `Host` value (`name:port`, `[::1]:5000`); None when it is not well formed."""
    try:
        parsed = urlsplit(f"//{authority}")
        name = parsed.hostname
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    return _bare(name) if name else None


def is_allowed(name: str | None, allowed: Iterable[str]) -> bool:
    """True for an IP literal, a listed name, or a subdomain of a listed `.example.com`."""
    if name is None:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    return any(name == ref or (ref.startswith(".") and name.endswith(ref)) for ref in allowed)


def refusal(environ: dict, allowed: frozenset[str] | None, cors_origins: Iterable[str] = ()) -> str | None:
    """Why this request does not name this server; None when it does."""
    if allowed is None or environ.get("PATH_INFO", "").startswith(EXEMPT_PATHS):
        return None
    host = environ.get("HTTP_HOST")
    if host is not None and not is_allowed(hostname(host), allowed):
        return f"Host {host!r} is not a name of this server (add it to TAILAPP_ALLOWED_HOSTS)"
    origin = environ.get("HTTP_ORIGIN")
    if origin and origin != "null" and origin not in cors_origins and "*" not in cors_origins:
        netloc = urlsplit(origin).netloc
        if not is_allowed(hostname(netloc) if netloc else None, allowed):
            return f"Origin {origin!r} is not a name of this server (add it to TAILAPP_ALLOWED_HOSTS)"
    return None


class HostCheck:
    """WSGI middleware in front of everything, Socket.IO's handshake and transports included: 403 otherwise."""

    def __init__(self, app, settings: dict):
        self.app = app
        self.allowed = allowed_names(settings)
        cors = settings.get("CORS_ALLOWED_ORIGINS") or ""
        self.cors_origins = frozenset(o.strip() for o in cors.split(",") if o.strip()) if isinstance(cors, str) \
            else frozenset(cors)

    def __call__(self, environ, start_response):
        reason = refusal(environ, self.allowed, self.cors_origins)
        if reason is None:
            return self.app(environ, start_response)
        log.warning("refused %s %s from %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                    environ.get("REMOTE_ADDR"), reason)
        body = json.dumps({"error": reason}).encode()
        start_response("403 FORBIDDEN", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

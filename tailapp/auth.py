"""Optional authentication: one shared token (TAILAPP_AUTH_TOKEN) for pages, API, raw logs and Socket.IO.

Browsers sign in once on /login and get a session cookie; the API and the CLI send
`Authorization: Bearer <token>`; Socket.IO clients are checked when they connect (cookie or
`auth={"token": …}`). With no token set everything is open, which the server allows only on localhost.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlparse

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, session, url_for

bp = Blueprint("auth", __name__)
OPEN_PATHS = ("/login", "/static/", "/vendor/", "/healthz")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def init_auth(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_require_auth)


def _token() -> str | None:
    return current_app.config.get("AUTH_TOKEN") or None


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def _session_mark(token: str) -> str:
    """What the session keeps: a digest, so changing the token signs everyone out."""
    return hashlib.sha256(b"tailapp-session:" + token.encode()).hexdigest()


def local_only_refusal() -> str | None:
    """Why this request is refused when no token is set and it comes from another host; None if it may go.

    The bind check keeps `python server.py` on localhost without a token; a server that picks its own
    address (gunicorn --bind) is held to the same rule here, per request. So is a proxy on this host
    that forwards other hosts' requests: the addresses it adds to X-Forwarded-For count (a client can
    put addresses there too, but only to get itself refused).
    """
    if _token() is not None or current_app.config.get("ALLOW_PUBLIC"):
        return None
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if all(_is_loopback(address) for address in [request.remote_addr, *forwarded]):
        return None
    return ("tailapp serves only clients on its own host when TAILAPP_AUTH_TOKEN is not set "
            "(set it, or TAILAPP_ALLOW_PUBLIC=1 if something in front of tailapp authenticates)")


def _is_loopback(address: str | None) -> bool:
    if not address:  # a Unix socket has no peer address: the client is on this host
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def is_authenticated(auth: object = None) -> bool:
    """True when no token is set, or the request (or Socket.IO `auth` payload) carries it."""
    token = _token()
    if token is None:
        return True
    if session.get("auth") == _session_mark(token):
        return True
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and _same(header[7:], token):
        return True
    given = auth.get("token") if isinstance(auth, dict) else None
    return isinstance(given, str) and _same(given, token)


def _require_auth():
    if request.path.startswith(OPEN_PATHS):
        return None
    refusal = local_only_refusal()
    if refusal is not None:
        return jsonify(error=refusal), 403
    if is_authenticated():
        return None
    if request.path.startswith("/api/") or request.path.startswith("/socket.io"):
        return jsonify(error="authentication required: send Authorization: Bearer <token>"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    parsed = urlparse(target or "")
    if not target or parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("views.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    token = _token()
    if token is None:
        return redirect(url_for("views.index"))
    error = None
    if request.method == "POST":
        if _same(request.form.get("token", ""), token):
            session["auth"] = _session_mark(token)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")), 303)
        error = "That token is not right."
    return render_template("login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    session.pop("auth", None)
    return redirect(url_for("auth.login"), 303)


def check_bind(host: str, settings: dict) -> None:
    """Refuse to serve on a non-local interface without authentication, unless told to."""
    if host in LOCAL_HOSTS or settings.get("AUTH_TOKEN") or settings.get("ALLOW_PUBLIC"):
        return
    raise PermissionError(f"refusing to listen on {host} without authentication: set TAILAPP_AUTH_TOKEN "
                          "(or TAILAPP_ALLOW_PUBLIC=1 if something in front of tailapp authenticates)")

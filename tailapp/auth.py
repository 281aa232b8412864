"""Authentication for pages, API, raw logs and Socket.IO: the shared token, a users file, or a proxy's header.

Browsers sign in on /login and get a session cookie that holds only a session id (the session itself is
in Redis, see tailapp.sessions); the API and the CLI send `Authorization: Bearer <shared token>` or
`Basic <name:token>`; Socket.IO clients are checked when they connect (cookie, those headers, or
`auth={"token": …, "user": …}`). Failed attempts are throttled (tailapp.throttle). With no
authentication configured everyone is an admin, which the server allows only for clients on its host.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import time
from datetime import timedelta
from urllib.parse import urlparse

from flask import Blueprint, Flask, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from tailapp import runtime, sockets
from tailapp.config import ConfigError
from tailapp.store import Store
from tailapp.throttle import Throttle, Throttled
from tailapp.users import LOCAL_USER, ROLES, TOKEN_USER, User, check_token_strength, load_accounts, token_user, verify

log = logging.getLogger("tailapp.auth")
bp = Blueprint("auth", __name__)
OPEN_PATHS = ("/login", "/static/", "/vendor/", "/healthz", "/favicon.ico")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
VERIFIED_SECONDS = 300  # a checked name and token pair is trusted this long without hashing it again


class AuthState:
    """What one app knows about its users: accounts, the shared token, trusted proxies, the throttle."""

    def __init__(self, settings: dict, store: Store):
        self.token = settings.get("AUTH_TOKEN") or None
        if self.token is not None:
            check_token_strength(self.token)
        self.accounts = load_accounts(settings.get("USERS_FILE"))
        self.proxy_header = settings.get("PROXY_USER_HEADER") or None
        self.proxy_role = settings.get("PROXY_DEFAULT_ROLE") or "viewer"
        if self.proxy_role not in ROLES:
            raise ConfigError(f"TAILAPP_PROXY_DEFAULT_ROLE={self.proxy_role!r}: use one of {', '.join(ROLES)}")
        self.proxies = _networks(settings.get("TRUSTED_PROXIES") or "")
        self.enabled = bool(self.token or self.accounts or self.proxy_header)
        self.throttle = Throttle(store.signins, settings["SIGNIN_FAILURES_PER_MINUTE"])
        self.sessions = store.sessions
        self.verified: dict[tuple[str | None, str], tuple[User, float]] = {}

    def user_named(self, name: str) -> User | None:
        """The current user record behind a session's name (None if the name is gone)."""
        if name == TOKEN_USER and self.token:
            return token_user(self.token)
        account = self.accounts.get(name)
        return account.user() if account else None

    def verify(self, name: str | None, token: str) -> User | None:
        """The user these credentials belong to; None when they are wrong. `name` None: the shared token."""
        key = (name, hashlib.sha256(token.encode()).hexdigest())
        known = self.verified.get(key)
        if known and known[1] > time.monotonic():
            return known[0]
        if name in (None, TOKEN_USER):
            user = token_user(self.token) if self.token and _same(token, self.token) else None
        else:
            user = verify(self.accounts.get(name), token)
        if user is not None:
            if len(self.verified) > 1000:
                self.verified.clear()
            self.verified[key] = (user, time.monotonic() + VERIFIED_SECONDS)
        return user

    def is_trusted_proxy(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)


def _networks(text: str) -> list:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"TAILAPP_TRUSTED_PROXIES: {exc}") from None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure when the browser reached us over TLS (directly or through a proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("COOKIE_SECURE")) or over_tls()


def init_auth(app: Flask) -> None:
    """Check the auth settings (raises ConfigError) and guard every request."""
    state = AuthState(app.config, runtime.get(app).store)
    app.extensions["tailapp-auth"] = state
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      PERMANENT_SESSION_LIFETIME=timedelta(days=app.config["SESSION_DAYS"]))
    app.session_interface = SessionInterface()
    app.register_blueprint(bp)
    app.before_request(_require_auth)
    app.context_processor(lambda: {"user": g.get("user"), "auth_enabled": state.enabled})


def _state() -> AuthState:
    return current_app.extensions["tailapp-auth"]


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def over_tls() -> bool:
    """True when the browser's connection is TLS: ours, or a trusted proxy's (X-Forwarded-Proto)."""
    if request.is_secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return forwarded == "https" and _state().is_trusted_proxy(request.remote_addr)


def client_address() -> str:
    """The client's address: the peer, or past trusted proxies, the last address they added to X-Forwarded-For."""
    state = _state()
    address = request.remote_addr or "local"
    chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    while chain and state.is_trusted_proxy(address):
        address = chain.pop()
    return address


def local_only_refusal() -> str | None:
    """Why this request is refused when no authentication is set and it comes from another host; None if it may go.

    The bind check keeps `python server.py` on localhost without a token; a server that picks its own
    address (gunicorn --bind) is held to the same rule here, per request. So is a proxy on this host
    that forwards other hosts' requests: the addresses it adds to X-Forwarded-For count (a client can
    put addresses there too, but only to get itself refused).
    """
    if _state().enabled or current_app.config.get("ALLOW_PUBLIC"):
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


def identify(auth: object = None) -> User | None:
    """Who makes this request (or Socket.IO connect with `auth`); None: nobody signed in. Raises Throttled.

    Sets g.session_id when a session cookie signed the user in.
    """
    state = _state()
    g.session_id = None
    if not state.enabled:
        return User(LOCAL_USER, "admin")
    user = _proxy_user(state) or _session_user(state)
    if user is not None:
        return user
    credentials = _credentials(auth)
    if credentials is None:
        return None
    return check_credentials(*credentials)


def check_credentials(name: str | None, token: str) -> User | None:
    """Verify a name (None: the shared token) and token, throttled and logged. Raises Throttled."""
    state, address = _state(), client_address()
    state.throttle.check(address)
    user = state.verify(name, token)
    if user is None:
        state.throttle.failed(address, repr(name) if name else "the shared token")
    return user


def _proxy_user(state: AuthState) -> User | None:
    if state.proxy_header is None or not state.is_trusted_proxy(request.remote_addr):
        return None
    name = request.headers.get(state.proxy_header, "").strip()
    if not name:
        return None
    account = state.accounts.get(name)
    return User(name, account.role if account else state.proxy_role, "proxy")


def _session_user(state: AuthState) -> User | None:
    session_id = session.get("sid")
    record = state.sessions.get(session_id)
    if record is None:
        return None
    user = state.user_named(record.get("user", ""))
    if user is None or not _same(record.get("mark", ""), user.mark):
        state.sessions.end(session_id)  # the token changed since: this session is over
        return None
    g.session_id = session_id
    return user


def _credentials(auth: object) -> tuple[str | None, str] | None:
    """(name or None, token) from the Authorization header or a Socket.IO auth payload; None when none sent."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return None, header[7:]
    if header.startswith("Basic "):
        try:
            name, _, token = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, ""
        return name or None, token
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        name = auth.get("user")
        return (name if isinstance(name, str) and name else None), auth["token"]
    return None


def current_user() -> User | None:
    return g.get("user")


def _require_auth():
    g.user = None
    if request.path.startswith(OPEN_PATHS):
        return None
    refusal = local_only_refusal()
    if refusal is not None:
        return jsonify(error=refusal), 403
    try:
        g.user = identify()
    except Throttled as exc:
        response = jsonify(error=str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response, 429
    if g.user is not None:
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
    state = _state()
    if not state.enabled:
        return redirect(url_for("views.index"))
    if request.method == "GET":
        return render_template("login.html", error=None, users=bool(state.accounts))
    name = request.form.get("user", "").strip() or None
    try:
        user = check_credentials(name, request.form.get("token", ""))
    except Throttled as exc:
        page = render_template("login.html", error=str(exc), users=bool(state.accounts))
        return page, 429, {"Retry-After": str(exc.retry_after)}
    if user is None:
        error = "That name or token is not right." if state.accounts else "That token is not right."
        return render_template("login.html", error=error, users=bool(state.accounts)), 401
    state.throttle.succeeded(client_address())
    state.sessions.end(session.get("sid"))
    session["sid"] = state.sessions.create(user.name, user.mark, current_app.config["SESSION_DAYS"] * 86400)
    session.permanent = True
    log.info("%s signed in from %s", user.name, client_address())
    return redirect(_safe_next(request.args.get("next")), 303)


@bp.post("/logout")
def logout():
    """End this session on every server: its record goes, its Socket.IO connections are closed."""
    session_id = session.pop("sid", None)
    if isinstance(session_id, str):
        _state().sessions.end(session_id)
        sockets.close_session(session_id)
    return redirect(url_for("auth.login"), 303)


def check_bind(host: str, settings: dict) -> None:
    """Refuse to serve on a non-local interface without authentication, unless told to."""
    if host in LOCAL_HOSTS or settings.get("ALLOW_PUBLIC"):
        return
    if settings.get("AUTH_TOKEN") or settings.get("USERS_FILE") or settings.get("PROXY_USER_HEADER"):
        return
    raise PermissionError(f"refusing to listen on {host} without authentication: set TAILAPP_AUTH_TOKEN "
                          "(or TAILAPP_ALLOW_PUBLIC=1 if something in front of tailapp authenticates)")

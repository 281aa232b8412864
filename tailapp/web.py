"""The web side of the app: auth, CSRF, blueprints, the Socket.IO handlers, vendor files and error pages."""

from __future__ import annotations

import redis
from flask import Flask, current_app, jsonify, render_template, request, send_from_directory
from flask_wtf.csrf import CSRFError, CSRFProtect, validate_csrf
from werkzeug.exceptions import HTTPException, NotFound
from wtforms.validators import ValidationError

from tailapp import api, socket_handlers, vendor, views
from tailapp.auth import init_auth
from tailapp.hosts import HostCheck
from tailapp.launch import RequestError
from tailapp.metrics import init_metrics
from tailapp.store import unavailable_message

csrf = CSRFProtect()


def init_web(app: Flask) -> None:
    """Bind auth, CSRF, the blueprints, the Socket.IO handlers and the error pages to `app` (its runtime and
    Socket.IO are set up already)."""
    settings = app.config
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    init_auth(app)
    csrf.init_app(app)
    app.after_request(_security_headers)
    csrf.exempt(api.bp)  # the API checks CSRF itself, see _guard_api
    app.before_request(_guard_api)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.add_url_rule("/vendor/<path:filename>", "vendor", _vendor)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.register_error_handler(RequestError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _http_error)
    app.register_error_handler(redis.ConnectionError, _redis_unavailable)
    app.register_error_handler(redis.TimeoutError, _redis_unavailable)
    app.register_error_handler(Exception, _unexpected_error)
    socket_handlers.register()
    init_metrics(app)
    if vendor.missing():
        app.logger.error("browser packages missing from %s (%s): job pages will not work; run "
                         "`python -m tailapp.vendor` in a checkout, or reinstall tailapp",
                         vendor.VENDOR_DIR, ", ".join(vendor.missing()))
    app.wsgi_app = HostCheck(app.wsgi_app, settings)  # outermost: Socket.IO's handshake is checked too


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _security_headers(response):
    # term.js writes 256 and 24-bit colours as style attributes, hence style-src-attr; no inline script anywhere.
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _guard_api():
    """State changes through the API need a CSRF token or a JSON body (which a foreign page cannot send)."""
    if request.blueprint != "api" or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    token = request.headers.get("X-CSRFToken")
    if token:
        try:
            validate_csrf(token)
        except ValidationError:
            return jsonify(error="invalid or expired CSRF token; reload the page"), 400
    elif not request.is_json:
        return jsonify(error="send a JSON body (Content-Type: application/json) or an X-CSRFToken header"), 400
    return None


def _vendor(filename: str):
    """The browser packages listed in tailapp.vendor.FILES, copied into the package when it was built."""
    if filename not in vendor.FILES:
        raise NotFound()
    return send_from_directory(vendor.VENDOR_DIR, vendor.flat(filename), max_age=3600)


def _favicon():
    """Browsers ask for /favicon.ico whatever the page says; the pages link the SVG."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _api_error(exc: RequestError):
    if _wants_json():
        return jsonify(error=exc.message), exc.status
    return render_template("error.html", status=exc.status, message=exc.message), exc.status


def _http_error(exc: HTTPException):
    message = getattr(exc, "description", None) or exc.name
    if isinstance(exc, NotFound):
        message = "not found"
    if _wants_json():
        return jsonify(error=message), exc.code
    return render_template("error.html", status=exc.code, message=message), exc.code


def _redis_unavailable(exc: redis.RedisError):
    current_app.logger.warning("Redis unavailable on %s: %s", request.path, exc)
    message = unavailable_message(exc)
    if _wants_json():
        response = jsonify(error=message)
    else:
        response = current_app.make_response(render_template("error.html", status=503, message=message))
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response


def _unexpected_error(exc: Exception):
    # Never a trace to the client: log it here, answer with a plain sentence.
    current_app.logger.exception("unhandled error on %s", request.path)
    if _wants_json():
        return jsonify(error="internal error"), 500
    return render_template("error.html", status=500, message="internal error"), 500

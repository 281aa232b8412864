"""The server entry: gevent, Flask and Socket.IO in one process. `python server.py` runs this."""

from gevent import monkey

if not monkey.is_module_patched("socket"):
    monkey.patch_all()

import argparse
import errno
import logging
import os
import signal
import socket

import gevent
from gevent import pywsgi

from tailapp import logs, runtime, socket_handlers, transport, watchdog
from tailapp.app import ConfigError, create_app
from tailapp.auth import check_bind
from tailapp.sockets import socketio

log = logging.getLogger("tailapp.server")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="server.py", description="Run the tailapp web server.")
    parser.add_argument("--host", default=os.environ.get("TAILAPP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TAILAPP_PORT", "5000")))
    return parser.parse_args(argv)


def lean_greenlets() -> None:
    """Greenlets without their spawn tree: gevent records each one's spawning stack and parent by default,
    ~5 kB per idle viewer (four greenlets each) and time on every spawn. GEVENT_TRACK_GREENLET_TREE=1
    brings it back for debugging."""
    if "GEVENT_TRACK_GREENLET_TREE" not in os.environ:
        gevent.config.track_greenlet_tree = False


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    lean_greenlets()
    logs.setup()
    try:
        app = create_app({"HOST": args.host, "PORT": args.port})
        check_bind(args.host, app.config)
    except (ConfigError, PermissionError) as exc:
        raise SystemExit(f"tailapp: {exc}") from None
    shared = start(app)
    gevent.signal_handler(signal.SIGTERM, lambda: gevent.spawn(_stop, shared))
    log.info("serving on http://%s:%d", args.host, args.port)
    try:
        socketio.run(app, host=args.host, port=args.port, log_output=False, handler_class=NoDelayHandler)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(f"tailapp: port {args.port} on {args.host} is already in use: stop what uses it, "
                         "or pick another port with --port (or TAILAPP_PORT)") from None


def wsgi():
    """The app for a WSGI server that runs gevent itself: `gunicorn -k gevent -w 1 'tailapp.serve:wsgi()'`.

    gunicorn decides the address, so the bind check cannot run here; without TAILAPP_AUTH_TOKEN the app
    still answers only clients on this host (see tailapp.auth).
    """
    lean_greenlets()
    logs.setup()
    try:
        app = create_app()
    except ConfigError as exc:
        raise SystemExit(f"tailapp: {exc}") from None
    start(app)
    return app


def start(app):
    """Start what a server runs beside the requests: the relay from Redis and the lost-job watchdog."""
    shared = runtime.get(app)
    shared.store.warm()
    shared.relay.start()
    watchdog.start(shared.store, shared.settings)
    gevent.spawn(socket_handlers.close_unjoined_connections)
    return shared


HEADER_SECONDS = 10  # a request line, and then its headers, must each arrive within this


class NoDelayHandler(pywsgi.WSGIHandler):
    """Turns Nagle's algorithm off on each connection, and closes those that send no whole request head.

    With Nagle on, a packet written while the client has not yet acknowledged the previous one waits for
    that ack, and a viewer's delayed ack takes 40 ms: the first lines after a quiet moment reached viewers
    up to 40 ms late. gevent's server waits for a request head forever: 1,030 half-sent requests held the
    file descriptors that authorised clients needed. An idle keep-alive connection closes the same way.
    """

    def handle(self) -> None:
        if self.socket.family in (socket.AF_INET, socket.AF_INET6):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()

    def read_requestline(self) -> str:
        with gevent.Timeout(HEADER_SECONDS, False):
            return super().read_requestline()
        return ""  # gevent closes the connection

    def read_request(self, raw_requestline: str):
        with gevent.Timeout(HEADER_SECONDS, False):
            return super().read_request(raw_requestline)
        return False  # gevent answers 400 and closes

    @property
    def upgraded(self) -> bool:
        """The request became a WebSocket: its socket carries frames, no HTTP may be written into it."""
        upgrade = getattr(self, "upgrade", None)
        return upgrade is not None and upgrade.done

    def get_environ(self) -> dict:
        environ = super().get_environ()
        environ[transport.UPGRADED] = self.upgrade = transport.UpgradeMark(self.socket, self.rfile)
        return environ

    def process_result(self) -> None:
        if self.upgraded:
            return  # the connection carried WebSocket frames, and its socket is closed: no HTTP answer follows
        super().process_result()

    def run_application(self) -> None:
        super().run_application()
        if self.upgraded:
            self.close_connection = True  # else the client's next frame was read as a request and answered 400

    def handle_error(self, t, v, tb) -> None:
        if not self.upgraded:
            super().handle_error(t, v, tb)  # logs, answers 500
            return
        # A WebSocket handler failed (e.g. on a malformed packet): an HTTP 500 written into the socket
        # would reach the client as a corrupt frame. Log it and close.
        log.error("WebSocket connection failed: %s: %s", t.__name__, v, exc_info=(t, v, tb))
        self.close_connection = True


def _stop(shared: runtime.Runtime) -> None:
    """Clean shutdown: stop the relay, close every viewer's transport (their clients reconnect, to another
    server or to this one restarted, and resume by seq), then stop serving."""
    viewers = len(socketio.server.eio.sockets)
    log.info("SIGTERM: closing %d connections, stopping", viewers)
    shared.relay.stop()
    with gevent.Timeout(3, False):
        socketio.server.eio.disconnect()
    socketio.stop()


if __name__ == "__main__":
    main()

"""The naive baseline: Flask-SocketIO + gevent, one Redis pub/sub connection (and greenlet) per
subscription, one Socket.IO emit per line. Same /tail `subscribe` and `lines` shapes as tailapp, so
the same load client measures both.

    python bench/naive_server.py --port P --redis redis://127.0.0.1:6379/0
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402

import gevent  # noqa: E402
import redis  # noqa: E402
from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

from tailapp.serve import NoDelayHandler  # noqa: E402

NS = "/tail"
app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent")
state: dict = {"redis": None, "subs": {}}


@socketio.on("subscribe", namespace=NS)
def subscribe(payload):
    job, sid = payload["job"], request.sid
    pubsub = state["redis"].pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"naive:ch:{job}")  # before the backlog read: no line falls in between
    backlog = state["redis"].lrange(f"naive:lines:{job}", payload.get("after", 0), -1)
    pump = gevent.spawn(_pump, sid, job, pubsub, backlog)
    state["subs"].setdefault(sid, []).append((pump, pubsub))
    return {"ok": True}


@socketio.on("disconnect", namespace=NS)
def disconnect(reason=None):
    for pump, pubsub in state["subs"].pop(request.sid, []):
        pump.kill(block=False)
        pubsub.close()


def _pump(sid: str, job: str, pubsub, backlog: list[str]) -> None:
    last = 0
    for element in backlog:
        last = _emit(sid, job, element)
    for message in pubsub.listen():
        if int(message["data"].split(" ", 1)[0]) > last:  # the backlog may already hold it
            last = _emit(sid, job, message["data"])


def _emit(sid: str, job: str, element: str) -> int:
    seq, ms, text = element.split(" ", 2)
    socketio.emit("lines", {"job": job, "seq": int(seq), "lines": [text], "times": [int(ms)]},
                  to=sid, namespace=NS)
    return int(seq)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    state["redis"] = redis.Redis.from_url(args.redis, decode_responses=True, max_connections=100_000)
    # Nagle off as in tailapp's server, so the comparison is between the designs, not a socket option.
    socketio.run(app, host="127.0.0.1", port=args.port, log_output=False, handler_class=NoDelayHandler)


if __name__ == "__main__":
    main()

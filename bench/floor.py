"""The floor under issue 14's CPU per message: what one published message costs a gevent process that only
reads it from Redis and writes one WebSocket frame, without python-socketio, Flask or tailapp's relay.

Layer: Redis pub/sub → one gevent process → a TCP socket read by a plain sink process. A plain publisher
process publishes `lines` messages as the worker's writer does (2 lines of ~80 characters each, "L<seq>\\n
<ms> <text>\\n<ms> <text>") at the trickle scenario's rate (375 messages/s, one at a time). The relaying
process's CPU (getrusage, user + system) over the messages is divided by their count, for four loops
(the publisher's, the sink's and Redis's CPU-s and the load are printed beside each):

  blocking   no gevent: a blocking recv of the subscription's bytes, no parsing; send a fixed frame (the
             syscalls' own cost on this machine)
  raw        gevent socket recv of the subscription's bytes, no parsing; send a fixed frame
  redis-py   redis-py's connection.read_response (RESP2, decoded to str); send a fixed frame
  tailapp    redis-py as above, then tailapp's decode of the message, the `lines` payload, the Socket.IO
             packet as python-socketio encodes it (orjson), the WebSocket frame (transport.text_frame)

`python -m bench.floor [--messages 1500] [--rate 375]`; compare with `bench.userpath --only "trickle 1 job"`
run just before or after (the whole server on the same messages).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time

import psutil

LOOPS = ("blocking", "raw", "redis-py", "tailapp")
CHANNEL = "tailapp:ch:floor"


def publisher(port: int, messages: int, rate: float) -> None:
    import redis

    client = redis.Redis(port=port)
    text = "x" * 80
    start = time.monotonic()
    for i in range(messages):
        ms = int(time.time() * 1000)
        client.publish(CHANNEL, f"L{2 * i + 1}\n{ms} {text}\n{ms} {text}")
        delay = start + (i + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    client.publish(CHANNEL, "END")


def sink(port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port))
    conn, _ = listener.accept()
    while conn.recv(65536):
        pass


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def relay(loop: str, redis_port: int, sink_port: int, messages: int, rate: float) -> None:
    if loop != "blocking":
        from gevent import monkey

        monkey.patch_all()
    import redis

    from tailapp import protocol as p
    from tailapp.socket_json import json as socket_json
    from tailapp.store import messages as m
    from tailapp.transport import text_frame

    out = socket.create_connection(("127.0.0.1", sink_port))
    out.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fixed = text_frame('42/tail,["lines",{"job":"floor","seq":1,"lines":["' + "x" * 80 + '"]}]')
    pubsub = redis.Redis(port=redis_port, decode_responses=True, protocol=2).pubsub()
    pubsub.subscribe(CHANNEL)
    conn = pubsub.connection
    conn.read_response()  # the subscribe confirmation
    pub = subprocess.Popen([sys.executable, "-m", "bench.floor", "--role", "publisher", "--redis", str(redis_port),
                            "--messages", str(messages), "--rate", str(rate)])
    count, started = 0, None
    if loop in ("blocking", "raw"):
        sock = conn._sock
        while True:
            data = sock.recv(65536)
            if started is None:
                started = cpu()
            count += data.count(b"$")  # 3 bulk strings per message
            if b"END" in data:
                break
            out.sendall(fixed)
        count //= 3
    else:
        while True:
            reply = conn.read_response(disconnect_on_error=False)
            if started is None:
                started = cpu()
            if reply[2] == "END":
                break
            count += 1
            if loop == "redis-py":
                out.sendall(fixed)
                continue
            lines = m.decode(reply[2])
            payload = {"job": "floor", "seq": lines.seq, "lines": lines.texts, "times": lines.times}
            packet = "42" + p.NAMESPACE + "," + socket_json.dumps([p.LINES, payload])
            out.sendall(text_frame(packet))
    used = cpu() - started
    pub.wait()
    publisher_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"  {loop:9} {count:5} messages, {used:.3f} CPU-s, {used / max(count, 1) * 1000:.4f} ms/message; "
          f"publisher {publisher_cpu.ru_utime + publisher_cpu.ru_stime:.2f} CPU-s", end="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=375.0, help="messages/s")
    parser.add_argument("--role", choices=("main", "publisher", "sink", *LOOPS), default="main")
    parser.add_argument("--redis", type=int, default=0)
    parser.add_argument("--sink", type=int, default=0)
    args = parser.parse_args()
    if args.role == "publisher":
        return publisher(args.redis, args.messages, args.rate)
    if args.role == "sink":
        return sink(args.sink)
    if args.role in LOOPS:
        return relay(args.role, args.redis, args.sink, args.messages, args.rate)
    redis_port, sink_port = free_port(), free_port()
    server = subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    print(f"floor: {args.messages} messages at {args.rate:.0f}/s; load {os.getloadavg()[0]:.2f}")
    try:
        for loop in LOOPS:
            sink_proc = subprocess.Popen([sys.executable, "-m", "bench.floor", "--role", "sink", "--sink",
                                          str(sink_port)])
            time.sleep(0.3)
            redis_before = sum(psutil.Process(server.pid).cpu_times()[:2])
            subprocess.run([sys.executable, "-m", "bench.floor", "--role", loop, "--redis", str(redis_port),
                            "--sink", str(sink_port), "--messages", str(args.messages), "--rate", str(args.rate)],
                           check=True)
            redis_cpu = sum(psutil.Process(server.pid).cpu_times()[:2]) - redis_before
            _, _, sink_usage = os.wait4(sink_proc.pid, 0)
            print(f", sink {sink_usage.ru_utime + sink_usage.ru_stime:.2f}, Redis {redis_cpu:.2f}; "
                  f"load {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()

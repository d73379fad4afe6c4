"""The floor under every Python socket library: the same tests with bare ``socket`` calls, the
"bare" column of ``purezmq bench``. No framing beyond fixed-size messages, no queues, no
threads: what Python itself costs per message.

- thr (and big): the sender ``sendall``s ``count`` messages of ``size`` bytes; the receiver
  ``recv_into``s one preallocated buffer until it has them all, timed from the first bytes.
- lat: the requester sends ``size`` bytes and reads ``size`` bytes back, ``count`` times
  (after one untimed round trip), as REQ/REP do; the echo side reads and writes them back.

Only tcp, blocking: the other tests (inproc, ipc, pubsub, asyncio, trio, CURVE, compression)
have no bare form and show n/a.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

Emit = Callable[[str, Any], None]


def runs(kind: str, transport: str, plain: bool) -> bool:
    """Whether a test has a bare form (``plain``: no asyncio, trio, CURVE or compression)."""
    return kind in ("thr", "lat") and transport == "tcp" and plain


def _listen(spec: str, emit: Emit) -> socket.socket:
    host, _, port = spec.removeprefix("tcp://").rpartition(":")
    listener = socket.create_server((host, 0 if port == "*" else int(port)))
    emit("READY", f"tcp://{host}:{listener.getsockname()[1]}")
    conn, _ = listener.accept()
    listener.close()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _connect(endpoint: str) -> socket.socket:
    host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
    conn = socket.create_connection((host, int(port)))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _read_exactly(conn: socket.socket, view: memoryview) -> None:
    got = 0
    while got < len(view):
        count = conn.recv_into(view[got:])
        if not count:
            raise ConnectionError("the peer closed")
        got += count


def thr_recv(a: argparse.Namespace, emit: Emit) -> None:
    conn = _listen(a.bind, emit)
    total = a.count * a.size
    buffer = memoryview(bytearray(min(total, 1 << 20)))
    got = conn.recv_into(buffer)
    start = time.perf_counter()
    while got < total:
        count = conn.recv_into(buffer[: min(len(buffer), total - got)])
        if not count:
            raise ConnectionError("the peer closed")
        got += count
    elapsed = time.perf_counter() - start
    emit("RESULT", {"messages": a.count - 1, "elapsed": elapsed, "size": a.size})


def thr_send(a: argparse.Namespace, emit: Emit) -> None:
    conn = _connect(a.connect[0])
    message = b"x" * a.size
    send = conn.sendall
    for _ in range(a.count):
        send(message)
    sys.stdin.read()  # (Held until the runner is done, as the other senders.)


def lat_rep(a: argparse.Namespace, emit: Emit) -> None:
    conn = _listen(a.bind, emit)
    view = memoryview(bytearray(a.size))
    for _ in range(a.count + 1):
        _read_exactly(conn, view)
        conn.sendall(view)
    sys.stdin.read()


def lat_req(a: argparse.Namespace, emit: Emit) -> None:
    conn = _connect(a.connect[0])
    message = b"x" * a.size
    view = memoryview(bytearray(a.size))
    conn.sendall(message)
    _read_exactly(conn, view)
    start = time.perf_counter()
    for _ in range(a.count):
        conn.sendall(message)
        _read_exactly(conn, view)
    elapsed = time.perf_counter() - start
    emit("RESULT", {"roundtrips": a.count, "elapsed": elapsed})


ROLES: dict[str, Callable[[argparse.Namespace, Emit], None]] = {
    "thr-recv": thr_recv,
    "thr-send": thr_send,
    "lat-rep": lat_rep,
    "lat-req": lat_req,
}

"""Helpers for the semantics tests. Every wait is bounded (socket timeouts, poll, deadlines)."""

from __future__ import annotations

import socket
import time
from typing import Any

#: Per-operation timeout (ms): far above loopback latency, small enough to fail fast.
OP_TIMEOUT_MS = 3000
#: How long a "nothing arrives" check waits (ms).
QUIET_MS = 300
DEADLINE_S = 5.0


def prep(sock: Any, timeout_ms: int = OP_TIMEOUT_MS) -> Any:
    sock.linger = 0
    sock.rcvtimeo = timeout_ms
    sock.sndtimeo = timeout_ms
    return sock


def make(context: Any, socket_type: int, timeout_ms: int = OP_TIMEOUT_MS, **options: Any) -> Any:
    """A socket with linger 0, bounded timeouts and the given options (set before bind/connect)."""
    sock = prep(context.socket(socket_type), timeout_ms)
    for name, value in options.items():
        setattr(sock, name, value)
    return sock


def recv(sock: Any, timeout_ms: int = OP_TIMEOUT_MS) -> list[bytes]:
    """One multipart message, failing clearly if none arrives in time."""
    if not sock.poll(timeout_ms):
        raise AssertionError(f"no message within {timeout_ms} ms on {sock!r}")
    return [bytes(f) for f in sock.recv_multipart()]


def assert_silent(sock: Any, quiet_ms: int = QUIET_MS) -> None:
    """Nothing arrives on ``sock`` within ``quiet_ms``."""
    if sock.poll(quiet_ms):
        msg = [bytes(f) for f in sock.recv_multipart()]
        raise AssertionError(f"unexpected message on {sock!r}: {msg!r}")


def drain(sock: Any, quiet_ms: int = 100) -> list[list[bytes]]:
    out: list[list[bytes]] = []
    while sock.poll(quiet_ms):
        out.append([bytes(f) for f in sock.recv_multipart()])
    return out


def free_tcp_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_of(endpoint: bytes | str) -> int:
    if isinstance(endpoint, bytes):
        endpoint = endpoint.decode()
    return int(endpoint.rsplit(":", 1)[1])


def send_until_received(
    send: Any, receiver: Any, payload: bytes, timeout_s: float = DEADLINE_S, step_ms: int = 20
) -> list[bytes]:
    """Call ``send(payload)`` until ``receiver`` gets a message (for sockets that may drop)."""
    deadline = time.monotonic() + timeout_s
    while True:
        send(payload)
        if receiver.poll(step_ms):
            return [bytes(f) for f in receiver.recv_multipart()]
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing reached {receiver!r} within {timeout_s}s")


def wait_until(predicate: Any, timeout_s: float = DEADLINE_S, step_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step_s)
    return True

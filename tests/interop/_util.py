"""Helpers shared by the interop tests.

Only the pyzmq public API is used on sockets of either library, so the same helpers drive
purezmq and pyzmq sockets alike. Every wait is bounded: socket timeouts, ``poll`` with a
timeout, or a deadline.
"""

from __future__ import annotations

import hashlib
import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Any

#: Generous per-operation timeout (ms): far above loopback latency, small enough to fail fast.
OP_TIMEOUT_MS = 5000
#: Default overall deadline (s) for retry loops.
DEADLINE_S = 10.0


def lib_of(sock: Any) -> ModuleType:
    """The top-level module (``zmq`` or ``purezmq``) a socket object comes from."""
    return sys.modules[type(sock).__module__.split(".")[0]]


def prep(sock: Any, timeout_ms: int = OP_TIMEOUT_MS) -> Any:
    """linger 0 and bounded send/recv timeouts."""
    sock.linger = 0
    sock.rcvtimeo = timeout_ms
    sock.sndtimeo = timeout_ms
    return sock


def make_socket(context: Any, socket_type: int, timeout_ms: int = OP_TIMEOUT_MS) -> Any:
    return prep(context.socket(socket_type), timeout_ms)


def bind_any(sock: Any, transport: str, ipc_endpoint: str | None = None) -> str:
    """Bind on loopback tcp (random port) or on the given ipc endpoint; return the endpoint."""
    if transport == "tcp":
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        return f"tcp://127.0.0.1:{port}"
    if transport == "ipc":
        assert ipc_endpoint is not None
        sock.bind(ipc_endpoint)
        return ipc_endpoint
    raise ValueError(transport)


def free_tcp_port() -> int:
    """A loopback tcp port that is free right now (for tests that must re-bind the same port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port() -> int:
    """A loopback udp port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def digest(frames: Sequence[bytes]) -> list[tuple[int, str]]:
    """Compact, comparable description of a multipart message (size + hash of every frame)."""
    return [(len(f), hashlib.sha1(bytes(f)).hexdigest()[:12]) for f in frames]


def assert_frames(got: Sequence[Any], expected: Sequence[bytes]) -> None:
    got_b = [bytes(f) for f in got]
    if got_b != list(expected):
        raise AssertionError(f"frames differ: got {digest(got_b)} expected {digest(expected)}")


def recv_frames(sock: Any, timeout_ms: int = OP_TIMEOUT_MS) -> list[bytes]:
    """Receive one multipart message, failing clearly if none arrives within ``timeout_ms``."""
    if not sock.poll(timeout_ms):
        raise AssertionError(f"no message within {timeout_ms} ms on {sock!r}")
    return [bytes(f) for f in sock.recv_multipart()]


def sync_subscriber(pub: Any, sub: Any, topic: bytes, timeout_s: float = DEADLINE_S) -> None:
    """Make sure ``sub``'s subscription to ``topic`` is in effect at ``pub`` (slow-joiner guard).

    Publishes ``topic + b'-probe'`` until one reaches ``sub``; then publishes an end marker and
    drains the probes still in flight up to it. Afterwards ``sub`` has no pending message (unless
    a re-sent marker was still in flight) and everything ``pub`` sends that matches ``topic``
    reaches it, HWM permitting (one connection keeps order).
    """
    probe, marker = topic + b"-probe", topic + b"-sync-end"
    deadline = time.monotonic() + timeout_s
    while True:
        pub.send(probe)
        if sub.poll(20):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"subscription {topic!r} never took effect at the publisher")
    # The marker is re-sent if it does not show up (a PUB with a tiny SNDHWM may drop it).
    pub.send(marker)
    while True:
        if not sub.poll(1000):
            if time.monotonic() > deadline:
                raise AssertionError("subscriber sync marker never arrived")
            pub.send(marker)
            continue
        msg = [bytes(f) for f in sub.recv_multipart()]
        if msg == [marker]:
            break
        assert msg == [probe], f"unexpected message while syncing subscriber: {msg!r}"
    while sub.poll(0):  # duplicates of the marker, if it was re-sent
        msg = [bytes(f) for f in sub.recv_multipart()]
        assert msg == [marker], f"unexpected message while syncing subscriber: {msg!r}"


def drain(sock: Any, quiet_ms: int = 200, limit: int = 1_000_000) -> list[list[bytes]]:
    """Receive until nothing arrives for ``quiet_ms``; return the messages (at most ``limit``)."""
    out: list[list[bytes]] = []
    while len(out) < limit and sock.poll(quiet_ms):
        out.append([bytes(f) for f in sock.recv_multipart()])
    return out


def readiness_probe(
    send_probe: Callable[[], None],
    receivers: Iterable[Any],
    on_receive: Callable[[Any, list[bytes]], None] | None = None,
    timeout_s: float = DEADLINE_S,
) -> int:
    """Send probes until every receiver got at least one; returns the number of probes sent.

    Used to make sure every peer of a load-balancing socket is connected before counting. Each
    received probe is passed to ``on_receive`` (e.g. a REP must reply to it).
    """
    pending = list(receivers)
    sent = 0
    deadline = time.monotonic() + timeout_s
    while pending:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(pending)} peer(s) never received a probe")
        send_probe()
        sent += 1
        t_end = time.monotonic() + 0.02
        while time.monotonic() < t_end:
            for r in list(pending):
                if r.poll(0):
                    msg = [bytes(f) for f in r.recv_multipart()]
                    if on_receive is not None:
                        on_receive(r, msg)
                    pending.remove(r)
            if not pending:
                break
            time.sleep(0.001)
    return sent


def recv_kicking(sock: Any, kick: Iterable[Any], timeout_s: float = DEADLINE_S) -> list[bytes]:
    """Receive on ``sock`` while calling ``poll(0)`` on the ``kick`` sockets.

    libzmq processes some commands of a socket only when its owner thread touches it (libzmq#2267:
    a *bound* SUB/XSUB sends its subscriptions to a newly connected publisher only on its next
    poll/recv/send). Touching it from the waiting loop is what any libzmq application does anyway.
    """
    kick = list(kick)
    deadline = time.monotonic() + timeout_s
    while not sock.poll(20):
        for k in kick:
            k.poll(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no message within {timeout_s}s on {sock!r}")
    return [bytes(f) for f in sock.recv_multipart()]

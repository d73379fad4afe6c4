"""Reconnection: a libzmq peer in a subprocess is SIGKILLed and restarted on the same endpoint.

The zmq_impl socket is kept as is across the restart; traffic must resume without any user
action (no close, no re-connect), driven only by the library's reconnect logic (RECONNECT_IVL
50 ms) or, when zmq_impl is the bound side, by accepting the restarted peer.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ._util import DEADLINE_S, free_tcp_port, make_socket

pytestmark = pytest.mark.timeout(30)

PEER_SCRIPT = Path(__file__).with_name("peers") / "echo_peer.py"
RECONNECT_IVL_MS = 50


class Peer:
    """A pyzmq peer process (see peers/echo_peer.py)."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, str(PEER_SCRIPT), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 15.0) -> None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline() if ready else b""
        if line.strip() != b"READY":
            self.kill()
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            raise AssertionError(f"peer {self.args} did not start: {line!r} {err}")

    def kill(self) -> None:
        """SIGKILL: no clean ZMTP shutdown, the kernel just closes the sockets."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def peers():
    """Start peers with peers(*args); all are killed at teardown."""
    started: list[Peer] = []

    def start(*args: str) -> Peer:
        p = Peer(*args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.kill()


@pytest.fixture(params=["tcp", "ipc"])
def endpoint(request, ipc_endpoint: str) -> str:
    """A fixed endpoint that can be bound again after the peer bound to it died."""
    if request.param == "tcp":
        return f"tcp://127.0.0.1:{free_tcp_port()}"
    return ipc_endpoint


def round_trip(
    sock: Any, prefix: bytes, envelope: Sequence[bytes] = (), timeout_s: float = DEADLINE_S
) -> bytes:
    """Send ``envelope + [prefix-N]`` every 100 ms until a reply with our prefix comes back.

    Requests written just before the peer died are lost (that is how libzmq behaves too), hence
    the resend. Replies not carrying ``prefix`` are stale (earlier phases) and skipped.
    """
    envelope = list(envelope)
    deadline = time.monotonic() + timeout_s
    n = 0
    while time.monotonic() < deadline:
        token = b"%s-%d" % (prefix, n)
        sock.send_multipart([*envelope, token])
        n += 1
        t_end = time.monotonic() + 0.1
        while (left := t_end - time.monotonic()) > 0:
            if not sock.poll(max(1, int(left * 1000))):
                break
            reply = [bytes(f) for f in sock.recv_multipart()]
            if reply[:-1] == envelope and reply[-1].startswith(prefix + b"-"):
                return reply[-1]
    raise AssertionError(f"no echo for {prefix!r} within {timeout_s}s ({n} attempts)")


def test_connecting_dealer_survives_peer_restart(zmq_impl, ctx, peers, endpoint: str) -> None:
    dealer = make_socket(ctx, zmq_impl.DEALER)
    dealer.reconnect_ivl = RECONNECT_IVL_MS
    # Connect before anything listens: the connection is made once the peer appears.
    dealer.connect(endpoint)
    peer = peers("router-echo-bind", endpoint)
    round_trip(dealer, b"first")

    peer.kill()
    peer = peers("router-echo-bind", endpoint)
    round_trip(dealer, b"after-restart")

    peer.kill()
    peers("router-echo-bind", endpoint)
    round_trip(dealer, b"after-second-restart")


def test_connecting_req_relaxed_survives_peer_restart(zmq_impl, ctx, peers, endpoint: str) -> None:
    """REQ with REQ_RELAXED + REQ_CORRELATE may resend after a lost reply; the answer matches."""
    req = make_socket(ctx, zmq_impl.REQ)
    req.reconnect_ivl = RECONNECT_IVL_MS
    req.setsockopt(zmq_impl.REQ_RELAXED, 1)
    req.setsockopt(zmq_impl.REQ_CORRELATE, 1)
    peer = peers("rep-echo-bind", endpoint)
    req.connect(endpoint)

    def lazy_request(prefix: bytes) -> None:
        deadline = time.monotonic() + DEADLINE_S
        for n in range(1000):
            assert time.monotonic() < deadline, f"no reply for {prefix!r}"
            token = b"%s-%d" % (prefix, n)
            req.send(token)
            if req.poll(150):
                # With REQ_CORRELATE only the reply to the latest request can come through.
                assert req.recv_multipart() == [token]
                return

    lazy_request(b"first")
    peer.kill()
    peers("rep-echo-bind", endpoint)
    lazy_request(b"after-restart")


@pytest.mark.parametrize(
    "ids", [(b"peer-1", b"peer-2"), (b"peer", b"peer")], ids=["new_routing_id", "same_routing_id"]
)
def test_bound_router_accepts_restarted_peer(
    zmq_impl, ctx, peers, endpoint: str, ids: tuple[bytes, bytes]
) -> None:
    """zmq_impl ROUTER bound; the libzmq DEALER peer dies and a new one connects."""
    router = make_socket(ctx, zmq_impl.ROUTER)
    router.bind(endpoint)

    def greet_and_ping(rid: bytes, prefix: bytes) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while True:  # wait for this incarnation's hello
            assert router.poll(int(max(1, (deadline - time.monotonic()) * 1000))), "no hello"
            msg = [bytes(f) for f in router.recv_multipart()]
            if msg == [rid, b"hello"]:
                break
        assert round_trip(router, prefix, [rid]).startswith(prefix)

    old = peers("dealer-echo-connect", endpoint, ids[0].decode())
    greet_and_ping(ids[0], b"first")
    old.kill()
    peers("dealer-echo-connect", endpoint, ids[1].decode())
    greet_and_ping(ids[1], b"after-restart")


def test_router_forgets_dead_peer(zmq_impl, ctx, peers, endpoint: str) -> None:
    """With ROUTER_MANDATORY, sending to a SIGKILLed peer ends in EHOSTUNREACH (bounded wait)."""
    router = make_socket(ctx, zmq_impl.ROUTER)
    router.setsockopt(zmq_impl.ROUTER_MANDATORY, 1)
    router.bind(endpoint)
    peer = peers("dealer-echo-connect", endpoint, "mortal")
    assert [bytes(f) for f in router.recv_multipart()] == [b"mortal", b"hello"]
    assert round_trip(router, b"alive", [b"mortal"])
    peer.kill()
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            router.send_multipart([b"mortal", b"are-you-there"])
        except zmq_impl.ZMQError as exc:
            assert exc.errno == zmq_impl.EHOSTUNREACH
            break
        assert time.monotonic() < deadline, "ROUTER never noticed the peer died"
        router.poll(10)  # let the socket process the disconnect

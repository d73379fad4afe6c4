"""ZMTP 3.1 heartbeats (HEARTBEAT_IVL/TIMEOUT/TTL) against libzmq both ways, and against a peer
that goes silent after its handshake."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq
import zmq.utils.monitor as pymonitor
from reliability.test_engine_faults import RawPeer

import purezmq

pytestmark = pytest.mark.timeout(30)

IVL_MS, TIMEOUT_MS = 100, 300


def heartbeats(sock: Any) -> Any:
    sock.setsockopt(zmq.HEARTBEAT_IVL, IVL_MS)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, TIMEOUT_MS)
    sock.setsockopt(zmq.HEARTBEAT_TTL, 1000)
    sock.linger = 0
    sock.rcvtimeo = 5000
    return sock


@pytest.fixture
def ctx() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


def drops_seen(monitor: zmq.Socket, seconds: float) -> list[str]:
    """libzmq's connection events on ``monitor`` during ``seconds``."""
    seen = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if monitor.poll(int(left * 1000) + 1):
            event = pymonitor.recv_monitor_message(monitor)["event"]
            seen.append(zmq.Event(event).name)
    return seen


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("heartbeating", ["purezmq", "pyzmq", "both"])
def test_an_idle_live_connection_survives_heartbeats(
    ctx: purezmq.Context, pyctx: zmq.Context, ipc_endpoint: str, transport: str, heartbeating: str
) -> None:
    """Whichever side sends PINGs, the other answers with PONG in time: an idle connection
    is kept for many heartbeat timeouts (libzmq's monitor sees no disconnection)."""
    router = pyctx.socket(zmq.ROUTER)
    router.linger = 0
    router.rcvtimeo = 5000
    if heartbeating in ("pyzmq", "both"):
        heartbeats(router)
    endpoint = "tcp://127.0.0.1:*" if transport == "tcp" else ipc_endpoint
    router.bind(endpoint)
    monitor = router.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED)
    dealer = ctx.socket(purezmq.DEALER)
    if heartbeating in ("purezmq", "both"):
        heartbeats(dealer)
    else:
        dealer.linger = 0
        dealer.rcvtimeo = 5000
    dealer.connect(router.last_endpoint.decode())
    dealer.send(b"hello")
    identity, hello = router.recv_multipart()
    assert hello == b"hello"
    events = drops_seen(monitor, 5 * TIMEOUT_MS / 1000)
    assert events == ["ACCEPTED"], events
    router.send_multipart([identity, b"still here"])
    assert dealer.recv() == b"still here"
    router.disable_monitor()
    monitor.close()
    router.close()


def test_a_silent_peer_is_dropped_and_reconnected(ctx: purezmq.Context) -> None:
    """A peer that completes its handshake and then says nothing (a dead host, a cut network):
    after HEARTBEAT_TIMEOUT with no answer to a PING the connection is cut, and the DEALER
    connects again."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    dealer = heartbeats(ctx.socket(purezmq.DEALER))
    dealer.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
    first, _ = listener.accept()
    peer = RawPeer(first, b"ROUTER")
    began = time.monotonic()
    flags, body = peer.read_frame()
    assert flags & 0x04 and body[1 : 1 + body[0]] == b"PING", (flags, body)
    assert body[5:7] == (10).to_bytes(2, "big")  # HEARTBEAT_TTL 1000 ms, in deciseconds.
    assert peer.dropped(timeout=5)
    silent_for = time.monotonic() - began
    assert TIMEOUT_MS / 1000 * 0.8 <= silent_for < 3, silent_for
    second, _ = listener.accept()  # The reconnection.
    with RawPeer(second, b"ROUTER") as again:
        dealer.send(b"after")
        assert again.read_message() == [b"after"]
    peer.sock.close()
    listener.close()


def test_a_peer_that_answers_is_kept(ctx: purezmq.Context) -> None:
    """The same peer by hand, answering each PING with a PONG: never dropped."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    dealer = heartbeats(ctx.socket(purezmq.DEALER))
    dealer.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
    conn, _ = listener.accept()
    with RawPeer(conn, b"ROUTER") as peer:
        pings = 0
        deadline = time.monotonic() + 5 * TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            flags, body = peer.read_frame()
            assert flags & 0x04, body
            assert body[1 : 1 + body[0]] == b"PING"
            pings += 1
            context = body[1 + body[0] + 2 :]
            peer.send(bytes([0x04, 5 + len(context)]) + b"\x04PONG" + context)
        assert pings >= 5
        dealer.send(b"alive")
        assert peer.read_message() == [b"alive"]
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()  # No reconnection: the first connection was never dropped.
    listener.close()


def _ping(ttl_deciseconds: int) -> bytes:
    return b"\x04\x07\x04PING" + ttl_deciseconds.to_bytes(2, "big")


@pytest.mark.parametrize("engine", ["pyzmq", "purezmq", "purezmq.asyncio"])
@pytest.mark.parametrize("keeps_pinging", [False, True], ids=["silent", "pinging"])
def test_the_ttl_a_peer_asks_for_is_enforced(engine: str, keeps_pinging: bool) -> None:
    """A peer's PING carrying a TTL (its HEARTBEAT_TTL) asks to be dropped when nothing else
    comes from it within that time, even by a socket with no heartbeats of its own: a peer
    that goes silent after one PING is dropped after the TTL, one that keeps pinging is kept.
    The same on pyzmq (the reference) and on both purezmq engines."""
    import asyncio

    ttl_ds = 4  # 400 ms

    def exercise(port: int) -> float | None:
        peer = RawPeer.connect(port, b"DEALER")
        began = time.monotonic()
        peer.send(_ping(ttl_ds))
        try:
            if keeps_pinging:
                for _ in range(8):  # 1.2 s: three TTLs
                    time.sleep(0.15)
                    peer.send(_ping(ttl_ds))
                return None if not peer.dropped(timeout=0.1) else time.monotonic() - began
            return time.monotonic() - began if peer.dropped(timeout=5) else None
        finally:
            peer.sock.close()

    if engine == "purezmq.asyncio":
        import purezmq.asyncio as pza

        async def main() -> float | None:
            context = pza.Context()
            router = context.socket(purezmq.ROUTER)
            router.linger = 0
            port = router.bind_to_random_port("tcp://127.0.0.1")
            try:
                return await asyncio.get_running_loop().run_in_executor(None, exercise, port)
            finally:
                router.close()
                context.term()

        dropped_after = asyncio.run(asyncio.wait_for(main(), 20))
    else:
        lib = zmq if engine == "pyzmq" else purezmq
        context = lib.Context()
        router = context.socket(lib.ROUTER)
        router.linger = 0
        try:
            dropped_after = exercise(router.bind_to_random_port("tcp://127.0.0.1"))
        finally:
            context.destroy(linger=0)
    if keeps_pinging:
        assert dropped_after is None
    else:
        assert dropped_after is not None and 0.3 <= dropped_after < 3, dropped_after

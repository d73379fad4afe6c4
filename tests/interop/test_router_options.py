"""The ROUTER and connection options: ROUTER_HANDOVER, PROBE_ROUTER, CONNECT_ROUTING_ID (the
same test body on pyzmq, libzmq 4.3.5, and purezmq, with a peer of the other library), and the
draft ones pyzmq's libzmq refuses and Debian's 4.3.4 does not have (ROUTER_NOTIFY,
HELLO_MSG, DISCONNECT_MSG, HICCUP_MSG): those follow the manual, against pyzmq peers. Both
purezmq engines."""

from __future__ import annotations

import asyncio
import errno
import importlib
import struct
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import zmq as pyzmq

import purezmq

pytestmark = pytest.mark.timeout(60)

WAIT_MS = 5000


@pytest.fixture(params=["zmq", "purezmq"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def ctx(lib: ModuleType) -> Iterator[Any]:
    context = lib.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def peer_ctx(lib: ModuleType) -> Iterator[Any]:
    """A context of the other library: the peers."""
    context = (purezmq if lib is pyzmq else pyzmq).Context()
    yield context
    context.destroy(linger=0)


def _sock(context: Any, kind: int, timeout_ms: int = WAIT_MS) -> Any:
    sock = context.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = timeout_ms
    return sock


def _rebind(context: Any, port: int) -> Any:
    """A new ROUTER on the port a closed one had (a socket's close lets the port go a moment
    later, in its I/O thread)."""
    sock = _sock(context, pyzmq.ROUTER)
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        try:
            sock.bind(f"tcp://127.0.0.1:{port}")
            return sock
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _nothing(sock: Any, wait_ms: int = 300) -> bool:
    return sock.poll(wait_ms) == 0


# -- ROUTER_HANDOVER ------------------------------------------------------------------------------


@pytest.mark.parametrize("handover", [1, 0], ids=["handover", "no-handover"])
def test_router_handover(lib: ModuleType, ctx: Any, peer_ctx: Any, handover: int) -> None:
    router = _sock(ctx, lib.ROUTER)
    router.setsockopt(lib.ROUTER_HANDOVER, handover)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    first = _sock(peer_ctx, pyzmq.DEALER)
    first.setsockopt(pyzmq.ROUTING_ID, b"A")
    first.connect(f"tcp://127.0.0.1:{port}")
    first.send(b"from first")
    assert router.recv_multipart() == [b"A", b"from first"]
    second = _sock(peer_ctx, pyzmq.DEALER)
    second.setsockopt(pyzmq.ROUTING_ID, b"A")
    second.connect(f"tcp://127.0.0.1:{port}")
    second.send(b"from second")
    if handover:
        # The new connection takes the id over: its messages come in, replies go to it.
        assert router.recv_multipart() == [b"A", b"from second"]
        router.send_multipart([b"A", b"to A"])
        assert second.recv() == b"to A"
        assert _nothing(first)
        # The old connection is cut off, not closed (libzmq's way): what it sends is not read.
        first.send(b"first again")
        assert _nothing(router)
    else:
        # The first keeps the id; the newcomer with the same one is not heard.
        assert _nothing(router)
        router.send_multipart([b"A", b"to A"])
        assert first.recv() == b"to A"
        assert _nothing(second)


def test_router_handover_asyncio() -> None:
    import purezmq.asyncio as pza

    pyctx = pyzmq.Context()

    async def main() -> None:
        context = pza.Context()
        router = context.socket(purezmq.ROUTER)
        router.router_handover = 1
        port = router.bind_to_random_port("tcp://127.0.0.1")
        loop = asyncio.get_running_loop()
        dealers = []
        for n in range(2):
            dealer = _sock(pyctx, pyzmq.DEALER)
            dealer.setsockopt(pyzmq.ROUTING_ID, b"A")
            dealer.connect(f"tcp://127.0.0.1:{port}")
            dealer.send(b"from %d" % n)
            got = await asyncio.wait_for(router.recv_multipart(), WAIT_MS / 1000)
            assert got == [b"A", b"from %d" % n]
            dealers.append(dealer)
        await router.send_multipart([b"A", b"to A"])
        assert await loop.run_in_executor(None, dealers[1].recv) == b"to A"
        assert await loop.run_in_executor(None, _nothing, dealers[0])
        router.close(linger=0)
        context.term()

    try:
        asyncio.run(asyncio.wait_for(main(), 20))
    finally:
        pyctx.destroy(linger=0)


# -- PROBE_ROUTER ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["DEALER", "REQ", "ROUTER"])
def test_probe_router_on_connect(lib: ModuleType, ctx: Any, peer_ctx: Any, kind: str) -> None:
    router = _sock(peer_ctx, pyzmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    prober = _sock(ctx, getattr(lib, kind))
    prober.setsockopt(lib.ROUTING_ID, b"prober")
    prober.setsockopt(lib.PROBE_ROUTER, 1)
    prober.connect(f"tcp://127.0.0.1:{port}")
    assert router.recv_multipart() == [b"prober", b""]


def test_probe_router_from_the_bound_side(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    """On the connections a socket accepts too. (libzmq's ROUTER writes it when it takes the
    new connection in, at its next call: the recv here.)"""
    router = _sock(ctx, lib.ROUTER)
    router.setsockopt(lib.PROBE_ROUTER, 1)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = _sock(peer_ctx, pyzmq.DEALER)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"hello")
    assert router.recv_multipart()[1:] == [b"hello"]
    assert dealer.recv_multipart() == [b""]


def test_probe_router_once_per_dealer_connect(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    """A DEALER's pipe outlives its reconnections: one probe, not one per connection."""
    router = _sock(peer_ctx, pyzmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = _sock(ctx, lib.DEALER)
    dealer.reconnect_ivl = 20
    dealer.setsockopt(lib.ROUTING_ID, b"D")
    dealer.setsockopt(lib.PROBE_ROUTER, 1)
    monitor = dealer.get_monitor_socket(lib.EVENT_DISCONNECTED)
    monitor.rcvtimeo = WAIT_MS
    dealer.connect(f"tcp://127.0.0.1:{port}")
    assert router.recv_multipart() == [b"D", b""]
    router.close()
    # Sent before the DEALER sees the close, "after" may go down the dying connection and be
    # lost (libzmq does the same): wait for the disconnect, then it waits in the pipe.
    event, _ = struct.unpack("=HI", monitor.recv_multipart()[0])
    assert event == lib.EVENT_DISCONNECTED
    again = _rebind(peer_ctx, port)
    dealer.send(b"after")
    assert again.recv_multipart() == [b"D", b"after"]


def test_probe_router_asyncio() -> None:
    import purezmq.asyncio as pza

    pyctx = pyzmq.Context()
    router = _sock(pyctx, pyzmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")

    async def main() -> list[bytes]:
        context = pza.Context()
        dealer = context.socket(purezmq.DEALER)
        dealer.routing_id = b"aio"
        dealer.probe_router = 1
        dealer.connect(f"tcp://127.0.0.1:{port}")
        got = await asyncio.get_running_loop().run_in_executor(None, router.recv_multipart)
        dealer.close(linger=0)
        context.term()
        return got

    try:
        assert asyncio.run(asyncio.wait_for(main(), 20)) == [b"aio", b""]
    finally:
        pyctx.destroy(linger=0)


# -- CONNECT_ROUTING_ID ---------------------------------------------------------------------------


def test_connect_routing_id(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    server = _sock(peer_ctx, pyzmq.ROUTER)
    server.setsockopt(pyzmq.ROUTING_ID, b"ignored-here")
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client = _sock(ctx, lib.ROUTER)
    client.setsockopt(lib.ROUTER_MANDATORY, 1)
    client.setsockopt(lib.CONNECT_ROUTING_ID, b"server-1")
    client.connect(f"tcp://127.0.0.1:{port}")
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:  # Until the connection is up: EHOSTUNREACH before.
        try:
            client.send_multipart([b"server-1", b"by the name I gave it"])
            break
        except lib.ZMQError as exc:
            assert exc.errno == errno.EHOSTUNREACH
            assert time.monotonic() < deadline
            time.sleep(0.01)
    _, body = server.recv_multipart()
    assert body == b"by the name I gave it"
    # Only that connect took the id: a second connect gets the peer's own id.
    other = _sock(peer_ctx, pyzmq.ROUTER)
    other.setsockopt(pyzmq.ROUTING_ID, b"its-own")
    other_port = other.bind_to_random_port("tcp://127.0.0.1")
    client.connect(f"tcp://127.0.0.1:{other_port}")
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        try:
            client.send_multipart([b"its-own", b"hello"])
            break
        except lib.ZMQError:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert other.recv_multipart()[1] == b"hello"


def test_purezmq_connect_routing_id_in_use_is_einval() -> None:
    """libzmq 4.3.5 asserts (the process aborts) on a CONNECT_ROUTING_ID already in use;
    purezmq's connect says EINVAL and the socket goes on."""
    ctx = purezmq.Context()
    try:
        client = _sock(ctx, purezmq.ROUTER)
        client.setsockopt(purezmq.CONNECT_ROUTING_ID, b"twice")
        client.connect("tcp://127.0.0.1:9")
        client.setsockopt(purezmq.CONNECT_ROUTING_ID, b"twice")
        with pytest.raises(purezmq.ZMQError) as info:
            client.connect("tcp://127.0.0.1:10")
        assert info.value.errno == errno.EINVAL
        client.disconnect("tcp://127.0.0.1:9")  # Frees it.
        client.setsockopt(purezmq.CONNECT_ROUTING_ID, b"twice")
        client.connect("tcp://127.0.0.1:11")
    finally:
        ctx.destroy(linger=0)


# -- ROUTER_NOTIFY, HELLO_MSG, DISCONNECT_MSG, HICCUP_MSG (drafts, purezmq only) -------------------


@pytest.fixture
def pyctx2() -> Iterator[pyzmq.Context]:
    context = pyzmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.mark.parametrize("notify", [0, 1, 2, 3])
def test_router_notify(pctx: Any, pyctx2: Any, notify: int) -> None:
    router = _sock(pctx, purezmq.ROUTER)
    router.setsockopt(purezmq.ROUTER_NOTIFY, notify)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = _sock(pyctx2, pyzmq.DEALER)
    dealer.setsockopt(pyzmq.ROUTING_ID, b"peer")
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"hello")
    if notify & purezmq.NOTIFY_CONNECT:
        assert router.recv_multipart() == [b"peer", b""]
    assert router.recv_multipart() == [b"peer", b"hello"]
    dealer.close()
    if notify & purezmq.NOTIFY_DISCONNECT:
        assert router.recv_multipart() == [b"peer", b""]
    assert _nothing(router)


def test_hello_msg_from_both_ends(pctx: Any, pyctx2: Any) -> None:
    router = _sock(pctx, purezmq.ROUTER)
    router.setsockopt(purezmq.HELLO_MSG, b"welcome")
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = _sock(pyctx2, pyzmq.DEALER)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    assert dealer.recv() == b"welcome"  # The ROUTER greets each connection it accepts.
    server = _sock(pyctx2, pyzmq.ROUTER)
    server_port = server.bind_to_random_port("tcp://127.0.0.1")
    client = _sock(pctx, purezmq.DEALER)
    client.setsockopt(purezmq.ROUTING_ID, b"c")
    client.setsockopt(purezmq.HELLO_MSG, b"hi, it is me")
    client.connect(f"tcp://127.0.0.1:{server_port}")
    client.send(b"queued first")  # (Queued before the connection is made: after the hello.)
    assert server.recv_multipart() == [b"c", b"hi, it is me"]
    assert server.recv_multipart() == [b"c", b"queued first"]


def test_disconnect_msg(pctx: Any, pyctx2: Any) -> None:
    router = _sock(pctx, purezmq.ROUTER)
    router.setsockopt(purezmq.DISCONNECT_MSG, b"gone")
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = _sock(pyctx2, pyzmq.DEALER)
    dealer.setsockopt(pyzmq.ROUTING_ID, b"peer")
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"last words")
    assert router.recv_multipart() == [b"peer", b"last words"]
    dealer.close()
    assert router.recv_multipart() == [b"peer", b"gone"]


def test_hiccup_msg(pctx: Any, pyctx2: Any) -> None:
    server = _sock(pyctx2, pyzmq.ROUTER)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    dealer = _sock(pctx, purezmq.DEALER)
    dealer.reconnect_ivl = 20
    dealer.setsockopt(purezmq.HICCUP_MSG, b"hiccup")
    dealer.setsockopt(purezmq.ROUTING_ID, b"d")
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"one")
    assert server.recv_multipart() == [b"d", b"one"]
    assert _nothing(dealer)  # The first connection is no hiccup.
    server.close()
    again = _rebind(pyctx2, port)
    assert dealer.recv() == b"hiccup"  # Connected again.
    dealer.send(b"two")
    assert again.recv_multipart() == [b"d", b"two"]


def test_router_notify_and_hello_asyncio() -> None:
    import purezmq.asyncio as pza

    pyctx = pyzmq.Context()

    async def main() -> None:
        context = pza.Context()
        router = context.socket(purezmq.ROUTER)
        router.setsockopt(purezmq.ROUTER_NOTIFY, 3)
        router.setsockopt(purezmq.HELLO_MSG, b"welcome")
        port = router.bind_to_random_port("tcp://127.0.0.1")
        loop = asyncio.get_running_loop()
        dealer = _sock(pyctx, pyzmq.DEALER)
        dealer.setsockopt(pyzmq.ROUTING_ID, b"peer")
        dealer.connect(f"tcp://127.0.0.1:{port}")

        async def recv() -> list[bytes]:
            return await asyncio.wait_for(router.recv_multipart(), WAIT_MS / 1000)

        assert await recv() == [b"peer", b""]
        assert await loop.run_in_executor(None, dealer.recv) == b"welcome"
        dealer.close()
        assert await recv() == [b"peer", b""]
        router.close(linger=0)
        context.term()

    try:
        asyncio.run(asyncio.wait_for(main(), 20))
    finally:
        pyctx.destroy(linger=0)

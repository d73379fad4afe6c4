"""Socket.stats() (purezmq's own: pyzmq has no such call): totals and current peers, against
pyzmq peers, on both engines."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq as pyzmq

import purezmq
import purezmq.asyncio as pza

pytestmark = pytest.mark.timeout(60)

WAIT_MS = 5000


@pytest.fixture
def ctx() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


def _sock(context: Any, kind: int) -> Any:
    sock = context.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = WAIT_MS
    return sock


def test_a_fresh_socket(ctx: purezmq.Context) -> None:
    stats = _sock(ctx, purezmq.PUSH).stats()
    assert stats == {
        "type": "PUSH",
        "messages_in": 0,
        "messages_out": 0,
        "bytes_in": 0,
        "bytes_out": 0,
        "connections": 0,
        "disconnections": 0,
        "reconnects": 0,
        "handshake_failures": 0,
        "dropped": 0,
        "peers": [],
    }


def test_messages_dropped_by_design_are_counted(ctx: purezmq.Context) -> None:
    """A ROUTER's message to nobody, a PUB's to a subscriber at its high-water mark."""
    router = _sock(ctx, purezmq.ROUTER)
    router.send_multipart([b"nobody", b"lost"])
    assert router.stats()["dropped"] == 1
    pub = _sock(ctx, purezmq.PUB)
    pub.sndhwm = 2
    pub.bind("inproc://dropping")
    sub = _sock(ctx, purezmq.SUB)
    sub.rcvhwm = 2
    sub.subscribe(b"")
    sub.connect("inproc://dropping")
    for n in range(10):
        pub.send(b"%d" % n)
    received = 0
    while sub.poll(100):
        sub.recv()
        received += 1
    assert received < 10
    assert pub.stats()["dropped"] == 10 - received


def test_reconnections_are_counted(ctx: purezmq.Context) -> None:
    pull = _sock(ctx, purezmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = _sock(ctx, purezmq.PUSH)
    push.reconnect_ivl = 20
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"first")
    assert pull.recv() == b"first"
    pull.close()
    pull = _sock(ctx, purezmq.PULL)
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:  # (The old listener closes in the I/O thread, soon after close().)
        try:
            pull.bind(f"tcp://127.0.0.1:{port}")
            break
        except purezmq.ZMQError:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    push.send(b"second")
    assert pull.recv() == b"second"
    assert push.stats()["reconnects"] == 1


def test_sending_and_receiving_with_pyzmq(ctx: purezmq.Context, pyctx: Any) -> None:
    sink = _sock(pyctx, pyzmq.PULL)
    port = sink.bind_to_random_port("tcp://127.0.0.1")
    push = _sock(ctx, purezmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    for n in range(100):
        push.send(b"%03d" % n)
    for _ in range(100):
        sink.recv()
    stats = push.stats()
    assert stats["messages_out"] == 100
    assert stats["bytes_out"] >= 100 * 5  # Frames and the handshake on top.
    assert stats["connections"] == 1 and stats["disconnections"] == 0
    [peer] = stats["peers"]
    assert peer["endpoint"] == f"tcp://127.0.0.1:{port}"
    assert peer["address"] == f"127.0.0.1:{port}" and peer["connected"] is True
    assert peer["queued_out"] == 0

    source = _sock(pyctx, pyzmq.PUSH)
    pull = _sock(ctx, purezmq.PULL)
    pull_port = pull.bind_to_random_port("tcp://127.0.0.1")
    source.connect(f"tcp://127.0.0.1:{pull_port}")
    for _ in range(50):
        source.send(b"x" * 1000)
    for _ in range(50):
        pull.recv()
    stats = pull.stats()
    assert stats["messages_in"] == 50
    assert stats["bytes_in"] >= 50 * 1000
    [peer] = stats["peers"]
    assert peer["endpoint"] == f"tcp://127.0.0.1:{pull_port}" and peer["connected"]


def test_router_peers_by_routing_id(ctx: purezmq.Context, pyctx: Any) -> None:
    router = _sock(ctx, purezmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealers = []
    for name in (b"alpha", b"beta"):
        dealer = _sock(pyctx, pyzmq.DEALER)
        dealer.setsockopt(pyzmq.ROUTING_ID, name)
        dealer.connect(f"tcp://127.0.0.1:{port}")
        dealer.send(b"hi")
        router.recv_multipart()
        dealers.append(dealer)
    ids = sorted(peer["routing_id"] for peer in router.stats()["peers"])
    assert ids == [b"alpha", b"beta"]
    dealers[0].close()
    deadline = time.monotonic() + WAIT_MS / 1000
    while router.stats()["disconnections"] < 1:
        assert time.monotonic() < deadline, "the disconnection was not counted"
        time.sleep(0.01)
    assert [peer["routing_id"] for peer in router.stats()["peers"]] == [b"beta"]


def test_failed_handshakes_are_counted(ctx: purezmq.Context) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def garbage() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=garbage, daemon=True)
    thread.start()
    push = _sock(ctx, purezmq.PUSH)
    push.reconnect_ivl = 20
    push.connect(f"tcp://127.0.0.1:{port}")
    thread.join(WAIT_MS / 1000)
    deadline = time.monotonic() + WAIT_MS / 1000
    while push.stats()["handshake_failures"] < 2:
        assert time.monotonic() < deadline, push.stats()
        time.sleep(0.01)
    stats = push.stats()
    assert stats["connections"] >= 2 and stats["disconnections"] >= 2
    listener.close()


def test_a_closed_socket(ctx: purezmq.Context) -> None:
    sock = _sock(ctx, purezmq.PULL)
    sock.close()
    with pytest.raises(purezmq.ZMQError) as info:
        sock.stats()
    assert info.value.errno == errno.ENOTSOCK


def test_asyncio_socket_stats(pyctx: Any) -> None:
    sink = _sock(pyctx, pyzmq.PULL)
    port = sink.bind_to_random_port("tcp://127.0.0.1")

    async def main() -> dict[str, Any]:
        context = pza.Context()
        push = context.socket(purezmq.PUSH)
        push.connect(f"tcp://127.0.0.1:{port}")
        for _ in range(10):
            await push.send(b"aio")
        loop = asyncio.get_running_loop()
        for _ in range(10):
            await loop.run_in_executor(None, sink.recv)
        stats = push.stats()
        push.close(linger=0)
        context.term()
        return stats

    stats = asyncio.run(asyncio.wait_for(main(), 20))
    assert stats["messages_out"] == 10 and stats["connections"] == 1


def test_request_reply_fast_paths_are_counted(ctx: purezmq.Context, pyctx: Any) -> None:
    """A reply written at once from the socket's thread, a receive that reads the connection
    itself (the threaded engine's fast paths): counted as any other."""
    rep = _sock(pyctx, pyzmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = _sock(ctx, purezmq.REQ)
    req.connect(f"tcp://127.0.0.1:{port}")
    for n in range(20):
        req.send(b"%d" % n)
        rep.send(rep.recv())
        assert req.recv() == b"%d" % n
    stats = req.stats()
    assert (stats["messages_out"], stats["messages_in"]) == (20, 20)


def test_context_stats_and_prometheus_text(ctx: purezmq.Context, pyctx: Any) -> None:
    sink = _sock(pyctx, pyzmq.PULL)
    port = sink.bind_to_random_port("tcp://127.0.0.1")
    push = _sock(ctx, purezmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    idle = _sock(ctx, purezmq.SUB)
    closed = _sock(ctx, purezmq.PAIR)
    closed.close()
    for _ in range(3):
        push.send(b"m")
    for _ in range(3):
        sink.recv()
    stats = ctx.stats()
    assert sorted(s["type"] for s in stats) == ["PUSH", "SUB"]  # (The closed one is gone.)
    text = ctx.metrics_text()
    lines = text.splitlines()
    assert "# TYPE purezmq_messages_out_total counter" in lines
    index = next(i for i, s in enumerate(stats) if s["type"] == "PUSH")
    assert f'purezmq_messages_out_total{{socket="{index}",type="PUSH"}} 3' in lines
    assert f'purezmq_peers{{socket="{index}",type="PUSH"}} 1' in lines
    assert idle.stats()["peers"] == []

"""ZMTP 2.0 peers (libzmq 3.x). No libzmq 3 is packaged here: ``Zmtp2Peer`` is a minimal peer
written from RFC 15 (signature, revision 1, socket type, identity frame; frames with MORE and
LONG flags, no commands). Each test body runs against pyzmq (libzmq 4.3.5, which still talks to
2.0 peers: the reference that the hand-written peer is right) and against purezmq, on both of
purezmq's engines where it matters."""

from __future__ import annotations

import asyncio
import importlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

import purezmq
import purezmq.asyncio as pza

pytestmark = pytest.mark.timeout(60)

SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"
TYPES = {"PAIR": 0, "PUB": 1, "SUB": 2, "REQ": 3, "REP": 4, "DEALER": 5, "ROUTER": 6}
TYPES.update({"PULL": 7, "PUSH": 8, "XPUB": 9, "XSUB": 10})
WAIT = 5.0


class Zmtp2Peer:
    """One ZMTP 2.0 connection, by hand."""

    def __init__(self, sock: socket.socket, socket_type: str, identity: bytes = b"") -> None:
        self.sock = sock
        sock.settimeout(WAIT)
        sock.sendall(SIGNATURE + b"\x01" + bytes((TYPES[socket_type], 0, len(identity))) + identity)
        theirs = self._exact(11)
        assert theirs[:10] == SIGNATURE[:1] + theirs[1:9] + b"\x7f", theirs
        self.peer_revision = theirs[10]
        self.peer_type = self._exact(1)[0]
        flags, size = self._exact(2)
        assert flags == 0, flags
        self.peer_identity = self._exact(size)

    @classmethod
    def connect(cls, port: int, socket_type: str, identity: bytes = b"") -> Zmtp2Peer:
        return cls(
            socket.create_connection(("127.0.0.1", port), timeout=WAIT), socket_type, identity
        )

    def _exact(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed by the other end")
            data += chunk
        return data

    def send(self, frames: list[bytes]) -> None:
        out = b""
        for index, frame in enumerate(frames):
            more = 1 if index < len(frames) - 1 else 0
            if len(frame) > 255:
                out += bytes((more | 2,)) + struct.pack(">Q", len(frame)) + frame
            else:
                out += bytes((more, len(frame))) + frame
        self.sock.sendall(out)

    def recv(self) -> list[bytes]:
        frames = []
        while True:
            flags = self._exact(1)[0]
            assert not flags & 0x04, "a command sent to a ZMTP 2.0 peer"
            size = struct.unpack(">Q", self._exact(8))[0] if flags & 2 else self._exact(1)[0]
            frames.append(self._exact(size))
            if not flags & 1:
                return frames

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["zmq", "purezmq"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def ctx(lib: ModuleType) -> Iterator[Any]:
    context = lib.Context()
    yield context
    context.destroy(linger=0)


def _sock(context: Any, lib: ModuleType, kind: str) -> Any:
    sock = context.socket(getattr(lib, kind))
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = int(WAIT * 1000)
    return sock


class Listener:
    """A tcp port where a ZMTP 2.0 peer waits for the socket under test to connect."""

    def __init__(self, socket_type: str, identity: bytes = b"") -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(WAIT)
        self.port = self.server.getsockname()[1]
        self.peer: Zmtp2Peer | None = None
        self._thread = threading.Thread(target=self._accept, args=(socket_type, identity))
        self._thread.start()

    def _accept(self, socket_type: str, identity: bytes) -> None:
        conn, _ = self.server.accept()
        self.peer = Zmtp2Peer(conn, socket_type, identity)

    def wait(self) -> Zmtp2Peer:
        self._thread.join(WAIT)
        assert self.peer is not None, "the socket did not connect"
        return self.peer

    def close(self) -> None:
        if self.peer is not None:
            self.peer.close()
        self.server.close()


def test_bound_pull_takes_a_2_0_push(lib: ModuleType, ctx: Any) -> None:
    pull = _sock(ctx, lib, "PULL")
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    peer = Zmtp2Peer.connect(port, "PUSH")
    assert peer.peer_type == TYPES["PULL"] and peer.peer_identity == b""
    peer.send([b"from", b"libzmq 3", b"x" * 1000])
    assert pull.recv_multipart() == [b"from", b"libzmq 3", b"x" * 1000]
    peer.close()


def test_connecting_push_to_a_2_0_pull(lib: ModuleType, ctx: Any) -> None:
    listener = Listener("PULL")
    try:
        push = _sock(ctx, lib, "PUSH")
        push.connect(f"tcp://127.0.0.1:{listener.port}")
        peer = listener.wait()
        assert peer.peer_revision >= 1 and peer.peer_type == TYPES["PUSH"]
        push.send_multipart([b"to", b"libzmq 3"])
        assert peer.recv() == [b"to", b"libzmq 3"]
    finally:
        listener.close()


def test_req_rep_with_a_2_0_peer(lib: ModuleType, ctx: Any) -> None:
    rep = _sock(ctx, lib, "REP")
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    peer = Zmtp2Peer.connect(port, "REQ")
    peer.send([b"", b"question"])  # A REQ's envelope: the empty delimiter first.
    assert rep.recv() == b"question"
    rep.send(b"answer")
    assert peer.recv() == [b"", b"answer"]
    peer.close()


def test_router_takes_the_identity_of_the_2_0_greeting(lib: ModuleType, ctx: Any) -> None:
    router = _sock(ctx, lib, "ROUTER")
    port = router.bind_to_random_port("tcp://127.0.0.1")
    peer = Zmtp2Peer.connect(port, "DEALER", identity=b"old-dealer")
    peer.send([b"hello"])
    assert router.recv_multipart() == [b"old-dealer", b"hello"]
    router.send_multipart([b"old-dealer", b"back"])
    assert peer.recv() == [b"back"]
    peer.close()


def test_a_2_0_subscriber(lib: ModuleType, ctx: Any) -> None:
    """Subscriptions from a 2.0 SUB are messages, b"\\x01topic"; the publisher filters."""
    pub = _sock(ctx, lib, "PUB")
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    peer = Zmtp2Peer.connect(port, "SUB")
    peer.send([b"\x01weather"])
    deadline = time.monotonic() + WAIT
    peer.sock.settimeout(0.05)
    got: list[bytes] | None = None
    while got is None and time.monotonic() < deadline:
        pub.send(b"sports: skipped")
        pub.send(b"weather: sunny")
        try:
            got = peer.recv()
        except TimeoutError:
            continue
    assert got == [b"weather: sunny"]
    peer.close()


def test_a_2_0_publisher(lib: ModuleType, ctx: Any) -> None:
    """A SUB connecting to a 2.0 PUB sends it its subscriptions as messages."""
    listener = Listener("PUB")
    try:
        sub = _sock(ctx, lib, "SUB")
        sub.subscribe(b"news")
        sub.connect(f"tcp://127.0.0.1:{listener.port}")
        peer = listener.wait()
        assert peer.recv() == [b"\x01news"]
        peer.send([b"news: today"])
        assert sub.recv() == b"news: today"
    finally:
        listener.close()


def test_plain_refuses_a_2_0_peer(lib: ModuleType, ctx: Any) -> None:
    pull = _sock(ctx, lib, "PULL")
    pull.plain_server = True
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    conn.sendall(SIGNATURE + b"\x01" + bytes((TYPES["PUSH"], 0, 0)))
    received = b""
    try:
        while chunk := conn.recv(4096):  # Until it is dropped (a timeout fails the test).
            received += chunk
    except ConnectionResetError:
        pass  # (libzmq resets it.)
    assert len(received) <= 11  # At most the signature and version: no 2.0 greeting for it.
    conn.close()


def test_purezmq_asyncio_with_a_2_0_peer() -> None:
    async def main() -> list[bytes]:
        context = pza.Context()
        router = context.socket(purezmq.ROUTER)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        loop = asyncio.get_running_loop()
        peer = await loop.run_in_executor(None, Zmtp2Peer.connect, port, "DEALER", b"aio")
        peer.send([b"over asyncio"])
        got = await asyncio.wait_for(router.recv_multipart(), WAIT)
        await router.send_multipart([b"aio", b"reply"])
        assert await loop.run_in_executor(None, peer.recv) == [b"reply"]
        peer.close()
        router.close(linger=0)
        context.term()
        return got

    assert asyncio.run(asyncio.wait_for(main(), 20)) == [b"aio", b"over asyncio"]


def test_purezmq_heartbeats_send_no_ping_to_a_2_0_peer() -> None:
    """PING is a ZMTP 3.1 command: a 2.0 peer must not get one (it would drop the connection)."""
    context = purezmq.Context()
    try:
        pull = _sock(context, purezmq, "PULL")
        pull.heartbeat_ivl = 50
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        peer = Zmtp2Peer.connect(port, "PUSH")
        peer.sock.settimeout(0.3)
        with pytest.raises((TimeoutError, socket.timeout)):
            peer.recv()  # Nothing comes for several heartbeat intervals (a PING would fail).
        peer.send([b"still fine"])
        assert pull.recv() == b"still fine"
        peer.close()
    finally:
        context.destroy(linger=0)

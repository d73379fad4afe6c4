"""A hand-written ZMTP 3.0 peer (raw TCP socket) against real purezmq sockets.

ZMTP 3.0 (RFC 23) has no SUBSCRIBE/CANCEL commands: subscriptions travel as data frames
b'\\x01topic' / b'\\x00topic' (RFC 29). A purezmq socket must accept those from a 3.0 SUB and must
send them that way to a 3.0 PUB. Frames are parsed here, independently of purezmq.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator

import pytest

import purezmq

IO_TIMEOUT = 3.0  # seconds, per raw-socket operation
DEADLINE = 5.0  # seconds, for retry loops

MORE, LONG, COMMAND = 0x01, 0x02, 0x04


# -- a minimal raw ZMTP peer ---------------------------------------------------------------------


def greeting(minor: int) -> bytes:
    return (
        b"\xff"
        + b"\x00" * 8
        + b"\x7f"
        + bytes((3, minor))
        + b"NULL".ljust(20, b"\x00")
        + b"\x00"
        + b"\x00" * 31
    )


def frame(body: bytes, flags: int = 0) -> bytes:
    if len(body) > 255:
        return bytes((flags | LONG,)) + struct.pack(">Q", len(body)) + body
    return bytes((flags, len(body))) + body


def command(name: bytes, data: bytes = b"") -> bytes:
    return frame(bytes((len(name),)) + name + data, COMMAND)


def ready(socket_type: bytes) -> bytes:
    name = b"Socket-Type"
    props = bytes((len(name),)) + name + struct.pack(">I", len(socket_type)) + socket_type
    return command(b"READY", props)


class RawPeer:
    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(IO_TIMEOUT)
        self.sock = sock

    def read_exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise AssertionError(f"connection closed after {len(data)} of {size} bytes")
            data += chunk
        return data

    def read_frame(self) -> tuple[int, bytes]:
        flags, size = self.read_exact(2)
        if flags & LONG:
            (size,) = struct.unpack(">Q", bytes((size,)) + self.read_exact(7))
        return flags, self.read_exact(size)

    def read_greeting(self) -> bytes:
        data = self.read_exact(64)
        assert data[0] == 0xFF and data[9] & 1, data[:10]
        assert data[10] == 3, "major version"
        assert data[12:32].rstrip(b"\x00") == b"NULL"
        return data

    def read_command(self) -> tuple[bytes, bytes]:
        flags, body = self.read_frame()
        assert flags & COMMAND, f"expected a command, got flags {flags:#x} body {body!r}"
        return body[1 : 1 + body[0]], body[1 + body[0] :]

    def handshake(self, minor: int, socket_type: bytes) -> dict[str, bytes]:
        """Send our greeting and READY; read theirs. Returns their metadata."""
        self.sock.sendall(greeting(minor) + ready(socket_type))
        self.read_greeting()
        name, data = self.read_command()
        assert name == b"READY"
        return parse_properties(data)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()


def parse_properties(data: bytes) -> dict[str, bytes]:
    props = {}
    pos = 0
    while pos < len(data):
        size = data[pos]
        name = data[pos + 1 : pos + 1 + size].decode()
        pos += 1 + size
        (value_size,) = struct.unpack_from(">I", data, pos)
        pos += 4
        props[name] = data[pos : pos + value_size]
        pos += value_size
    return props


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def context() -> Iterator[purezmq.Context]:
    ctx = purezmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def make(ctx: purezmq.Context, kind: int):
    sock = ctx.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = int(IO_TIMEOUT * 1000)
    sock.sndtimeo = int(IO_TIMEOUT * 1000)
    return sock


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(IO_TIMEOUT)
    yield server
    server.close()


# -- a raw 3.0 SUB against a purezmq PUB ---------------------------------------------------------


def _frames_until(
    peer: RawPeer, pub, wanted: bytes, others: list[bytes]
) -> list[tuple[int, bytes]]:
    """Publish ``others`` then ``wanted`` repeatedly until ``wanted`` arrives; all frames seen."""
    seen: list[tuple[int, bytes]] = []
    peer.sock.settimeout(0.05)
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            for body in others:
                pub.send(body)
            pub.send(wanted)
            try:
                while True:
                    got = peer.read_frame()
                    seen.append(got)
                    if got[1] == wanted:
                        return seen
            except TimeoutError:
                continue
        raise AssertionError(f"{wanted!r} never arrived; saw {seen!r}")
    finally:
        peer.sock.settimeout(IO_TIMEOUT)


def test_zmtp30_sub_subscribes_with_data_frame(context):
    pub = make(context, purezmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    peer = RawPeer(socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT))
    try:
        props = peer.handshake(minor=0, socket_type=b"SUB")
        assert props.get("Socket-Type") == b"PUB"
        peer.send(frame(b"\x01A"))  # ZMTP 3.0 subscription: a data frame

        seen = _frames_until(peer, pub, b"A1", [b"B1"])
        assert seen, "nothing arrived"
        for flags, body in seen:
            assert flags == 0, f"unexpected flags {flags:#x} on {body!r}"
            assert body == b"A1", f"unsubscribed message {body!r} arrived"

        # Cancel A and subscribe Z in order: once a Z1 arrives, the cancel took effect, and
        # no A1 published after that Z1 may follow it.
        peer.send(frame(b"\x00A") + frame(b"\x01Z"))
        seen = _frames_until(peer, pub, b"Z1", [b"A1", b"B1"])
        assert all(body in (b"A1", b"Z1") for _, body in seen), seen
        for _ in range(5):
            pub.send(b"A1")
            pub.send(b"B1")
        pub.send(b"Z2")
        flags, body = peer.read_frame()
        assert (flags, body) == (0, b"Z2")
    finally:
        peer.close()
        pub.close()


def test_zmtp30_sub_receives_multipart_as_frames(context):
    pub = make(context, purezmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    peer = RawPeer(socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT))
    try:
        peer.handshake(minor=0, socket_type=b"SUB")
        peer.send(frame(b"\x01"))  # everything
        _frames_until(peer, pub, b"sync", [])
        pub.send_multipart([b"A", b"x" * 300, b"end"])
        # Drain the remaining sync frames, then expect the multipart message.
        flags, body = peer.read_frame()
        while body == b"sync":
            flags, body = peer.read_frame()
        assert (flags, body) == (MORE, b"A")
        assert peer.read_frame() == (MORE | LONG, b"x" * 300)
        assert peer.read_frame() == (0, b"end")
    finally:
        peer.close()
        pub.close()


# -- a purezmq SUB against a raw 3.0 (and 3.1) PUB -----------------------------------------------


def _accept(listener: socket.socket) -> RawPeer:
    conn, _ = listener.accept()
    return RawPeer(conn)


def _expect_subscription(peer: RawPeer, minor: int, topic: bytes, subscribe: bool = True) -> None:
    flags, body = peer.read_frame()
    if minor == 0:
        # ZMTP 3.0: a data frame b'\x01topic' / b'\x00topic', not a SUBSCRIBE/CANCEL command.
        assert (flags, body) == (0, (b"\x01" if subscribe else b"\x00") + topic)
    else:
        name = b"SUBSCRIBE" if subscribe else b"CANCEL"
        assert (flags, body) == (COMMAND, bytes((len(name),)) + name + topic)


@pytest.mark.parametrize("minor", [0, 1])
def test_sub_subscribes_to_raw_pub(context, listener, minor):
    port = listener.getsockname()[1]
    sub = make(context, purezmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{port}")
    peer = _accept(listener)
    try:
        props = peer.handshake(minor=minor, socket_type=b"PUB")
        assert props.get("Socket-Type") == b"SUB"
        assert "Identity" not in props

        sub.setsockopt(purezmq.SUBSCRIBE, b"topic")
        _expect_subscription(peer, minor, b"topic")
        sub.setsockopt(purezmq.SUBSCRIBE, b"more")
        _expect_subscription(peer, minor, b"more")
        sub.setsockopt(purezmq.UNSUBSCRIBE, b"more")
        _expect_subscription(peer, minor, b"more", subscribe=False)

        # The SUB filters what the raw PUB sends.
        peer.send(
            frame(b"other")
            + frame(b"more1")
            + frame(b"topic1")
            + frame(b"topic2", MORE)
            + frame(b"tail")
        )
        assert sub.poll(int(IO_TIMEOUT * 1000)), "nothing received"
        assert sub.recv() == b"topic1"
        assert sub.recv_multipart() == [b"topic2", b"tail"]
        assert not sub.poll(100)
    finally:
        peer.close()
        sub.close()


@pytest.mark.parametrize("minor", [0, 1])
def test_sub_subscription_set_before_connect_is_sent_after_handshake(context, listener, minor):
    """libzmq sends subscriptions made before connect() as soon as the handshake is done, with no
    further call on the SUB (what the "sleep, then publish" slow-joiner idiom relies on)."""
    port = listener.getsockname()[1]
    sub = make(context, purezmq.SUB)
    sub.setsockopt(purezmq.SUBSCRIBE, b"topic")
    sub.connect(f"tcp://127.0.0.1:{port}")
    peer = _accept(listener)
    try:
        peer.handshake(minor=minor, socket_type=b"PUB")
        peer.sock.settimeout(1.0)  # no API call on the SUB while waiting
        try:
            _expect_subscription(peer, minor, b"topic")
        except TimeoutError:
            pytest.fail("the subscription made before connect() was not sent after the handshake")
    finally:
        peer.close()
        sub.close()

"""DGRAM (libzmq's draft type): raw UDP on a bound udp:// endpoint, a message being the far
end's address (``ip:port``) and the body. Against Debian's libzmq5 (a DGRAM of its own, through
ctypes) both ways, against a plain UDP socket, on both engines; and the errors libzmq gives
for what a DGRAM cannot do."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Iterator

import pytest
import zmq

import purezmq
import purezmq.asyncio

from . import _libzmq_ctypes as libzmq5
from ._util import free_udp_port

pytestmark = pytest.mark.timeout(60)
TIMEOUT_MS = 5000


def dgram_on(ctx: purezmq.Context, port: int) -> purezmq.Socket:
    sock = ctx.socket(purezmq.DGRAM)
    sock.rcvtimeo = sock.sndtimeo = TIMEOUT_MS
    sock.bind(f"udp://127.0.0.1:{port}")
    return sock


@pytest.fixture
def plain() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(TIMEOUT_MS / 1000)
        yield sock


def test_a_datagram_in_comes_with_its_address_and_a_reply_goes_back(pctx, plain):
    port = free_udp_port()
    dgram = dgram_on(pctx, port)
    plain.sendto(b"hello", ("127.0.0.1", port))
    address, body = dgram.recv_multipart()
    # libzmq's address frame: ip:port and the NUL of a C string.
    assert (address, body) == (b"127.0.0.1:%d\0" % plain.getsockname()[1], b"hello")
    dgram.send_multipart([address, b"reply"])
    assert plain.recvfrom(100) == (b"reply", ("127.0.0.1", port))
    dgram.send_multipart([address.rstrip(b"\0"), b""])  # (Without the NUL too; empty.)
    assert plain.recvfrom(100) == (b"", ("127.0.0.1", port))


def test_a_datagram_is_not_cut_at_libzmqs_8_kib(pctx, plain):
    port = free_udp_port()
    dgram = dgram_on(pctx, port)
    body = bytes(range(256)) * 200  # 51,200 bytes
    plain.sendto(body, ("127.0.0.1", port))
    address, got = dgram.recv_multipart()
    assert got == body
    dgram.send_multipart([address, body])
    assert plain.recvfrom(65536)[0] == body


@pytest.mark.skipif(libzmq5.load() is None, reason="Debian's libzmq5 is not installed")
def test_with_a_libzmq_dgram_both_ways(pctx):
    theirs = libzmq5.Context().socket(zmq.DGRAM)
    try:
        theirs.setsockopt(zmq.LINGER, 0)
        theirs.setsockopt(zmq.RCVTIMEO, 50)
        their_port = free_udp_port()
        theirs.bind(f"udp://127.0.0.1:{their_port}")
        our_port = free_udp_port()
        ours = dgram_on(pctx, our_port)
        # libzmq binds in its I/O thread: send until its socket is there to hear.
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while True:
            ours.send_multipart([b"127.0.0.1:%d" % their_port, b"from purezmq"])
            try:
                got = theirs.recv_multipart()
                break
            except zmq.Again:
                assert time.monotonic() < deadline, "libzmq's DGRAM never heard purezmq's"
        assert got == [b"127.0.0.1:%d\0" % our_port, b"from purezmq"]
        theirs.send_multipart([got[0], b"from libzmq"])  # Its own address frame, NUL and all.
        assert ours.recv_multipart() == [b"127.0.0.1:%d\0" % their_port, b"from libzmq"]
    finally:
        theirs.close()


def test_what_a_dgram_refuses(pctx):
    dgram = dgram_on(pctx, free_udp_port())
    for message in ([b"127.0.0.1:5555"], [b"127.0.0.1:5555", b"a", b"b"]):
        with pytest.raises(purezmq.ZMQError) as info:
            dgram.send_multipart(message)
        assert info.value.errno == errno.EINVAL
    for address in (b"localhost:5555", b"127.0.0.1", b"127.0.0.1:0", b"127.0.0.1:99999", b"\xff"):
        with pytest.raises(purezmq.ZMQError, match="ip:port") as info:
            dgram.send_multipart([address, b"x"])
        assert info.value.errno == errno.EINVAL
    with pytest.raises(purezmq.ZMQError) as info:
        dgram.send_multipart([b"127.0.0.1:5555", b"x" * 65508])
    assert info.value.errno == errno.EMSGSIZE
    with pytest.raises(purezmq.ZMQError) as info:
        dgram.connect("udp://127.0.0.1:5555")  # (libzmq's DGRAM only binds.)
    assert info.value.errno == purezmq.ENOCOMPATPROTO
    other = pctx.socket(purezmq.DGRAM)
    other.sndtimeo = 0
    with pytest.raises(purezmq.Again):  # No endpoint yet: nowhere to send (libzmq asserts).
        other.send_multipart([b"127.0.0.1:5555", b"x"])
    for endpoint in ("tcp://127.0.0.1:0", "inproc://dgram"):
        with pytest.raises(purezmq.ZMQError) as info:
            other.bind(endpoint)
        assert info.value.errno == purezmq.ENOCOMPATPROTO


def test_the_socket_still_works_after_a_refusal(pctx, plain):
    port = free_udp_port()
    dgram = dgram_on(pctx, port)
    with pytest.raises(purezmq.ZMQError):
        dgram.send_multipart([b"nowhere", b"x"])
    dgram.send_multipart([b"127.0.0.1:%d" % plain.getsockname()[1], b"after"])
    assert plain.recvfrom(100)[0] == b"after"


def test_asyncio_dgram_echo(plain):
    async def main() -> list[bytes]:
        context = purezmq.asyncio.Context()
        dgram = context.socket(purezmq.DGRAM)
        port = free_udp_port()
        dgram.bind(f"udp://127.0.0.1:{port}")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, plain.sendto, b"ping", ("127.0.0.1", port))
        address, body = await dgram.recv_multipart()
        await dgram.send_multipart([address, body.upper()])
        echoed = await loop.run_in_executor(None, plain.recvfrom, 100)
        dgram.close(linger=0)
        context.term()
        return [address, echoed[0]]

    address, echoed = asyncio.run(asyncio.wait_for(main(), 20))
    assert address == b"127.0.0.1:%d\0" % plain.getsockname()[1]
    assert echoed == b"PING"

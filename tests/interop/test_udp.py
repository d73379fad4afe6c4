"""udp:// for RADIO and DISH (issue 16): libzmq's datagrams (a group-length byte, the group, the
body), unicast and multicast, on both engines, against libzmq, and what is dropped.

The libzmq peer is Debian's libzmq5 through ctypes: its draft types cannot handshake (see
test_draft_sockets.py) but udp has no handshake, so a libzmq RADIO reaches a purezmq DISH. It
sends to the empty group only (zmq_msg_set_group is not exported) and a libzmq DISH cannot join
(zmq_join is not exported): the other direction is checked by the bytes a plain UDP socket
receives. Multicast runs in a network namespace each test makes (loopback, multicast on), as
root, and skips with the reason where that cannot be done.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import zmq

import purezmq
import purezmq.asyncio

from . import _libzmq_ctypes as libzmq5
from ._netns import run_in_namespace
from ._util import free_udp_port

pytestmark = pytest.mark.timeout(60)
TIMEOUT_MS = 5000
SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
TESTS = os.path.join(os.path.dirname(__file__), "..")


@pytest.fixture
def ctx() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


def dish_on(ctx: Any, endpoint: str, *groups: str) -> Any:
    dish = ctx.socket(purezmq.DISH)
    dish.rcvtimeo = TIMEOUT_MS
    dish.bind(endpoint)
    for group in groups:
        dish.join(group)
    return dish


def radio_to(ctx: Any, endpoint: str) -> Any:
    radio = ctx.socket(purezmq.RADIO)
    radio.linger = 0
    radio.connect(endpoint)
    return radio


def test_unicast_between_purezmq_sockets(ctx):
    port = free_udp_port()
    dish = dish_on(ctx, f"udp://127.0.0.1:{port}", "weather")
    radio = radio_to(ctx, f"udp://127.0.0.1:{port}")
    radio.send(b"hidden", group="traffic")  # Not joined: the dish drops it.
    radio.send(b"sunny", group="weather")
    frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"sunny", "weather")
    dish.bind(f"udp://*:{free_udp_port()}")  # (A second endpoint: any address.)


def test_the_datagram_is_libzmqs(ctx):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        plain.bind(("127.0.0.1", 0))
        plain.settimeout(TIMEOUT_MS / 1000)
        radio = radio_to(ctx, f"udp://127.0.0.1:{plain.getsockname()[1]}")
        radio.send(b"body", group="group")
        assert plain.recv(9000) == b"\x05groupbody"
        radio.send(b"x" * 9000, group="big")  # Over libzmq's 8192 bytes: dropped.
        radio.send(b"", group="")
        assert plain.recv(9000) == b"\x00"


def test_bad_datagrams_are_dropped_alone(ctx):
    port = free_udp_port()
    dish = dish_on(ctx, f"udp://127.0.0.1:{port}", "g", "")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        for datagram in (b"", b"\x09short", b"\x01g" + b"x" * 9000, b"\x01gafter"):
            plain.sendto(datagram, ("127.0.0.1", port))
    frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"after", "g")


def test_udp_errors_are_libzmqs(ctx):
    pub = ctx.socket(purezmq.PUB)
    radio = ctx.socket(purezmq.RADIO)
    dish = ctx.socket(purezmq.DISH)
    for sock, call, endpoint, code in (
        (pub, "connect", "udp://127.0.0.1:5555", purezmq.ENOCOMPATPROTO),
        (pub, "bind", "udp://*:5555", purezmq.ENOCOMPATPROTO),
        (radio, "bind", "udp://*:5555", purezmq.ENOCOMPATPROTO),
        (radio, "connect", "udp://127.0.0.1", errno.EINVAL),
        (radio, "connect", "udp://*:5555", errno.EINVAL),
        (radio, "connect", "udp://no.such.host.invalid:5555", errno.EINVAL),
        (dish, "connect", "udp://127.0.0.1:5555", errno.EINVAL),  # (Unicast: bind instead.)
    ):
        with pytest.raises(purezmq.ZMQError) as info:
            getattr(sock, call)(endpoint)
        assert info.value.errno == code, (call, endpoint)
        assert endpoint in str(info.value)


def test_asyncio_dish_and_radio():
    port = free_udp_port()

    async def main() -> tuple[bytes, str | None]:
        ctx = purezmq.asyncio.Context()
        try:
            dish = ctx.socket(purezmq.DISH)
            dish.bind(f"udp://127.0.0.1:{port}")
            dish.join("g")
            radio = ctx.socket(purezmq.RADIO)
            radio.connect(f"udp://127.0.0.1:{port}")
            await radio.send(b"from the loop", group="g")
            frame = await asyncio.wait_for(dish.recv(copy=False), TIMEOUT_MS / 1000)
            return frame.bytes, frame.group
        finally:
            ctx.destroy(linger=0)

    assert asyncio.run(main()) == (b"from the loop", "g")


@pytest.mark.skipif(libzmq5.load() is None, reason="Debian's libzmq5 is not installed")
def test_a_libzmq_radio_reaches_a_purezmq_dish(ctx):
    port = free_udp_port()
    dish = dish_on(ctx, f"udp://127.0.0.1:{port}", "")
    lctx = libzmq5.Context()
    try:
        radio = lctx.socket(zmq.RADIO)
        radio.setsockopt(zmq.LINGER, 0)
        radio.connect(f"udp://127.0.0.1:{port}")
        radio.send(b"from libzmq")
        frame = dish.recv(copy=False)
        assert (frame.bytes, frame.group) == (b"from libzmq", "")
    finally:
        lctx.destroy(linger=0)


# -- multicast, in a network namespace of its own -------------------------------------------------

MULTICAST_CHILD = textwrap.dedent(
    """
    import purezmq, zmq
    from interop import _libzmq_ctypes as libzmq5
    group = "udp://127.0.0.1;239.192.0.7:7711"
    ctx = purezmq.Context()
    dishes = []
    for _ in range(2):  # Two members of the group: each gets every datagram.
        dish = ctx.socket(purezmq.DISH)
        dish.rcvtimeo = 5000
        dish.bind(group)
        dish.join("news")
        dish.join("")
        dishes.append(dish)
    radio = ctx.socket(purezmq.RADIO)
    radio.multicast_hops = 1
    radio.connect(group)
    radio.send(b"to the group", group="news")
    for dish in dishes:
        frame = dish.recv(copy=False)
        assert (frame.bytes, frame.group) == (b"to the group", "news"), frame.bytes
    if libzmq5.load() is not None:
        lctx = libzmq5.Context()
        theirs = lctx.socket(zmq.RADIO)
        theirs.connect(group)
        theirs.send(b"from libzmq")
        for dish in dishes:
            assert dish.recv() == b"from libzmq"
        lctx.destroy(linger=0)
    ctx.destroy(linger=0)
    print("multicast ok")
    """
)


def test_multicast_in_a_namespace():
    assert "multicast ok" in run_in_namespace(MULTICAST_CHILD)

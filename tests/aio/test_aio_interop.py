"""Interop matrix: purezmq.asyncio on one end, libzmq (pyzmq, blocking, in a thread) on the other.

Every classic pair runs over tcp and ipc, with either library binding, with the asyncio socket on
either end of the pair, on the default asyncio loop and on uvloop. Both ends run the same role
script (see _peers.py): the asyncio one in the loop, the pyzmq one in a thread, concurrently. All
message sizes (0 B, 1 B, 255 B, 256 B, 1 MiB, multipart) go through one test per combination.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest
import zmq
from interop._util import assert_frames, bind_any, make_socket

import purezmq
import purezmq.asyncio

from ._aio import run_with_blocking
from ._peers import AioPeer, BlockingPeer, Shared, drive, pub_sync, sub_sync

pytestmark = pytest.mark.timeout(60)

MESSAGES: list[list[bytes]] = [
    [b""],
    [b"\x00"],
    [bytes(range(255))],  # largest short frame
    [bytes(range(256))],  # smallest long frame
    [os.urandom(1 << 20)],  # 1 MiB
    [b"a", b"", b"x" * 300, bytes(range(256))],  # multipart: short, empty, long
]

ROUTING_ID = b"peer-\x01\xfe"


def reply_for(msg: list[bytes]) -> list[bytes]:
    """Distinguishable from an echo, same frame sizes."""
    return list(reversed(msg))


# --------------------------------------------------------------------------------------------------
# the role scripts: (peer, shared) -> coroutine

Script = Callable[[Any, Shared], Coroutine[Any, Any, None]]


async def push(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        await p.send(msg)


async def pull(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        assert_frames(await p.recv(), msg)


async def req(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        await p.send(msg)
        assert_frames(await p.recv(), reply_for(msg))


async def rep(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        assert_frames(await p.recv(), msg)
        await p.send(reply_for(msg))


async def router_for_req(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        got = await p.recv()
        assert got[:2] == [ROUTING_ID, b""], f"bad envelope {got[:2]!r}"
        assert_frames(got[2:], msg)
        await p.send([ROUTING_ID, b"", *reply_for(msg)])


async def dealer_for_rep(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        await p.send([b"", *msg])
        assert_frames(await p.recv(), [b"", *reply_for(msg)])


async def dealer_for_router(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        await p.send(msg)
        assert_frames(await p.recv(), reply_for(msg))
    # Several requests in flight; the replies come back in another order.
    for i in range(5):
        await p.send([b"req-%d" % i])
    assert [await p.recv() for _ in range(5)] == [[b"rep-%d" % i] for i in reversed(range(5))]


async def router_for_dealer(p: Any, shared: Shared) -> None:
    for msg in MESSAGES:
        got = await p.recv()
        assert got[0] == ROUTING_ID, f"bad routing id {got[0]!r}"
        assert_frames(got[1:], msg)
        await p.send([ROUTING_ID, *reply_for(msg)])
    assert [await p.recv() for _ in range(5)] == [[ROUTING_ID, b"req-%d" % i] for i in range(5)]
    for i in reversed(range(5)):
        await p.send([ROUTING_ID, b"rep-%d" % i])


async def pub(p: Any, shared: Shared) -> None:
    await pub_sync(p, shared, b"A")
    for m in (b"B1", b"A1", b"B2", b"", b"a-lower", b"A2", b"B3"):
        await p.send([m])
    await p.send([b"B-multi", b"A-second-frame-does-not-count"])
    await p.send([b"A-end"])
    await pub_sync(p, shared, b"Z")  # the subscriber now subscribes to everything
    for msg in MESSAGES:
        await p.send(msg)


async def sub(p: Any, shared: Shared) -> None:
    # subscribed to b"A" before connecting (setup)
    await sub_sync(p, shared, b"A")
    assert await p.recv() == [b"A1"]
    assert await p.recv() == [b"A2"]
    assert await p.recv() == [b"A-end"]
    assert await p.poll(50) == 0, "a non-matching message got through"
    p.subscribe(b"")
    await sub_sync(p, shared, b"Z")
    for msg in MESSAGES:
        assert_frames(await p.recv(), msg)


async def xpub(p: Any, shared: Shared) -> None:
    assert await p.recv() == [b"\x01topic"]
    # The XPUB has applied the subscription once it hands it to the application.
    for m in (b"other", b"topic-1", b"toPic", b"", b"topic-end"):
        await p.send([m])
    assert await p.recv() == [b"\x01"]
    for msg in MESSAGES:
        await p.send(msg)
    assert await p.recv() == [b"\x00topic"]


async def xsub(p: Any, shared: Shared) -> None:
    await p.send([b"\x01topic"])
    assert await p.recv() == [b"topic-1"]
    assert await p.recv() == [b"topic-end"]
    assert await p.poll(50) == 0, "a non-matching message got through"
    await p.send([b"\x01"])  # everything
    for msg in MESSAGES:
        assert_frames(await p.recv(), msg)
    await p.send([b"\x00topic"])


async def pair(p: Any, shared: Shared) -> None:
    # Both ends send everything, then read everything: traffic in both directions at once.
    for msg in MESSAGES:
        await p.send(msg)
    for msg in MESSAGES:
        assert_frames(await p.recv(), msg)
    for i in range(20):
        await p.send([b"m%d" % i])
    assert [await p.recv() for _ in range(20)] == [[b"m%d" % i] for i in range(20)]


def set_routing_id(index: int) -> Callable[[Any, Any], None]:
    def setup(first: Any, second: Any) -> None:
        (first, second)[index].routing_id = ROUTING_ID

    return setup


def subscribe_a(first: Any, second: Any) -> None:
    second.subscribe(b"A")


@dataclass(frozen=True)
class Combo:
    first: str
    second: str
    scripts: tuple[Script, Script]
    setup: Callable[[Any, Any], None] | None = None
    symmetric: bool = False

    @property
    def id(self) -> str:
        return f"{self.first}-{self.second}"


COMBOS = [
    Combo("PUSH", "PULL", (push, pull)),
    Combo("REQ", "REP", (req, rep)),
    Combo("REQ", "ROUTER", (req, router_for_req), set_routing_id(0)),
    Combo("DEALER", "REP", (dealer_for_rep, rep)),
    Combo("DEALER", "ROUTER", (dealer_for_router, router_for_dealer), set_routing_id(0)),
    Combo("PUB", "SUB", (pub, sub), subscribe_a),
    Combo("XPUB", "XSUB", (xpub, xsub)),
    Combo("PAIR", "PAIR", (pair, pair), symmetric=True),
]

CASES = [
    pytest.param(combo, aio_end, id=f"{combo.id}-aio_{aio_end}")
    for combo in COMBOS
    for aio_end in (("first",) if combo.symmetric else ("first", "second"))
]


@pytest.mark.parametrize("combo, aio_end", CASES)
@pytest.mark.parametrize("binder", ["aio", "pyzmq"], ids=["aio_binds", "pyzmq_binds"])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_pair_interop(
    run, pyctx, ipc_endpoint, combo: Combo, aio_end: str, binder: str, transport: str
) -> None:
    aio_index = 0 if aio_end == "first" else 1
    aio_type = (combo.first, combo.second)[aio_index]
    py_type = (combo.first, combo.second)[1 - aio_index]

    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        py_sock = None
        try:
            aio_sock = ctx.socket(getattr(purezmq, aio_type))
            aio_sock.linger = 0
            py_sock = make_socket(pyctx, getattr(zmq, py_type))
            pair_ = (aio_sock, py_sock) if aio_index == 0 else (py_sock, aio_sock)
            if combo.setup is not None:
                combo.setup(*pair_)
            binder_sock, connecter = (aio_sock, py_sock) if binder == "aio" else (py_sock, aio_sock)
            connecter.connect(bind_any(binder_sock, transport, ipc_endpoint))

            shared = Shared()
            aio_script = combo.scripts[aio_index]
            py_script = combo.scripts[1 - aio_index]
            await run_with_blocking(
                aio_script(AioPeer(aio_sock), shared),
                lambda abort: drive(py_script(BlockingPeer(py_sock, abort), shared)),
            )
        finally:
            if py_sock is not None:
                py_sock.close(linger=0)
            ctx.destroy(linger=0)

    run(scenario())

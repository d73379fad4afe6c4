"""The purezmq.asyncio API: awaitables, serialisation variants, poll and Poller, the context,
options as attributes, an asyncio socket and a blocking one in the same context, and many peers.

Every test runs on the default asyncio loop and on uvloop (the ``run`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from interop._util import bind_any, prep

import purezmq
import purezmq.asyncio

from ._aio import OP_TIMEOUT, op, run_with_blocking

pytestmark = pytest.mark.timeout(60)

POLLIN = purezmq.POLLIN
POLLOUT = purezmq.POLLOUT


def endpoint_for(sock: Any, transport: str, ipc_endpoint: str, name: str = "api") -> str:
    if transport == "inproc":
        sock.bind(f"inproc://{name}")
        return f"inproc://{name}"
    return bind_any(sock, transport, ipc_endpoint)


async def connected_pair(
    ctx: Any, first: int, second: int, transport: str = "inproc", ipc_endpoint: str = ""
) -> tuple[Any, Any]:
    """``first`` binds, ``second`` connects; both linger 0."""
    a = ctx.socket(first)
    b = ctx.socket(second)
    a.linger = b.linger = 0
    b.connect(endpoint_for(a, transport, ipc_endpoint))
    return a, b


# --------------------------------------------------------------------------------------------------
# awaitable send / recv


@pytest.mark.parametrize("transport", ["inproc", "tcp", "ipc"])
def test_send_recv_are_awaitable(run, ipc_endpoint: str, transport: str) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx:
            a, b = await connected_pair(ctx, purezmq.PAIR, purezmq.PAIR, transport, ipc_endpoint)
            with a, b:
                sending = a.send(b"hello")
                assert isinstance(sending, asyncio.Future)
                assert await op(sending) is None
                receiving = b.recv()
                assert isinstance(receiving, asyncio.Future)
                assert await op(receiving) == b"hello"

                # A recv started before the message exists completes when it arrives.
                pending = b.recv_multipart()
                assert not pending.done()
                await op(a.send_multipart([b"x", b"", b"y" * 1000]))
                assert await op(pending) == [b"x", b"", b"y" * 1000]

                # SNDMORE frames are one message; recv gets them one by one with RCVMORE.
                await op(a.send(b"part1", purezmq.SNDMORE))
                await op(a.send(b"part2"))
                assert await op(b.recv()) == b"part1"
                assert b.rcvmore == 1
                assert await op(b.recv()) == b"part2"
                assert b.rcvmore == 0

                # copy=False gives Frames; both directions; memoryview/bytearray payloads.
                await op(b.send_multipart([bytearray(b"ba"), memoryview(b"mv")]))
                frames = await op(a.recv_multipart(copy=False))
                assert [f.bytes for f in frames] == [b"ba", b"mv"]
                await op(b.send(b"one"))
                frame = await op(a.recv(copy=False))
                assert frame.bytes == b"one"

                # recv_into
                await op(a.send(b"0123456789"))
                buf = bytearray(4)
                assert await op(b.recv_into(buf)) == 10
                assert buf == b"0123"

                # Nothing to receive / no peer to send to, with NOBLOCK: Again through the future.
                with pytest.raises(purezmq.Again):
                    await op(b.recv(purezmq.NOBLOCK))
                lonely = ctx.socket(purezmq.PUSH)
                with lonely, pytest.raises(purezmq.Again):
                    await op(lonely.send(b"nobody", purezmq.NOBLOCK))

    run(scenario())


def test_serialisation_variants(run) -> None:
    payload = {"a": [1, 2.5, None, True], "ü": "ñ"}

    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx:
            a, b = await connected_pair(ctx, purezmq.PAIR, purezmq.PAIR)
            with a, b:
                await op(a.send_string("héllo"))
                assert await op(b.recv_string()) == "héllo"
                await op(a.send_string("latin", encoding="latin-1"))
                assert await op(b.recv()) == b"latin"
                await op(a.send_string("ÿ", encoding="latin-1"))
                assert await op(b.recv_string(encoding="latin-1")) == "ÿ"
                with pytest.raises(TypeError):
                    a.send_string(b"bytes")  # type: ignore[arg-type]

                await op(a.send_json(payload))
                assert await op(b.recv_json()) == payload
                await op(a.send_json(payload, sort_keys=True))
                assert await op(b.recv()) == json.dumps(payload, sort_keys=True).encode()

                obj = {"set": {1, 2}, "tuple": (1, "x"), "bytes": b"\x00\xff"}
                await op(a.send_pyobj(obj))
                assert await op(b.recv_pyobj()) == obj

                def serialize(msg: dict[str, Any]) -> list[bytes]:
                    return [msg["key"].encode(), json.dumps(msg["value"]).encode()]

                def deserialize(frames: list[bytes]) -> dict[str, Any]:
                    return {"key": frames[0].decode(), "value": json.loads(frames[1])}

                msg = {"key": "k", "value": [1, 2, 3]}
                await op(a.send_serialized(msg, serialize))
                assert await op(b.recv_serialized(deserialize)) == msg

                # Sent by one variant, read by another: they are plain frames on the wire.
                await op(a.send_string("as-bytes"))
                assert await op(b.recv_multipart()) == [b"as-bytes"]

    run(scenario())


# --------------------------------------------------------------------------------------------------
# poll and Poller


def test_socket_poll(run) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx:
            push, pull = await connected_pair(ctx, purezmq.PUSH, purezmq.PULL)
            with push, pull:
                # Timeout 0: an immediate answer.
                assert await op(pull.poll(0)) == 0
                assert await op(pull.poll(timeout=0, flags=POLLIN)) == 0
                # A timeout with nothing to read: 0 after about that long.
                t0 = time.monotonic()
                assert await op(pull.poll(100)) == 0
                assert 0.08 <= time.monotonic() - t0 < OP_TIMEOUT
                # Writable: a peer is attached.
                assert await op(push.poll(1000, POLLOUT)) == POLLOUT
                assert await op(push.poll(0, POLLIN | POLLOUT)) == POLLOUT

                # A poll without timeout, pending until a message arrives.
                waiting = pull.poll()
                assert not waiting.done()
                await op(push.send(b"wake"))
                assert await op(waiting) == POLLIN
                assert await op(pull.poll(0)) == POLLIN  # polling consumes nothing
                assert await op(pull.recv()) == b"wake"
                assert await op(pull.poll(0)) == 0

    run(scenario())


def test_poller_over_several_sockets(run) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx:
            pairs = []
            for i in range(3):
                pull = ctx.socket(purezmq.PULL)
                pull.linger = 0
                pull.bind(f"inproc://poller-{i}")
                push = ctx.socket(purezmq.PUSH)
                push.linger = 0
                push.connect(f"inproc://poller-{i}")
                pairs.append((push, pull))
            pushes = [p for p, _ in pairs]
            pulls = [q for _, q in pairs]
            try:
                poller = purezmq.asyncio.Poller()
                for pull in pulls:
                    poller.register(pull, POLLIN)

                assert await op(poller.poll(0)) == []
                t0 = time.monotonic()
                assert await op(poller.poll(100)) == []
                assert time.monotonic() - t0 >= 0.08

                await op(pushes[0].send(b"zero"))
                await op(pushes[2].send(b"two"))
                # inproc delivers on send: both are readable by now
                assert dict(await op(poller.poll(1000))) == {pulls[0]: POLLIN, pulls[2]: POLLIN}
                assert await op(pulls[0].recv()) == b"zero"
                assert await op(pulls[2].recv()) == b"two"
                assert await op(poller.poll(0)) == []

                # A poll without timeout resolves when any socket becomes readable.
                waiting = poller.poll()
                assert not waiting.done()
                await op(pushes[1].send(b"one"))
                assert await op(waiting) == [(pulls[1], POLLIN)]
                assert await op(pulls[1].recv()) == b"one"

                # POLLOUT and POLLIN together, modify and unregister.
                poller.register(pushes[1], POLLOUT)
                assert dict(await op(poller.poll(1000))) == {pushes[1]: POLLOUT}
                poller.modify(pushes[1], POLLIN | POLLOUT)
                assert dict(await op(poller.poll(1000))) == {pushes[1]: POLLOUT}
                poller.unregister(pushes[1])
                assert await op(poller.poll(0)) == []
            finally:
                for sock in pushes + pulls:
                    sock.close(linger=0)

    run(scenario())


# --------------------------------------------------------------------------------------------------
# the context, context managers, options


def test_context_instance(run) -> None:
    async def scenario() -> None:
        inst = purezmq.asyncio.Context.instance()
        try:
            assert isinstance(inst, purezmq.asyncio.Context)
            assert purezmq.asyncio.Context.instance() is inst
            assert purezmq.Context.instance() is not inst  # as in pyzmq: one per class
            a = inst.socket(purezmq.PAIR)
            b = inst.socket(purezmq.PAIR)
            with a, b:
                assert isinstance(a, purezmq.asyncio.Socket)
                a.bind("inproc://instance")
                b.connect("inproc://instance")
                await op(a.send(b"ping"))
                assert await op(b.recv()) == b"ping"
        finally:
            inst.term()
        assert inst.closed
        fresh = purezmq.asyncio.Context.instance()
        assert fresh is not inst and not fresh.closed
        fresh.term()

    run(scenario())


def test_with_context_managers(run, ipc_endpoint: str) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx:
            with ctx.socket(purezmq.PULL) as pull, ctx.socket(purezmq.PUSH) as push:
                pull.linger = push.linger = 0
                endpoint = bind_any(pull, "tcp")
                # connect() as a context manager disconnects on exit
                with push.connect(endpoint):
                    await op(push.send(b"inside"))
                    assert await op(pull.recv()) == b"inside"
                assert push.last_endpoint == endpoint.encode()
                # bind() as a context manager unbinds on exit: the endpoint can be bound again.
                with pull.bind(ipc_endpoint) as bound:
                    assert bound is pull
                with pull.bind(ipc_endpoint):
                    pass
            assert pull.closed and push.closed
        assert ctx.closed
        with pytest.raises(purezmq.ZMQError):
            ctx.socket(purezmq.PAIR)

    run(scenario())


def test_options_as_attributes(run) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx:
            ctx.linger = 0  # a default for sockets made from now on
            with ctx.socket(purezmq.DEALER) as s:
                assert s.linger == 0 == s.getsockopt(purezmq.LINGER)
                assert s.type == purezmq.DEALER
                s.sndhwm = 7
                s.rcvhwm = 9
                assert (s.sndhwm, s.rcvhwm) == (7, 9)
                assert s.getsockopt(purezmq.SNDHWM) == 7
                s.hwm = 5
                assert (s.sndhwm, s.rcvhwm, s.hwm) == (5, 5, 5)
                s.rcvtimeo = 123
                s.setsockopt(purezmq.SNDTIMEO, 456)
                assert (s.rcvtimeo, s.sndtimeo) == (123, 456)
                s.routing_id = b"dealer-1"
                assert s.routing_id == b"dealer-1" == s.getsockopt(purezmq.ROUTING_ID)
                s.set_string(purezmq.ROUTING_ID, "dealer-2")
                assert s.get_string(purezmq.ROUTING_ID) == "dealer-2"
                assert s.rcvmore == 0
                assert s.events == 0  # no peer: neither readable nor writable
                with pytest.raises(AttributeError):
                    s.no_such_option = 1
                with pytest.raises(AttributeError):
                    _ = s.no_such_option
                s.connect("tcp://127.0.0.1:1")  # nothing listens; last_endpoint is still set
                assert s.last_endpoint == b"tcp://127.0.0.1:1"
            assert s.closed

    run(scenario())


# --------------------------------------------------------------------------------------------------
# an asyncio socket and a blocking socket of the same context


def test_async_and_blocking_sockets_share_a_context(run) -> None:
    messages = [[b"m%d" % i, b"x" * i] for i in range(50)]

    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        b_pull = b_push = b_req = None
        try:
            a_push = ctx.socket(purezmq.PUSH)
            a_push.bind("inproc://to-blocking")
            b_pull = prep(ctx.socket(purezmq.PULL, socket_class=purezmq.Socket))
            b_pull.connect("inproc://to-blocking")

            a_pull = ctx.socket(purezmq.PULL)
            a_pull.bind("inproc://from-blocking")
            b_push = prep(purezmq.Socket(ctx, purezmq.PUSH))
            b_push.connect("inproc://from-blocking")

            a_rep = ctx.socket(purezmq.REP)
            a_rep.bind("inproc://ping")
            b_req = prep(purezmq.Socket(ctx, purezmq.REQ))
            b_req.connect("inproc://ping")

            assert isinstance(a_push, purezmq.asyncio.Socket)
            assert type(b_pull) is purezmq.Socket and type(b_push) is purezmq.Socket
            for sock in (a_push, a_pull, a_rep):
                sock.linger = 0

            def blocking(abort: threading.Event) -> list[list[bytes]]:
                got = [b_pull.recv_multipart() for _ in messages]  # asyncio -> blocking
                for msg in messages:  # blocking -> asyncio
                    b_push.send_multipart(msg)
                for i in range(100):  # round trips: every step wakes the other side
                    b_req.send(b"ping-%d" % i)
                    assert b_req.recv() == b"pong-%d" % i
                return got

            async def in_loop() -> list[list[bytes]]:
                for msg in messages:
                    await op(a_push.send_multipart(msg))
                got = [await op(a_pull.recv_multipart()) for _ in messages]
                for i in range(100):
                    assert await op(a_rep.recv()) == b"ping-%d" % i
                    await op(a_rep.send(b"pong-%d" % i))
                return got

            got_async, got_blocking = await run_with_blocking(in_loop(), blocking)
            assert got_blocking == messages
            assert got_async == messages
        finally:
            # Sockets made by the Socket class directly are closed here (pyzmq's destroy would
            # not know them); the context closes the others.
            for sock in (b_pull, b_push, b_req):
                if sock is not None:
                    sock.close(linger=0)
            ctx.destroy(linger=0)

    run(scenario())


# --------------------------------------------------------------------------------------------------
# many peers in one loop

N_DEALERS = 200
REQUESTS_EACH = 3


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_many_dealers_one_router(run, ipc_endpoint: str, transport: str) -> None:
    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            router = ctx.socket(purezmq.ROUTER)
            router.linger = 0
            endpoint = bind_any(router, transport, ipc_endpoint)
            seen: dict[bytes, int] = {}

            async def serve() -> None:
                while True:
                    rid, body = await router.recv_multipart()
                    seen[rid] = seen.get(rid, 0) + 1
                    await router.send_multipart([rid, b"re:" + body])

            async def client(i: int) -> list[bytes]:
                dealer = ctx.socket(purezmq.DEALER)
                dealer.linger = 0
                dealer.routing_id = b"dealer-%03d" % i
                dealer.connect(endpoint)
                try:
                    for k in range(REQUESTS_EACH):  # several in flight per dealer
                        await op(dealer.send(b"%d/%d" % (i, k)))
                    return [await op(dealer.recv(), 20) for _ in range(REQUESTS_EACH)]
                finally:
                    dealer.close(linger=0)

            server = asyncio.ensure_future(serve())
            try:
                replies = await asyncio.gather(*(client(i) for i in range(N_DEALERS)))
            finally:
                server.cancel()
            for i, got in enumerate(replies):
                assert got == [b"re:%d/%d" % (i, k) for k in range(REQUESTS_EACH)], i
            assert seen == {b"dealer-%03d" % i: REQUESTS_EACH for i in range(N_DEALERS)}
        finally:
            ctx.destroy(linger=0)

    run(scenario(), timeout=45)

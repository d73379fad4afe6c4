"""purezmq.asyncio's draft sockets (issue 16): CLIENT/SERVER, RADIO/DISH, SCATTER/GATHER, PEER
and CHANNEL served in the event loop, over tcp, ipc and inproc, on asyncio's loop and uvloop; and
with a blocking purezmq socket (the threaded engine) as the peer. The blocking engine's own tests:
tests/semantics/test_draft_sockets.py."""

from __future__ import annotations

import asyncio
import errno
import os
import tempfile
from typing import Any

import pytest

import purezmq
import purezmq.asyncio

from ._aio import op

pytestmark = pytest.mark.timeout(60)
_count = iter(range(10**6))


@pytest.fixture(params=["tcp", "ipc", "inproc"])
def endpoint(request: pytest.FixtureRequest) -> str:
    n = next(_count)
    if request.param == "tcp":
        return "tcp://127.0.0.1:*"
    if request.param == "ipc":
        return f"ipc://{tempfile.gettempdir()}/purezmq-aio-draft-{os.getpid()}-{n}"
    return f"inproc://aio-draft-{n}"


def make(ctx: Any, socket_type: int) -> Any:
    sock = ctx.socket(socket_type)
    sock.linger = 0
    return sock


def test_client_and_server(run, endpoint):
    async def main() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            server, client = make(ctx, purezmq.SERVER), make(ctx, purezmq.CLIENT)
            server.bind(endpoint)
            client.connect(server.last_endpoint.decode())
            await op(client.send(b"question"))
            frame = await op(server.recv(copy=False))
            assert frame.bytes == b"question" and frame.routing_id
            await op(server.send(b"answer", routing_id=frame.routing_id))
            assert await op(client.recv()) == b"answer"
            with pytest.raises(purezmq.ZMQError) as info:
                await op(server.send(b"lost", routing_id=frame.routing_id ^ 1))
            assert info.value.errno == errno.EHOSTUNREACH
            with pytest.raises(purezmq.ZMQError) as info:
                await op(client.send_multipart([b"two", b"parts"]))
            assert info.value.errno == errno.EINVAL
        finally:
            ctx.destroy(linger=0)

    run(main())


def test_radio_and_dish(run, endpoint):
    async def main() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            radio, dish = make(ctx, purezmq.RADIO), make(ctx, purezmq.DISH)
            radio.bind(endpoint)
            dish.connect(radio.last_endpoint.decode())
            dish.join("weather")
            for _ in range(250):  # (The JOIN reaches the radio soon after the connection.)
                await op(radio.send(b"other", group="traffic"))
                await op(radio.send(b"sunny", group="weather"))
                if await op(dish.poll(20)):
                    break
            frame = await op(dish.recv(copy=False))
            assert (frame.bytes, frame.group) == (b"sunny", "weather")
            dish.leave("weather")
            with pytest.raises(purezmq.ZMQError) as info:
                dish.leave("weather")
            assert info.value.errno == errno.EINVAL
        finally:
            ctx.destroy(linger=0)

    run(main())


def test_scatter_gather_channel_and_peer(run, endpoint):
    async def main() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            scatter, gather = make(ctx, purezmq.SCATTER), make(ctx, purezmq.GATHER)
            scatter.bind(endpoint)
            gather.connect(scatter.last_endpoint.decode())
            for n in range(5):
                await op(scatter.send(b"job %d" % n))
            assert [await op(gather.recv()) for _ in range(5)] == [b"job %d" % n for n in range(5)]

            first, second = make(ctx, purezmq.CHANNEL), make(ctx, purezmq.CHANNEL)
            first.bind(endpoint.replace("draft-", "draft-channel-"))
            second.connect(first.last_endpoint.decode())
            await op(first.send(b"ping"))
            assert await op(second.recv()) == b"ping"

            listening, connecting = make(ctx, purezmq.PEER), make(ctx, purezmq.PEER)
            listening.bind(endpoint.replace("draft-", "draft-peer-"))
            routing_id = connecting.connect_peer(listening.last_endpoint.decode())
            await op(connecting.send(b"hello", routing_id=routing_id))
            frame = await op(listening.recv(copy=False))
            await op(listening.send(b"welcome", routing_id=frame.routing_id))
            answer = await op(connecting.recv(copy=False))
            assert (answer.bytes, answer.routing_id) == (b"welcome", routing_id)
        finally:
            ctx.destroy(linger=0)

    run(main())


def test_a_blocking_client_and_an_asyncio_server(run):
    """The threaded engine's thread-safe socket on one side, the loop's on the other."""
    blocking_ctx = purezmq.Context()

    async def main() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            server = make(ctx, purezmq.SERVER)
            server.bind("tcp://127.0.0.1:*")
            client = make(blocking_ctx, purezmq.CLIENT)
            client.rcvtimeo = 5000
            client.connect(server.last_endpoint.decode())

            def ask() -> bytes:
                client.send(b"from a thread")
                return client.recv()

            reply = asyncio.get_running_loop().run_in_executor(None, ask)
            frame = await op(server.recv(copy=False))
            await op(server.send(frame.bytes.upper(), routing_id=frame.routing_id))
            assert await op(reply) == b"FROM A THREAD"
        finally:
            ctx.destroy(linger=0)
            blocking_ctx.destroy(linger=0)

    run(main())

"""purezmq.asyncio's STREAM sockets (issue 15): raw connections served in the event loop itself.

Raw peers are the loop's own streams (asyncio.open_connection / start_server), pyzmq's STREAM
runs in a thread, http.client asks an asyncio STREAM HTTP server from a thread, and an asyncio
STREAM fetches a page from http.server. Every test runs on asyncio's loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import http.client
import os
from typing import Any

import pytest
import zmq
from interop._util import bind_any, prep
from interop.test_stream import RESPONSE_BODY, http_server

import purezmq
import purezmq.asyncio

from ._aio import op

pytestmark = pytest.mark.timeout(60)


def stream(ctx: Any) -> Any:
    sock = ctx.socket(purezmq.STREAM)
    sock.linger = 0
    return sock


def port_of(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


async def open_raw(endpoint: str) -> tuple[Any, Any]:
    """The loop's own stream to a tcp or ipc endpoint."""
    if endpoint.startswith("ipc://"):
        return await op(asyncio.open_unix_connection(endpoint[len("ipc://") :]))
    return await op(asyncio.open_connection("127.0.0.1", port_of(endpoint)))


async def recv(sock: Any) -> list[bytes]:
    return await op(sock.recv_multipart(), what="recv")


async def recv_data(sock: Any, routing_id: bytes, size: int) -> bytes:
    data = b""
    while len(data) < size:
        rid, chunk = await recv(sock)
        assert rid == routing_id and chunk, (rid, chunk)
        data += chunk
    return data


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_accepted_connections(run, transport: str, ipc_endpoint: str) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx, stream(ctx) as server:
            endpoint = bind_any(server, transport, ipc_endpoint)
            reader, writer = await open_raw(endpoint)
            rid, hello = await recv(server)
            assert hello == b"" and len(rid) == 5 and rid[0] == 0
            writer.write(b"hello")
            assert await recv_data(server, rid, 5) == b"hello"
            await op(server.send(rid, purezmq.SNDMORE))
            await op(server.send(b"world"))
            assert await op(reader.readexactly(5)) == b"world"
            big = os.urandom(1 << 20)
            writer.write(big)
            assert await recv_data(server, rid, len(big)) == big
            writer.close()
            assert await recv(server) == [rid, b""]
            # The next connection: the next id; then closed by the socket, after its data.
            reader, writer = await open_raw(endpoint)
            rid2, _ = await recv(server)
            assert int.from_bytes(rid2[1:], "big") == int.from_bytes(rid[1:], "big") + 1
            await op(server.send_multipart([rid2, big]))
            await op(server.send_multipart([rid2, b""]))
            assert await op(reader.read()) == big  # All of it, then the end.
            writer.close()
            with pytest.raises(purezmq.ZMQError) as info:
                await server.send(rid2, purezmq.SNDMORE)
            assert info.value.errno == errno.EHOSTUNREACH
            assert await server.poll(200) == 0  # No notification of our own close.

    run(scenario())


def test_slow_reader(run) -> None:
    """RCVHWM 2: the connection waits for the application; all of it, then the end."""

    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx, stream(ctx) as server:
            server.rcvhwm = 2
            reader, writer = await open_raw(bind_any(server, "tcp"))
            rid, _ = await recv(server)
            payload = os.urandom(2 << 20)
            writer.write(payload)
            writer.close()
            assert await recv_data(server, rid, len(payload)) == payload
            assert await recv(server) == [rid, b""]

    run(scenario())


def test_unknown_id_and_notify_off(run) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx, stream(ctx) as server:
            server.setsockopt(purezmq.STREAM_NOTIFY, 0)
            endpoint = bind_any(server, "tcp")
            for send in (
                lambda: server.send(b"\x00nope", purezmq.SNDMORE),
                lambda: server.send_multipart([b"\x00nope", b"data"]),
            ):
                with pytest.raises(purezmq.ZMQError) as info:
                    await op(send())
                assert info.value.errno == errno.EHOSTUNREACH
            reader, writer = await asyncio.open_connection("127.0.0.1", port_of(endpoint))
            writer.write(b"first")
            rid, data = await recv(server)
            assert data == b"first"  # No notification first.
            writer.close()
            assert await server.poll(300) == 0  # Nor at the end.

    run(scenario())


def test_connect_reconnect_and_connect_routing_id(run) -> None:
    """A connect's id is known at once; sends wait for the connection, and it reconnects with
    that id; CONNECT_ROUTING_ID names the next one; closing one by empty data is for good."""

    async def scenario() -> None:
        accepted: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue()

        async def on_client(reader: Any, writer: Any) -> None:
            await accepted.put((reader, writer))

        listener = await asyncio.start_server(on_client, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        try:
            with purezmq.asyncio.Context() as ctx, stream(ctx) as client:
                client.reconnect_ivl = 20
                client.connect(f"tcp://127.0.0.1:{port}")
                rid = client.getsockopt(purezmq.ROUTING_ID)
                assert len(rid) == 5 and rid[0] == 0
                await op(client.send_multipart([rid, b"early"]))
                reader, writer = await op(accepted.get())
                assert await recv(client) == [rid, b""]
                assert await op(reader.readexactly(5)) == b"early"
                writer.close()
                assert await recv(client) == [rid, b""]
                reader, writer = await op(accepted.get())  # Made again...
                assert await recv(client) == [rid, b""]  # ...with the same id.
                writer.write(b"again")
                assert await recv_data(client, rid, 5) == b"again"

                client.setsockopt(purezmq.CONNECT_ROUTING_ID, b"named")
                client.connect(f"tcp://127.0.0.1:{port}")
                named_reader, named_writer = await op(accepted.get())
                assert await recv(client) == [b"named", b""]
                await op(client.send_multipart([b"named", b"hi"]))
                await op(client.send_multipart([b"named", b""]))
                assert await op(named_reader.read()) == b"hi"
                named_writer.close()
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(accepted.get(), 0.3)  # Not made again.
                writer.close()
        finally:
            listener.close()

    run(scenario())


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("binder", ["purezmq", "pyzmq"])
def test_stream_to_pyzmq_stream(run, transport: str, binder: str, ipc_endpoint: str) -> None:
    async def scenario() -> None:
        zctx = zmq.Context()
        theirs = prep(zctx.socket(zmq.STREAM))
        try:
            with purezmq.asyncio.Context() as ctx, stream(ctx) as ours:
                if binder == "purezmq":
                    endpoint = bind_any(ours, transport, ipc_endpoint)
                    theirs.connect(endpoint)
                else:
                    endpoint = bind_any(theirs, transport, ipc_endpoint)
                    ours.connect(endpoint)
                our_id, hello = await recv(ours)
                assert hello == b""
                their_id, hello = await asyncio.to_thread(theirs.recv_multipart)
                assert hello == b""
                payload = os.urandom(200_000)
                await op(ours.send_multipart([our_id, payload]))
                got = b""
                while len(got) < len(payload):
                    rid, chunk = await asyncio.to_thread(theirs.recv_multipart)
                    assert rid == their_id
                    got += chunk
                assert got == payload
                await asyncio.to_thread(theirs.send_multipart, [their_id, b"and back"])
                assert await recv_data(ours, our_id, 8) == b"and back"
                await op(ours.send_multipart([our_id, b""]))  # Closed: libzmq hears of it.
                assert await asyncio.to_thread(theirs.recv_multipart) == [their_id, b""]
        finally:
            theirs.close(0)
            zctx.term()

    run(scenario())


def test_http_server(run) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx, stream(ctx) as server:
            port = port_of(bind_any(server, "tcp"))

            def ask(path: str) -> tuple[int, bytes]:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    conn.request("GET", path)
                    response = conn.getresponse()
                    return response.status, response.read()
                finally:
                    conn.close()

            asking = asyncio.ensure_future(asyncio.to_thread(ask, "/aio"))
            pending: dict[bytes, bytes] = {}
            while True:
                rid, data = await recv(server)
                pending[rid] = pending.get(rid, b"") + data
                if b"\r\n\r\n" in pending[rid]:
                    break
            body = RESPONSE_BODY + b"path=/aio\n"
            head = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
            await op(server.send_multipart([rid, head % len(body) + body]))
            await op(server.send_multipart([rid, b""]))
            assert await op(asking) == (200, body)

    run(scenario())


def test_http_client(run) -> None:
    async def scenario() -> None:
        with purezmq.asyncio.Context() as ctx, stream(ctx) as client:
            with http_server() as port:
                client.connect(f"tcp://127.0.0.1:{port}")
                rid = client.getsockopt(purezmq.ROUTING_ID)
                assert await recv(client) == [rid, b""]
                await op(client.send_multipart([rid, b"GET /aio HTTP/1.0\r\n\r\n"]))
                answer = b""
                while True:
                    got, data = await recv(client)
                    assert got == rid
                    if not data:
                        break
                    answer += data
                head, _, body = answer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.0 200")
                assert body == b"page /aio\n" + b"x" * 100_000
                with contextlib.suppress(Exception):
                    client.disconnect(f"tcp://127.0.0.1:{port}")

    run(scenario())

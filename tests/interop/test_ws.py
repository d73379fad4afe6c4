"""ws:// (ZWS 2.0 over tcp) between purezmq sockets, on both engines and across them; a raw
client here speaks it by hand, and tests/unit/test_zws.py checks the wire format against the
websockets library. Against libzmq's ws transport (pyzmq's wheels and Debian's libzmq5 have
none; a libzmq built with the draft API has): test_ws_libzmq.py."""

from __future__ import annotations

import asyncio
import base64
import errno
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

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


def test_last_endpoint_keeps_the_path(ctx: purezmq.Context) -> None:
    pull = _sock(ctx, purezmq.PULL)
    pull.bind("ws://127.0.0.1:*/feed/live")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("ws://127.0.0.1:") and endpoint.endswith("/feed/live")


@pytest.mark.parametrize(
    ("server_type", "client_type"),
    [("PULL", "PUSH"), ("REP", "REQ"), ("ROUTER", "DEALER"), ("PUB", "SUB"), ("PAIR", "PAIR")],
)
def test_patterns_over_ws(ctx: purezmq.Context, server_type: str, client_type: str) -> None:
    server = _sock(ctx, getattr(purezmq, server_type))
    server.bind("ws://127.0.0.1:*/zmq")
    client = _sock(ctx, getattr(purezmq, client_type))
    if client_type == "DEALER":
        client.setsockopt(purezmq.ROUTING_ID, b"client-1")
    if client_type == "SUB":
        client.subscribe(b"news")
    client.connect(server.last_endpoint.decode())
    if server_type == "PUB":
        # Subscriptions travel as 0x01 messages (RFC 45): publish until one arrives.
        for _ in range(200):
            server.send_multipart([b"news", b"flash"])
            if client.poll(20):
                break
        assert client.recv_multipart() == [b"news", b"flash"]
        return
    client.send_multipart([b"hello", b"x" * 100_000])
    got = server.recv_multipart()
    if server_type == "ROUTER":
        assert got[0] == b"client-1"
        got = got[1:]
    assert got == [b"hello", b"x" * 100_000]
    if server_type in ("REP", "ROUTER", "PAIR"):
        server.send_multipart(([b"client-1"] if server_type == "ROUTER" else []) + [b"back"])
        assert client.recv_multipart() == [b"back"]


def test_plain_over_ws_with_an_authenticator(ctx: purezmq.Context) -> None:
    from purezmq.auth.thread import ThreadAuthenticator

    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_plain(domain="*", passwords={"admin": "secret"})
    try:
        server = _sock(ctx, purezmq.REP)
        server.plain_server = 1
        server.bind("ws://127.0.0.1:*/secure")
        client = _sock(ctx, purezmq.REQ)
        client.plain_username, client.plain_password = b"admin", b"secret"
        client.connect(server.last_endpoint.decode())
        client.send(b"let me in")
        frame = server.recv(copy=False)
        assert frame.bytes == b"let me in" and frame.get("User-Id") == "admin"
        intruder = _sock(ctx, purezmq.REQ)
        intruder.plain_username, intruder.plain_password = b"admin", b"wrong"
        intruder.connect(server.last_endpoint.decode())
        intruder.send(b"me too")
        assert server.poll(300) == 0
    finally:
        auth.stop()


def _raw_upgrade(port: int, protocol: str) -> tuple[socket.socket, bytes]:
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    conn.sendall(
        (
            f"GET /zmq HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = conn.recv(4096)
        if not chunk:
            break
        answer += chunk
    return conn, answer


def _masked(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x82, 0x80 | len(payload)]) + mask + body


def test_a_raw_bare_client(ctx: purezmq.Context) -> None:
    """A hand-written client speaking "ZWS2.0" as a browser would, to a ROUTER."""
    router = _sock(ctx, purezmq.ROUTER)
    router.bind("ws://127.0.0.1:*/zmq")
    port = int(router.last_endpoint.decode().rsplit(":", 1)[1].split("/")[0])
    conn, answer = _raw_upgrade(port, "ZWS2.0")
    assert answer.startswith(b"HTTP/1.1 101") and b"Sec-WebSocket-Protocol: ZWS2.0\r\n" in answer
    conn.sendall(_masked(b"\x00raw") + _masked(b"\x00hello from raw"))
    assert router.recv_multipart() == [b"raw", b"hello from raw"]
    conn.close()


def test_bad_upgrades_cost_only_their_connection(ctx: purezmq.Context) -> None:
    pull = _sock(ctx, purezmq.PULL)
    pull.bind("ws://127.0.0.1:*/zmq")
    endpoint = pull.last_endpoint.decode()
    port = int(endpoint.rsplit(":", 1)[1].split("/")[0])
    conn, answer = _raw_upgrade(port, "chat")
    assert answer.startswith(b"HTTP/1.1 400")
    conn.close()
    garbage = socket.create_connection(("127.0.0.1", port), timeout=5)
    garbage.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
    garbage.settimeout(5)
    received = b""
    while chunk := garbage.recv(4096):  # Until the server drops it (a timeout fails here).
        received += chunk
    assert received in (
        b"",
        b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    garbage.close()
    push = _sock(ctx, purezmq.PUSH)
    push.connect(endpoint)
    push.send(b"still serving")
    assert pull.recv() == b"still serving"


def test_bad_ws_endpoints(ctx: purezmq.Context) -> None:
    sock = _sock(ctx, purezmq.PULL)
    for bad in ("ws://", "ws://127.0.0.1", "ws://127.0.0.1:notaport/x"):
        with pytest.raises(purezmq.ZMQError):
            sock.bind(bad)


@pytest.mark.parametrize("server_engine", ["asyncio", "threaded"])
def test_asyncio_over_ws(server_engine: str) -> None:
    threaded = purezmq.Context()

    async def main() -> list[bytes]:
        context = pza.Context()
        server = (context if server_engine == "asyncio" else threaded).socket(purezmq.REP)
        server.linger = 0
        server.bind("ws://127.0.0.1:*/aio")
        client = context.socket(purezmq.REQ)
        client.linger = 0
        client.connect(server.last_endpoint.decode())
        await client.send(b"ping")
        if server_engine == "asyncio":
            request = await asyncio.wait_for(server.recv(), WAIT_MS / 1000)
            await server.send(request + b"-pong")
        else:
            server.rcvtimeo = WAIT_MS
            loop = asyncio.get_running_loop()
            request = await loop.run_in_executor(None, server.recv)
            server.send(request + b"-pong")
        reply = await asyncio.wait_for(client.recv(), WAIT_MS / 1000)
        client.close()
        server.close()
        context.term()
        return [request, reply]

    try:
        assert asyncio.run(asyncio.wait_for(main(), 20)) == [b"ping", b"ping-pong"]
    finally:
        threaded.destroy(linger=0)


# -- wss:// (TLS under ZWS) -------------------------------------------------------------------


def _certificate(directory: Any, name: str) -> tuple[bytes, bytes]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key (PEM)."""
    import subprocess

    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert.read_bytes(), key.read_bytes()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, bytes]]:
    directory = tmp_path_factory.mktemp("wss")
    return {name: _certificate(directory, name) for name in ("server", "stranger")}


def _wss_server(context: Any, kind: int, cert: tuple[bytes, bytes]) -> Any:
    server = _sock(context, kind)
    server.setsockopt(purezmq.WSS_CERT_PEM, cert[0])
    server.setsockopt(purezmq.WSS_KEY_PEM, cert[1])
    server.bind("wss://127.0.0.1:*/secure")
    return server


def _wss_client(context: Any, kind: int, trust: bytes, endpoint: str, host: str = "") -> Any:
    client = _sock(context, kind)
    client.setsockopt(purezmq.WSS_TRUST_PEM, trust)
    client.setsockopt(purezmq.WSS_TRUST_SYSTEM, 0)
    if host:
        client.setsockopt(purezmq.WSS_HOSTNAME, host.encode())
    client.connect(endpoint)
    return client


def test_wss_round_trip(ctx: purezmq.Context, certificates: Any) -> None:
    server = _wss_server(ctx, purezmq.REP, certificates["server"])
    endpoint = server.last_endpoint.decode()
    assert endpoint.startswith("wss://127.0.0.1:") and endpoint.endswith("/secure")
    for target in (endpoint, endpoint.replace("127.0.0.1", "localhost")):
        client = _wss_client(ctx, purezmq.REQ, certificates["server"][0], target)
        client.send_multipart([b"sealed", b"y" * 200_000])
        assert server.recv_multipart() == [b"sealed", b"y" * 200_000]
        server.send(b"ok")
        assert client.recv() == b"ok"
        client.close()


@pytest.mark.parametrize("failure", ["untrusted", "wrong-name"])
def test_wss_refuses_a_server_it_cannot_trust(
    ctx: purezmq.Context, certificates: Any, failure: str
) -> None:
    server = _wss_server(ctx, purezmq.PULL, certificates["server"])
    endpoint = server.last_endpoint.decode()
    if failure == "untrusted":
        client = _wss_client(ctx, purezmq.PUSH, certificates["stranger"][0], endpoint)
    else:
        client = _wss_client(
            ctx, purezmq.PUSH, certificates["server"][0], endpoint, host="other.example"
        )
    client.send(b"must not arrive")
    assert server.poll(500) == 0
    good = _wss_client(ctx, purezmq.PUSH, certificates["server"][0], endpoint)
    good.send(b"this one may")
    assert server.recv() == b"this one may"


def test_wss_bind_needs_a_certificate(ctx: purezmq.Context) -> None:
    server = _sock(ctx, purezmq.PULL)
    with pytest.raises(purezmq.ZMQError) as info:
        server.bind("wss://127.0.0.1:*/x")
    assert info.value.errno == errno.EINVAL


def test_wss_on_asyncio(certificates: Any) -> None:
    async def main() -> bytes:
        context = pza.Context()
        server = _wss_server(context, purezmq.PULL, certificates["server"])
        client = _wss_client(
            context, purezmq.PUSH, certificates["server"][0], server.last_endpoint.decode()
        )
        await client.send(b"aio over tls")
        got = await asyncio.wait_for(server.recv(), WAIT_MS / 1000)
        client.close()
        server.close()
        context.term()
        return got

    assert asyncio.run(asyncio.wait_for(main(), 20)) == b"aio over tls"

"""ws:// and wss:// against libzmq's own ws transport (issue 16): the patterns in both directions
(purezmq binds and libzmq connects, and the reverse), and wss with a certificate each way.

pyzmq's wheels and Debian's libzmq5 are built without ws; the libzmq here is the one
scripts/build_draft_libzmq.sh builds (Debian's 4.3.4 source with the draft API, which brings ws,
and wss with GnuTLS), or one named by PUREZMQ_DRAFT_LIBZMQ. Between purezmq sockets, on both
engines: test_ws.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import zmq

import purezmq

from . import _libzmq_ctypes as libzmq
from .test_draft_sockets import ctx, lctx, needs_draft_libzmq  # noqa: F401 - fixtures
from .test_ws import certificates  # noqa: F401 - the fixture

pytestmark = [pytest.mark.timeout(30), needs_draft_libzmq]
TIMEOUT_MS = 5000

PATTERNS = [
    ("PUB", "SUB"),
    ("REP", "REQ"),
    ("ROUTER", "DEALER"),
    ("PULL", "PUSH"),
    ("PAIR", "PAIR"),
]


def ours(context: purezmq.Context, kind: str) -> Any:
    sock = context.socket(getattr(purezmq, kind))
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = TIMEOUT_MS
    if kind == "SUB":
        sock.subscribe(b"")
    return sock


def theirs(context: libzmq.Context, kind: str) -> libzmq.Socket:
    sock = context.socket(getattr(zmq, kind))
    for option, value in ((zmq.LINGER, 0), (zmq.RCVTIMEO, TIMEOUT_MS), (zmq.SNDTIMEO, TIMEOUT_MS)):
        sock.setsockopt(option, value)
    if kind == "SUB":
        sock.setsockopt(zmq.SUBSCRIBE, b"")
    return sock


def exchange(server: Any, client: Any, server_kind: str) -> None:
    """One message each way where the pattern allows; a PUB publishes until the SUB hears."""
    if server_kind == "PUB":
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            server.send_multipart([b"topic", b"over ws"])
            try:
                assert client.recv_multipart(zmq.DONTWAIT) == [b"topic", b"over ws"]
                return
            except (zmq.Again, purezmq.Again):
                time.sleep(0.02)
        raise AssertionError("the SUB heard nothing")
    if server_kind == "PULL":
        client.send_multipart([b"job", b"x" * 100_000])
        assert server.recv_multipart() == [b"job", b"x" * 100_000]
        return
    client.send_multipart([b"hello", b"y" * 100_000])
    request = server.recv_multipart()
    assert request[-2:] == [b"hello", b"y" * 100_000]
    server.send_multipart([*request[:-2], b"world"])
    assert client.recv_multipart() == [b"world"]


@pytest.mark.parametrize(("server_kind", "client_kind"), PATTERNS)
@pytest.mark.parametrize("we_bind", [True, False], ids=["purezmq-binds", "libzmq-binds"])
def test_patterns_over_ws(ctx, lctx, server_kind, client_kind, we_bind):  # noqa: F811
    if we_bind:
        server = ours(ctx, server_kind)
        server.bind("ws://127.0.0.1:*/zeromq")
        endpoint = server.last_endpoint.decode()
        client = theirs(lctx, client_kind)
    else:
        server = theirs(lctx, server_kind)
        server.bind("ws://127.0.0.1:*/zeromq")
        endpoint = server.last_endpoint.decode()
        client = ours(ctx, client_kind)
    assert endpoint.startswith("ws://127.0.0.1:") and endpoint.endswith("/zeromq")
    client.connect(endpoint)
    exchange(server, client, server_kind)


@pytest.mark.parametrize("we_bind", [True, False], ids=["purezmq-binds", "libzmq-binds"])
def test_wss_both_ways(ctx, lctx, certificates, we_bind):  # noqa: F811
    cert, key = certificates["server"]
    if we_bind:
        server = ours(ctx, "REP")
        server.wss_cert_pem = cert
        server.wss_key_pem = key
        client = theirs(lctx, "REQ")
        client.setsockopt(zmq.WSS_TRUST_PEM, cert)
        client.setsockopt(zmq.WSS_TRUST_SYSTEM, 0)
    else:
        server = theirs(lctx, "REP")
        server.setsockopt(zmq.WSS_CERT_PEM, cert)
        server.setsockopt(zmq.WSS_KEY_PEM, key)
        client = ours(ctx, "REQ")
        client.wss_trust_pem = cert
        client.wss_trust_system = 0
    server.bind("wss://127.0.0.1:*/secure")
    client.connect(server.last_endpoint.decode().replace("127.0.0.1", "localhost"))
    exchange(server, client, "REP")

"""ZMQ_METADATA: "X-" properties sent in the handshake (READY, or CURVE's INITIATE), read by the
peer with Frame.get, both ways against pyzmq, with NULL, PLAIN and CURVE."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import zmq as pyzmq

import purezmq
import purezmq.asyncio as pza
import purezmq.auth.thread

pytestmark = pytest.mark.timeout(60)

try:
    import nacl  # noqa: F401

    MECHANISMS = ["NULL", "PLAIN", "CURVE"]
except ImportError:
    MECHANISMS = ["NULL", "PLAIN"]


@pytest.fixture(params=["purezmq-sends", "pyzmq-sends"])
def direction(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def contexts() -> Iterator[dict[str, Any]]:
    found = {"purezmq": purezmq.Context(), "zmq": pyzmq.Context()}
    yield found
    for ctx in found.values():
        ctx.destroy(linger=0)


def _secure(server: Any, client: Any, mechanism: str, lib_server: Any, lib_client: Any) -> Any:
    """Set the mechanism up; returns what to stop afterwards (an authenticator), if anything."""
    if mechanism == "PLAIN":
        server.plain_server = True
        client.plain_username, client.plain_password = b"user", b"pass"
        auth_module = __import__(f"{lib_server.__name__}.auth.thread", fromlist=["x"])
        auth = auth_module.ThreadAuthenticator(server.context)
        auth.start()
        auth.configure_plain(domain="*", passwords={"user": "pass"})
        return auth
    if mechanism == "CURVE":
        public, secret = pyzmq.curve_keypair()
        client_public, client_secret = pyzmq.curve_keypair()
        server.curve_secretkey, server.curve_server = secret, True
        client.curve_serverkey = public
        client.curve_publickey, client.curve_secretkey = client_public, client_secret
    return None


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_metadata_reaches_the_peer(
    contexts: dict[str, Any], direction: str, mechanism: str
) -> None:
    sender_lib, receiver_lib = (
        (purezmq, pyzmq) if direction == "purezmq-sends" else (pyzmq, purezmq)
    )
    receiver = contexts[receiver_lib.__name__].socket(receiver_lib.PULL)
    sender = contexts[sender_lib.__name__].socket(sender_lib.PUSH)
    for sock in (receiver, sender):
        sock.linger = 0
        sock.rcvtimeo = sock.sndtimeo = 5000
    sender.setsockopt(sender_lib.METADATA, b"X-App:inventory")
    sender.setsockopt(sender_lib.METADATA, b"X-Region:eu-west")
    auth = _secure(receiver, sender, mechanism, receiver_lib, sender_lib)
    try:
        port = receiver.bind_to_random_port("tcp://127.0.0.1")
        sender.connect(f"tcp://127.0.0.1:{port}")
        sender.send(b"payload")
        frame = receiver.recv(copy=False)
        assert frame.bytes == b"payload"
        assert frame.get("X-App") == "inventory"
        assert frame.get("X-Region") == "eu-west"
        assert frame.get("Socket-Type") == "PUSH"
        with pytest.raises(receiver_lib.ZMQError):
            frame.get("X-Absent")
    finally:
        if auth is not None:
            auth.stop()


def test_metadata_on_asyncio() -> None:
    pyctx = pyzmq.Context()
    pull = pyctx.socket(pyzmq.PULL)
    pull.rcvtimeo = 5000
    port = pull.bind_to_random_port("tcp://127.0.0.1")

    async def main() -> None:
        ctx = pza.Context()
        push = ctx.socket(purezmq.PUSH)
        push.setsockopt(purezmq.METADATA, b"X-Loop:asyncio")
        push.connect(f"tcp://127.0.0.1:{port}")
        await push.send(b"hi")
        frame = await asyncio.get_running_loop().run_in_executor(
            None, lambda: pull.recv(copy=False)
        )
        assert frame.get("X-Loop") == "asyncio"
        push.close(linger=0)
        ctx.term()

    try:
        asyncio.run(asyncio.wait_for(main(), 20))
    finally:
        pyctx.destroy(linger=0)


# -- ZAP_ENFORCE_DOMAIN ---------------------------------------------------------------------------


@pytest.mark.parametrize("domain", [b"", b"global"])
@pytest.mark.parametrize("enforce", [0, 1])
def test_zap_enforce_domain_with_null(enforce: int, domain: bytes) -> None:
    """NULL: ZAP is asked only when the socket has a ZAP domain, enforced or not; here the
    handler denies the address, so asking means refusing. The same on pyzmq and purezmq."""
    outcomes = []
    for lib in (pyzmq, purezmq):
        auth_module = __import__(f"{lib.__name__}.auth.thread", fromlist=["x"])
        ctx = lib.Context()
        auth = auth_module.ThreadAuthenticator(ctx)
        auth.start()
        auth.deny("127.0.0.1")
        try:
            server = ctx.socket(lib.PULL)
            server.setsockopt(lib.ZAP_ENFORCE_DOMAIN, enforce)
            if domain:
                server.zap_domain = domain
            port = server.bind_to_random_port("tcp://127.0.0.1")
            client = ctx.socket(lib.PUSH)
            client.linger = 0
            client.sndtimeo = 1000
            client.connect(f"tcp://127.0.0.1:{port}")
            try:
                client.send(b"x")
                delivered = bool(server.poll(500))
            except lib.Again:  # (libzmq may drop a refused connection's pipe: no peer left.)
                delivered = False
            outcomes.append(delivered)
        finally:
            auth.stop()
            ctx.destroy(linger=0)
    assert outcomes[0] == outcomes[1] == (not domain)


def test_purezmq_zap_enforce_domain_without_a_domain_refuses_plain() -> None:
    """libzmq 4.3.5 aborts the process here (an assertion in its PLAIN server); purezmq
    refuses the client and says why in its log."""
    ctx = purezmq.Context()
    auth = purezmq.auth.thread.ThreadAuthenticator(ctx)
    auth.start()
    for domain in ("*", "global"):  # ("*": what a request with no domain is checked against)
        auth.configure_plain(domain=domain, passwords={"u": "p"})
    try:
        server = ctx.socket(purezmq.PULL)
        server.plain_server = True
        server.setsockopt(purezmq.ZAP_ENFORCE_DOMAIN, 1)
        port = server.bind_to_random_port("tcp://127.0.0.1")
        client = ctx.socket(purezmq.PUSH)
        client.linger = 0
        client.plain_username, client.plain_password = b"u", b"p"
        client.connect(f"tcp://127.0.0.1:{port}")
        client.send(b"x")
        assert server.poll(500) == 0
        server.zap_domain = b"global"  # With a domain, the same client is let in.
        other = ctx.socket(purezmq.PUSH)
        other.linger = 0
        other.plain_username, other.plain_password = b"u", b"p"
        other.connect(f"tcp://127.0.0.1:{port}")
        other.send(b"y")
        assert server.poll(5000)
    finally:
        auth.stop()
        ctx.destroy(linger=0)

"""The publish-subscribe options and CONFLATE, each test body on pyzmq (libzmq 4.3.5, the
reference) and on purezmq, with a peer of the other library."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import zmq as pyzmq

import purezmq

pytestmark = pytest.mark.timeout(60)

WAIT = 5.0


@pytest.fixture(params=["zmq", "purezmq"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def ctx(lib: ModuleType) -> Iterator[Any]:
    context = lib.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def peer_ctx(lib: ModuleType) -> Iterator[Any]:
    context = (purezmq if lib is pyzmq else pyzmq).Context()
    yield context
    context.destroy(linger=0)


def _sock(context: Any, kind: int) -> Any:
    sock = context.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = int(WAIT * 1000)
    return sock


def _until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
    return found


def test_welcome_message(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    xpub = _sock(ctx, lib.XPUB)
    xpub.setsockopt(lib.XPUB_WELCOME_MSG, b"WELCOME")
    port = xpub.bind_to_random_port("tcp://127.0.0.1")
    sub = _sock(peer_ctx, pyzmq.SUB)
    sub.subscribe(b"WEL")
    sub.connect(f"tcp://127.0.0.1:{port}")
    # (libzmq's XPUB takes a new peer in at its next call.)
    _until(lambda: xpub.poll(10) or sub.poll(10), "the welcome")
    assert sub.recv() == b"WELCOME"


def test_nodrop_refuses_at_the_high_water_mark(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    xpub = _sock(ctx, lib.XPUB)
    xpub.setsockopt(lib.XPUB_NODROP, 1)
    xpub.sndhwm = 10
    port = xpub.bind_to_random_port("tcp://127.0.0.1")
    sub = _sock(peer_ctx, pyzmq.SUB)
    sub.rcvhwm = 10
    sub.subscribe(b"")
    sub.connect(f"tcp://127.0.0.1:{port}")
    assert xpub.recv() == b"\x01"
    with pytest.raises(lib.Again):
        for _ in range(1_000_000):
            xpub.send(b"x" * 1000, lib.NOBLOCK)


def test_manual_subscriptions(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    xpub = _sock(ctx, lib.XPUB)
    xpub.setsockopt(lib.XPUB_MANUAL, 1)
    port = xpub.bind_to_random_port("tcp://127.0.0.1")
    sub = _sock(peer_ctx, pyzmq.SUB)
    sub.subscribe(b"topic")
    sub.connect(f"tcp://127.0.0.1:{port}")
    assert xpub.recv() == b"\x01topic"
    xpub.send(b"topic-1")  # Nothing applied yet: not sent.
    xpub.setsockopt(lib.SUBSCRIBE, b"to")  # What the application decides instead.
    xpub.send(b"other")
    xpub.send(b"topic-2")
    assert sub.recv() == b"topic-2"
    assert sub.poll(100) == 0


def test_invert_matching(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    pub = _sock(ctx, lib.PUB)
    pub.setsockopt(lib.INVERT_MATCHING, 1)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = _sock(peer_ctx, pyzmq.SUB)
    sub.setsockopt(pyzmq.INVERT_MATCHING, 1)
    sub.subscribe(b"a")
    sub.connect(f"tcp://127.0.0.1:{port}")

    def published() -> bool:
        pub.send(b"a-skipped")
        pub.send(b"b-sent")
        return bool(sub.poll(20))

    _until(published, "the subscription")
    assert sub.recv() == b"b-sent"
    while sub.poll(50):
        assert sub.recv() == b"b-sent"  # Never an "a" message.


def test_verboser_passes_every_unsubscription(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    xpub = _sock(ctx, lib.XPUB)
    xpub.setsockopt(lib.XPUB_VERBOSER, 1)
    port = xpub.bind_to_random_port("tcp://127.0.0.1")
    subs = []
    for _ in range(2):
        sub = _sock(peer_ctx, pyzmq.SUB)
        sub.connect(f"tcp://127.0.0.1:{port}")
        sub.subscribe(b"t")
        assert xpub.recv() == b"\x01t"  # Both, as with XPUB_VERBOSE.
        subs.append(sub)
    for sub in subs:
        sub.unsubscribe(b"t")
        assert xpub.recv() == b"\x00t"  # Both, where XPUB_VERBOSE passes only the last.


def test_conflate_keeps_the_last(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    pull = _sock(ctx, lib.PULL)
    pull.setsockopt(lib.CONFLATE, 1)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = _sock(peer_ctx, pyzmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    for n in range(2000):
        push.send(b"%d" % n)
    received = []
    while not received or received[-1] != b"1999":
        received.append(pull.recv())
    assert len(received) < 2000 / 4  # Most were replaced by later ones before they were read.
    assert [int(m) for m in received] == sorted(int(m) for m in received)

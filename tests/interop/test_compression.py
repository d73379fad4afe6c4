"""Negotiated compression between purezmq peers (purezmq's own): on when both ends have it,
off (nothing changes on the wire) with pyzmq; under CURVE; a bomb costs its connection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq as pyzmq

import purezmq
import purezmq.asyncio as pza

pytestmark = pytest.mark.timeout(60)

WAIT_MS = 5000
DOCUMENT = json.dumps([{"id": n, "name": f"item {n}", "tags": ["a", "b"]} for n in range(2000)])
PAYLOAD = DOCUMENT.encode()


@pytest.fixture
def ctx() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


def _pair(ctx: Any, send_codecs: Any, recv_codecs: Any, **options: Any) -> tuple[Any, Any]:
    pull = ctx.socket(purezmq.PULL)
    push = ctx.socket(purezmq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
        sock.rcvtimeo = sock.sndtimeo = WAIT_MS
        for name, value in options.items():
            setattr(sock, name, value)
    if recv_codecs is not None:
        pull.set_compression(recv_codecs)
    if send_codecs is not None:
        push.set_compression(send_codecs)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push.connect(f"tcp://127.0.0.1:{port}")
    return push, pull


@pytest.mark.parametrize("codec", ["zstd", "lz4", "zlib"])
def test_compressed_between_purezmq_peers(ctx: purezmq.Context, codec: str) -> None:
    push, pull = _pair(ctx, [codec], ["zstd", "lz4", "zlib"])
    for _ in range(5):
        push.send_multipart([b"tiny", PAYLOAD])
    for _ in range(5):
        assert pull.recv_multipart() == [b"tiny", PAYLOAD]
    wire = push.stats()["bytes_out"]
    assert wire < 5 * len(PAYLOAD) / 4, (wire, len(PAYLOAD))  # JSON shrinks well past 4x.
    assert pull.stats()["bytes_in"] == wire


def test_no_shared_codec_means_no_compression(ctx: purezmq.Context) -> None:
    push, pull = _pair(ctx, ["zstd"], ["zlib"])
    push.send(PAYLOAD)
    assert pull.recv() == PAYLOAD
    assert push.stats()["bytes_out"] > len(PAYLOAD)


def test_one_side_only_changes_nothing(ctx: purezmq.Context) -> None:
    push, pull = _pair(ctx, ["zlib"], None)
    push.send(PAYLOAD)
    assert pull.recv() == PAYLOAD
    assert push.stats()["bytes_out"] > len(PAYLOAD)


@pytest.mark.parametrize("purezmq_sends", [True, False])
def test_with_pyzmq_nothing_changes(ctx: purezmq.Context, pyctx: Any, purezmq_sends: bool) -> None:
    ours = ctx.socket(purezmq.PUSH if purezmq_sends else purezmq.PULL)
    theirs = pyctx.socket(pyzmq.PULL if purezmq_sends else pyzmq.PUSH)
    for sock in (ours, theirs):
        sock.linger = 0
        sock.rcvtimeo = sock.sndtimeo = WAIT_MS
    ours.set_compression()
    port = theirs.bind_to_random_port("tcp://127.0.0.1")
    ours.connect(f"tcp://127.0.0.1:{port}")
    sender, receiver = (ours, theirs) if purezmq_sends else (theirs, ours)
    sender.send_multipart([b"plain", PAYLOAD])
    frame = receiver.recv_multipart(copy=False)
    assert [bytes(f) for f in frame] == [b"plain", PAYLOAD]
    if not purezmq_sends:
        return
    # pyzmq sees the announcement as a property it does not use.
    assert frame[0].get("X-Compression") == "zstd,lz4,zlib"


def test_under_curve(ctx: purezmq.Context) -> None:
    server_public, server_secret = purezmq.curve_keypair()
    client_public, client_secret = purezmq.curve_keypair()
    pull = ctx.socket(purezmq.PULL)
    pull.curve_secretkey, pull.curve_server = server_secret, True
    push = ctx.socket(purezmq.PUSH)
    push.curve_serverkey = server_public
    push.curve_publickey, push.curve_secretkey = client_public, client_secret
    for sock in (pull, push):
        sock.linger = 0
        sock.rcvtimeo = WAIT_MS
        sock.set_compression(["zlib"])
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(PAYLOAD)
    assert pull.recv() == PAYLOAD
    assert push.stats()["bytes_out"] < len(PAYLOAD) / 4  # Compressed, then sealed.


def test_a_compression_bomb_costs_its_connection(ctx: purezmq.Context) -> None:
    """A frame that would decompress past MAXMSGSIZE: the connection is dropped (and, the
    sender reconnecting, the next small message still arrives)."""
    pull = ctx.socket(purezmq.PULL)
    pull.linger = 0
    pull.rcvtimeo = WAIT_MS
    pull.maxmsgsize = 100_000
    pull.set_compression(["zlib"])
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    bomb = ctx.socket(purezmq.PUSH)
    bomb.linger = 0
    bomb.set_compression(["zlib"], threshold=0)
    bomb.connect(f"tcp://127.0.0.1:{port}")
    bomb.send(bytes(10_000_000))  # 10 MB of zeros: ~10 KB on the wire, under the frame limit.
    deadline = time.monotonic() + WAIT_MS / 1000
    while pull.stats()["disconnections"] < 1:
        assert time.monotonic() < deadline, "the bomb's connection was not dropped"
        time.sleep(0.01)
    assert pull.poll(0) == 0  # Nothing of it was delivered.


def test_bad_arguments(ctx: purezmq.Context) -> None:
    sock = ctx.socket(purezmq.PUSH)
    with pytest.raises(ValueError):
        sock.set_compression(["brotli"])
    with pytest.raises(ValueError):
        sock.set_compression(["zlib"], threshold=-1)
    sock.set_compression(None)
    sock.close()


def test_asyncio_compressed() -> None:
    async def main() -> bytes:
        context = pza.Context()
        pull = context.socket(purezmq.PULL)
        push = context.socket(purezmq.PUSH)
        for sock in (pull, push):
            sock.set_compression(["zstd"])
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push.connect(f"tcp://127.0.0.1:{port}")
        await push.send(PAYLOAD)
        got = await asyncio.wait_for(pull.recv(), WAIT_MS / 1000)
        assert push.stats()["bytes_out"] < len(PAYLOAD) / 4
        for sock in (pull, push):
            sock.close(linger=0)
        context.term()
        return got

    assert asyncio.run(asyncio.wait_for(main(), 20)) == PAYLOAD

"""The frame codec of negotiated compression, sans-IO: round trips, the choice, and what a
hostile peer can send (bad coding bytes, garbage, bombs)."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purezmq.protocol.compression import FrameCodec, available, choose
from purezmq.protocol.errors import ProtocolError

CODECS = available(["zstd", "lz4", "zlib"])


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip(codec: str) -> None:
    coder = FrameCodec(codec, CODECS, threshold=10, limit=-1)
    message = [b"short", b"x" * 10_000, b""]
    coded = coder.encode(message)
    assert coded[0] == b"\x00short"  # Under the threshold: as it is.
    assert len(coded[1]) < 1000
    assert coder.decode(coded) == message


def test_incompressible_frames_go_as_they_are() -> None:
    import os

    noise = os.urandom(5000)
    coder = FrameCodec("zlib", ["zlib"], threshold=0, limit=-1)
    assert coder.encode_frame(noise) == b"\x00" + noise


def test_choice() -> None:
    assert choose(["zstd", "zlib"], b"zlib,lz4") == "zlib"
    assert choose(["zstd", "zlib"], b"zstd, zlib") == "zstd"
    assert choose(["zstd"], b"lz4") is None
    assert choose(["zstd"], None) is None


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x09whatever", b"\x01not zlib at all"],
    ids=["empty", "unknown-coding", "garbage"],
)
def test_bad_frames(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        FrameCodec("zlib", ["zlib"], threshold=0, limit=-1).decode_frame(frame)


@pytest.mark.parametrize("codec", CODECS)
def test_a_bomb_is_refused(codec: str) -> None:
    sender = FrameCodec(codec, [codec], threshold=0, limit=-1)
    bomb = sender.encode_frame(bytes(5_000_000))
    assert len(bomb) < 100_000
    with pytest.raises(ProtocolError, match="decompress"):
        FrameCodec(codec, [codec], threshold=0, limit=1_000_000).decode_frame(bomb)


def test_a_codec_we_did_not_announce_is_refused() -> None:
    frame = b"\x01" + zlib.compress(b"x" * 100)
    with pytest.raises(ProtocolError, match="unknown coding"):
        FrameCodec("zstd", ["zstd"], threshold=0, limit=-1).decode_frame(frame)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_decode(frame: bytes) -> None:
    try:
        FrameCodec(CODECS[0], CODECS, threshold=0, limit=10_000).decode_frame(frame)
    except ProtocolError:
        pass

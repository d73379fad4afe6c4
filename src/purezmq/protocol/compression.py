"""Negotiated compression between purezmq peers: message frames travel compressed when both
ends announce a codec they share, and exactly as before with anyone else (libzmq ignores the
announcement, an "X-" property of READY).

Each frame of a compressed connection starts with one byte naming how its body is coded (0:
as it is, for frames under the threshold or that do not shrink), so each side picks its own
codec among those the other accepts. Frames are compressed before CURVE seals them. A frame
that does not decompress, or decompresses past the size limit (a compression bomb), is a
ProtocolError: that connection only is dropped.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

from .errors import ProtocolError

#: The READY property that announces the codecs a peer accepts ("zstd,lz4,zlib").
PROPERTY = "X-Compression"
#: Without MAXMSGSIZE, no frame decompresses past this.
DEFAULT_LIMIT = 256 * 1024 * 1024

_RAW = 0
_IDS = {"zlib": 1, "zstd": 2, "lz4": 3}


def _zstd() -> tuple[Callable[[bytes], bytes], Callable[[bytes, int], bytes]]:
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3)

    def decompress(data: bytes, limit: int) -> bytes:
        reader = zstandard.ZstdDecompressor().decompressobj()
        out = reader.decompress(data)
        if len(out) > limit:
            raise ValueError("over the limit")
        return bytes(out)

    return compressor.compress, decompress


def _lz4() -> tuple[Callable[[bytes], bytes], Callable[[bytes, int], bytes]]:
    import lz4.frame

    def decompress(data: bytes, limit: int) -> bytes:
        out = lz4.frame.LZ4FrameDecompressor().decompress(data, max_length=limit + 1)
        if len(out) > limit:
            raise ValueError("over the limit")
        return bytes(out)

    return lz4.frame.compress, decompress


def _zlib() -> tuple[Callable[[bytes], bytes], Callable[[bytes, int], bytes]]:
    def decompress(data: bytes, limit: int) -> bytes:
        inflater = zlib.decompressobj()
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise ValueError("over the limit")
        return out

    return lambda data: zlib.compress(data, 1), decompress


_LOADERS = {"zstd": _zstd, "lz4": _lz4, "zlib": _zlib}


def available(codecs: Sequence[str]) -> list[str]:
    """Those of ``codecs`` this Python can run (zstd and lz4 need their packages)."""
    found = []
    for name in codecs:
        if name not in _LOADERS:
            raise ValueError(f"unknown codec {name!r} (zstd, lz4 or zlib)")
        try:
            _LOADERS[name]()
        except ImportError:
            continue
        found.append(name)
    return found


class FrameCodec:
    """Codes the frames of one connection: ``send`` with our choice, any agreed codec in."""

    def __init__(self, send: str, accepted: Sequence[str], threshold: int, limit: int) -> None:
        self.threshold = threshold
        self.limit = limit if limit > 0 else DEFAULT_LIMIT
        self._id = _IDS[send]
        self._compress = _LOADERS[send]()[0]
        self._decompressors = {_IDS[name]: _LOADERS[name]()[1] for name in accepted}

    def encode_frame(self, frame: bytes) -> bytes:
        if len(frame) >= self.threshold:
            packed = self._compress(frame)
            if len(packed) < len(frame):
                return bytes((self._id,)) + packed
        return b"\x00" + frame

    def encode(self, message: Any) -> Any:
        if isinstance(message, bytes):
            return self.encode_frame(message)
        return [self.encode_frame(frame) for frame in message]

    def decode_frame(self, frame: bytes) -> bytes:
        if not frame:
            raise ProtocolError("compressed connection: a frame without its coding byte")
        kind = frame[0]
        if kind == _RAW:
            return frame[1:]
        decompress = self._decompressors.get(kind)
        if decompress is None:
            raise ProtocolError(f"compressed connection: unknown coding {kind}")
        try:
            return decompress(frame[1:], self.limit)
        except Exception as exc:  # noqa: BLE001 - any codec's failure: the peer's fault
            raise ProtocolError(f"a frame that does not decompress ({exc})") from None

    def decode(self, message: Any) -> Any:
        if isinstance(message, bytes):
            return self.decode_frame(message)
        return [self.decode_frame(frame) for frame in message]


def choose(ours: Sequence[str], announced: bytes | None) -> str | None:
    """Our first codec the peer accepts; None when it announced none we share."""
    if not announced:
        return None
    theirs = {name.strip() for name in announced.decode("ascii", "replace").split(",")}
    return next((name for name in ours if name in theirs), None)

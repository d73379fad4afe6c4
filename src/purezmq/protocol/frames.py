"""ZMTP frames: a flags octet, a 1- or 8-octet size, then the body."""

from __future__ import annotations

import struct

from .errors import ProtocolError

MORE = 0x01
LONG = 0x02
COMMAND = 0x04
_KNOWN_FLAGS = MORE | LONG | COMMAND

_LONG_SIZE = struct.Struct(">Q")
_SHORT_HEADERS = [bytes((flags, size)) for flags in range(8) for size in range(256)]


def frame_header(flags: int, size: int) -> bytes:
    """The header for a frame of ``size`` bytes: short form up to 255 bytes, long form above."""
    if size < 256:
        return _SHORT_HEADERS[(flags << 8) | size]
    return bytes((flags | LONG,)) + _LONG_SIZE.pack(size)


def encode_message(frames: list[bytes], chunks: list[bytes], single: bool = False) -> None:
    """Append the wire form of a multipart message to ``chunks``.

    Small frames are joined into one chunk; a large body is appended as it is, so a writer with
    scatter/gather I/O never copies it.
    """
    last = len(frames) - 1
    pending = bytearray()
    for index, body in enumerate(frames):
        size = len(body)
        # With ``single`` each frame is a message of its own (CURVE carries MORE inside the box).
        flags = MORE if index < last and not single else 0
        if size < 256:
            pending += _SHORT_HEADERS[(flags << 8) | size]
            pending += body
        elif size < 8192:
            pending += bytes((flags | LONG,)) + _LONG_SIZE.pack(size)
            pending += body
        else:
            pending += bytes((flags | LONG,)) + _LONG_SIZE.pack(size)
            chunks.append(bytes(pending))
            pending = bytearray()
            chunks.append(body)
    if pending:
        chunks.append(bytes(pending))


def encode_command(name: bytes, data: bytes = b"") -> bytes:
    body = bytes((len(name),)) + name + data
    return frame_header(COMMAND, len(body)) + body


class FrameDecoder:
    """Turns a byte stream into (flags, body) frames, checking sizes before buffering bodies."""

    def __init__(self, max_frame_size: int = -1) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer
        buffer += data
        frames: list[tuple[int, bytes]] = []
        pos = 0
        end = len(buffer)
        limit = self.max_frame_size
        view = memoryview(buffer)
        try:
            while end - pos >= 2:
                flags = buffer[pos]
                if flags & ~_KNOWN_FLAGS:
                    raise ProtocolError(f"invalid frame flags {flags:#04x}")
                if flags & LONG:
                    if end - pos < 9:
                        break
                    (size,) = _LONG_SIZE.unpack_from(buffer, pos + 1)
                    start = pos + 9
                else:
                    size = buffer[pos + 1]
                    start = pos + 2
                if flags & COMMAND and flags & MORE:
                    raise ProtocolError("a command frame cannot have the MORE flag")
                if limit >= 0 and size > limit and not flags & COMMAND:
                    raise ProtocolError(f"frame of {size} bytes exceeds MAXMSGSIZE ({limit})")
                if size > 0x7FFF_FFFF_FFFF:
                    raise ProtocolError(f"absurd frame size {size}")
                if end - start < size:
                    break
                frames.append((flags, view[start : start + size].tobytes()))
                pos = start + size
        finally:
            view.release()
        if pos:
            del buffer[:pos]
        return frames

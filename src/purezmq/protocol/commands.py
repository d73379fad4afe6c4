"""Command bodies: READY metadata, ERROR, PING/PONG, SUBSCRIBE/CANCEL, JOIN/LEAVE."""

from __future__ import annotations

import struct

from .errors import ProtocolError

READY = b"READY"
ERROR = b"ERROR"
PING = b"PING"
PONG = b"PONG"
SUBSCRIBE = b"SUBSCRIBE"
CANCEL = b"CANCEL"
#: A DISH's group membership, as libzmq's RADIO reads it (the group follows the name, bare).
JOIN = b"JOIN"
LEAVE = b"LEAVE"

_VALUE_SIZE = struct.Struct(">I")
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+")


def split_command(body: bytes) -> tuple[bytes, bytes]:
    """(name, data) of a command frame's body."""
    if not body:
        raise ProtocolError("empty command frame")
    if body[:5] == b"^RROR":
        # libzmq 4.3's PLAIN server writes its ERROR as "\x5eRROR" ("\x05E" read as one hex
        # escape); take it for the ERROR it means.
        return ERROR, body[5:]
    size = body[0]
    if size == 0 or len(body) < 1 + size:
        raise ProtocolError("malformed command name")
    return body[1 : 1 + size], body[1 + size :]


def encode_properties(properties: dict[str, bytes]) -> bytes:
    parts = []
    for name, value in properties.items():
        raw = name.encode("ascii")
        if not 0 < len(raw) < 256:
            raise ValueError(f"bad property name {name!r}")
        parts.append(bytes((len(raw),)) + raw + _VALUE_SIZE.pack(len(value)) + value)
    return b"".join(parts)


def decode_properties(data: bytes) -> dict[str, bytes]:
    properties: dict[str, bytes] = {}
    pos = 0
    end = len(data)
    while pos < end:
        size = data[pos]
        name = data[pos + 1 : pos + 1 + size]
        pos += 1 + size
        if size == 0 or len(name) != size or not set(name) <= _NAME_CHARS:
            raise ProtocolError("malformed metadata property name")
        if pos + 4 > end:
            raise ProtocolError("truncated metadata property")
        (value_size,) = _VALUE_SIZE.unpack_from(data, pos)
        pos += 4
        if pos + value_size > end:
            raise ProtocolError("truncated metadata value")
        properties[name.decode("ascii")] = bytes(data[pos : pos + value_size])
        pos += value_size
    return properties


def encode_error(reason: str) -> bytes:
    raw = reason.encode("utf-8", "replace")[:255]
    return bytes((len(raw),)) + raw


def decode_error(data: bytes) -> str:
    if not data:
        return ""
    return data[1 : 1 + data[0]].decode("utf-8", "replace")


def get_property(properties: dict[str, bytes], name: str) -> bytes | None:
    """Metadata names are case-insensitive (RFC 37)."""
    if name in properties:
        return properties[name]
    lowered = name.lower()
    for key, value in properties.items():
        if key.lower() == lowered:
            return value
    return None

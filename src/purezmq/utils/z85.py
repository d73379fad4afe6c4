"""Z85 (RFC 32): the printable encoding of CURVE keys, 5 characters for every 4 bytes."""

from __future__ import annotations

import struct

ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_DECODE = {char: index for index, char in enumerate(ALPHABET)}


def encode(rawbytes: bytes) -> bytes:
    """Encode bytes whose length is a multiple of 4."""
    if len(rawbytes) % 4:
        raise ValueError(f"length must be multiple of 4, not {len(rawbytes)}")
    out = bytearray()
    for (value,) in struct.iter_unpack(">I", rawbytes):
        chunk = bytearray(5)
        for position in range(4, -1, -1):
            value, digit = divmod(value, 85)
            chunk[position] = ALPHABET[digit]
        out += chunk
    return bytes(out)


def decode(z85bytes: bytes | str) -> bytes:
    """Decode a Z85 string whose length is a multiple of 5."""
    if isinstance(z85bytes, str):
        try:
            z85bytes = z85bytes.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("string argument should contain only ASCII characters") from None
    if len(z85bytes) % 5:
        raise ValueError(f"Z85 length must be multiple of 5, not {len(z85bytes)}")
    out = bytearray()
    for start in range(0, len(z85bytes), 5):
        value = 0
        for char in z85bytes[start : start + 5]:
            try:
                value = value * 85 + _DECODE[char]
            except KeyError:
                raise ValueError(f"invalid Z85 character {chr(char)!r}") from None
        if value > 0xFFFFFFFF:
            raise ValueError("invalid Z85 group")
        out += struct.pack(">I", value)
    return bytes(out)

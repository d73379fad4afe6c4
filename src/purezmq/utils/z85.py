"""Z85 (RFC 32): the printable encoding of CURVE keys, 5 characters for every 4 bytes.

The errors are pyzmq's: a bad length is a ValueError; a character outside the alphabet is a
KeyError and a group above 2**32 - 1 a ``struct.error`` in pyzmq, so those two are raised here as
exceptions that are both that and a ValueError (code may catch either)."""

from __future__ import annotations

import struct

ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
#: pyzmq's names: the alphabet, and each character's (byte's) value.
Z85CHARS = ALPHABET
Z85MAP = {char: index for index, char in enumerate(ALPHABET)}
_DECODE = Z85MAP


class Z85CharacterError(ValueError, KeyError):
    """A byte outside the Z85 alphabet (pyzmq raises KeyError)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Z85GroupError(ValueError, struct.error):
    """Five characters worth more than 2**32 - 1 (pyzmq raises struct.error)."""


def encode(rawbytes: bytes | bytearray | memoryview) -> bytes:
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


def decode(z85bytes: str | bytes | bytearray | memoryview) -> bytes:
    """Decode Z85 bytes (or an ASCII string) whose length is a multiple of 5."""
    if isinstance(z85bytes, str):
        try:
            z85bytes = z85bytes.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("string argument should contain only ASCII characters") from None
    if len(z85bytes) % 5:
        raise ValueError(f"Z85 length must be multiple of 5, not {len(z85bytes)}")
    out = bytearray()
    data = bytes(z85bytes)
    for start in range(0, len(data), 5):
        value = 0
        for char in data[start : start + 5]:
            try:
                value = value * 85 + _DECODE[char]
            except KeyError:
                raise Z85CharacterError(f"invalid Z85 character {chr(char)!r}") from None
        if value > 0xFFFFFFFF:
            raise Z85GroupError("'I' format requires 0 <= number <= 4294967295")
        out += struct.pack(">I", value)
    return bytes(out)

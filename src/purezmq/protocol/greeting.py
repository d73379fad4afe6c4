"""The 64-byte ZMTP greeting: signature, version, mechanism, as-server."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProtocolError

GREETING_SIZE = 64
SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"
# The signature's first byte and its last byte (0x7F) are what set ZMTP 2+ apart from 1.0 peers.
MAJOR_VERSION = 3
#: The revision byte of a ZMTP 2.0 peer (RFC 15), in the greeting's eleventh byte.
ZMTP2_REVISION = 1
#: How much of our greeting goes before we know the peer's version: signature and major.
VERSION_END = 11
MINOR_VERSION = 1
MECHANISM_SIZE = 20


@dataclass(frozen=True)
class Greeting:
    major: int
    minor: int
    mechanism: bytes
    as_server: bool

    def encode(self) -> bytes:
        if len(self.mechanism) > MECHANISM_SIZE:
            raise ValueError(f"mechanism name too long: {self.mechanism!r}")
        return b"".join(
            (
                SIGNATURE,
                bytes((self.major, self.minor)),
                self.mechanism.ljust(MECHANISM_SIZE, b"\x00"),
                b"\x01" if self.as_server else b"\x00",
                b"\x00" * 31,
            )
        )

    @classmethod
    def decode(cls, data: bytes) -> Greeting:
        """Parse a full 64-byte greeting; ZMTP 1.0/2.0 peers are refused."""
        if len(data) != GREETING_SIZE:
            raise ValueError("a greeting is exactly 64 bytes")
        check_signature(data)
        major, minor = data[10], data[11]
        if major < MAJOR_VERSION:
            raise ProtocolError(f"unsupported ZMTP version {major}.{minor} (3.0 or later needed)")
        mechanism = bytes(data[12:32]).rstrip(b"\x00")
        if not mechanism or not all(0x21 <= c <= 0x7E for c in mechanism):
            raise ProtocolError(f"invalid mechanism name in greeting: {bytes(data[12:32])!r}")
        return cls(major, minor, mechanism, bool(data[32] & 1))


def check_signature(data: bytes) -> None:
    """Fail as soon as the first bytes cannot start a ZMTP 3 greeting (garbage, HTTP, ZMTP 1.0)."""
    if data[:1] and data[0] != 0xFF:
        raise ProtocolError(f"not a ZMTP greeting (first byte {data[0]:#04x})")
    if len(data) >= 10 and not data[9] & 1:
        raise ProtocolError("not a ZMTP 3 greeting (ZMTP 1.0 peer or garbage)")
    if len(data) >= 11 and data[10] < MAJOR_VERSION and data[10] != ZMTP2_REVISION:
        raise ProtocolError(f"unsupported ZMTP version {data[10]} (2.0, or 3.0 or later)")

"""ZMTP 2.0 (RFC 15) peers: libzmq 3.x, still deployed, which libzmq 4 still talks to.

After the signature and the revision byte (1), each side sends its socket type as a byte and its
identity as one short final frame; the traffic that follows is framed as ZMTP 3's without
commands (flags MORE and LONG only), and there is no security mechanism. The connection
(connection.py) learns the peer's version from its eleventh byte, as libzmq 4 does, and
hands the rest of the greeting to a ``GreetingReader`` here.
"""

from __future__ import annotations

from .errors import ProtocolError

REVISION = 1

#: RFC 15's socket type numbers (libzmq's; XPUB and XSUB send their own, as libzmq 3 did).
SOCKET_TYPES = {
    "PAIR": 0,
    "PUB": 1,
    "SUB": 2,
    "REQ": 3,
    "REP": 4,
    "DEALER": 5,
    "ROUTER": 6,
    "PULL": 7,
    "PUSH": 8,
    "XPUB": 9,
    "XSUB": 10,
}
_NAMES = {number: name for name, number in SOCKET_TYPES.items()}


def greeting_rest(socket_type: str, identity: bytes) -> bytes:
    """Our socket type and identity frame, after the signature and revision."""
    if socket_type not in SOCKET_TYPES:
        raise ProtocolError(f"a {socket_type} socket has no ZMTP 2.0 form")
    if len(identity) > 255:
        raise ProtocolError("identity too long for ZMTP 2.0")
    return bytes((SOCKET_TYPES[socket_type], 0, len(identity))) + identity


class GreetingReader:
    """The peer's socket type and identity frame, as they arrive."""

    def __init__(self) -> None:
        self._buffer = b""
        self.peer_type = ""
        self.identity = b""

    def feed(self, data: bytes) -> tuple[bool, bytes]:
        """(whether the greeting is complete, the bytes after it)."""
        self._buffer += data
        buffer = self._buffer
        if len(buffer) < 3:
            return False, b""
        number, flags, size = buffer[0], buffer[1], buffer[2]
        if number not in _NAMES:
            raise ProtocolError(f"unknown ZMTP 2.0 socket type {number}")
        if flags & ~0x01:  # A short frame; libzmq 3 sets no other flag on the identity.
            raise ProtocolError(f"bad ZMTP 2.0 identity frame flags {flags:#04x}")
        if len(buffer) < 3 + size:
            return False, b""
        self.peer_type = _NAMES[number]
        self.identity = buffer[3 : 3 + size]
        rest, self._buffer = buffer[3 + size :], b""
        return True, rest

"""The NULL mechanism (RFC 37): both sides send READY with their metadata."""

from __future__ import annotations

from ..commands import READY, decode_properties, encode_properties
from ..errors import ProtocolError
from .base import Mechanism


class NullMechanism(Mechanism):
    name = b"NULL"

    def start(self) -> list[tuple[bytes, bytes]]:
        return [(READY, encode_properties(self.properties))]

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        self.peer_error(name, data)
        if name != READY or self.ready:
            raise ProtocolError(f"unexpected {name!r} command in NULL handshake")
        self.peer_properties = decode_properties(data)
        self.ready = True
        return []

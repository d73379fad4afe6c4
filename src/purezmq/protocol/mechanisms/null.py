"""The NULL mechanism (RFC 37): both sides send READY with their metadata."""

from __future__ import annotations

from ..commands import READY, decode_properties, encode_properties
from ..errors import ProtocolError
from .base import AuthRequest, Mechanism


class NullMechanism(Mechanism):
    """With ``zap`` (a ZAP domain is set), READY waits for the application to accept the peer."""

    name = b"NULL"

    def __init__(self, as_server: bool, properties: dict[str, bytes], zap: bool = False) -> None:
        super().__init__(as_server, properties)
        self._zap = zap
        self._accepted = not zap
        self._peer_ready = False

    def start(self) -> list[tuple[bytes, bytes]]:
        if self._zap:
            self.auth_request = AuthRequest(b"NULL")
            return []
        return [(READY, encode_properties(self.properties))]

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        self.peer_error(name, data)
        if name != READY or self._peer_ready:
            raise ProtocolError(f"unexpected {name!r} command in NULL handshake")
        self.peer_properties = decode_properties(data)
        self._peer_ready = True
        self.ready = self._accepted
        return []

    def accepted(self) -> list[tuple[bytes, bytes]]:
        self._accepted = True
        self.ready = self._peer_ready
        return [(READY, encode_properties(self.properties))]

"""The PLAIN mechanism (RFC 24): a user name and password, sent in clear."""

from __future__ import annotations

from ..commands import READY, decode_properties, encode_properties
from ..errors import ProtocolError
from .base import AuthRequest, Mechanism

HELLO = b"HELLO"
WELCOME = b"WELCOME"
INITIATE = b"INITIATE"


def _short_string(value: bytes) -> bytes:
    if len(value) > 255:
        raise ValueError("PLAIN user names and passwords are at most 255 bytes")
    return bytes((len(value),)) + value


class PlainClient(Mechanism):
    name = b"PLAIN"

    def __init__(
        self, as_server: bool, properties: dict[str, bytes], username: bytes, password: bytes
    ) -> None:
        super().__init__(as_server, properties)
        self._hello = HELLO, _short_string(username) + _short_string(password)
        self._state = "welcome"

    def start(self) -> list[tuple[bytes, bytes]]:
        return [self._hello]

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        self.peer_error(name, data)
        if self._state == "welcome" and name == WELCOME:
            self._state = "ready"
            return [(INITIATE, encode_properties(self.properties))]
        if self._state == "ready" and name == READY:
            self.peer_properties = decode_properties(data)
            self.ready = True
            return []
        raise ProtocolError(f"unexpected {name!r} command in PLAIN handshake")


class PlainServer(Mechanism):
    name = b"PLAIN"

    def __init__(self, as_server: bool, properties: dict[str, bytes]) -> None:
        super().__init__(as_server, properties)
        self._state = "hello"

    def start(self) -> list[tuple[bytes, bytes]]:
        return []

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        self.peer_error(name, data)
        if self._state == "hello" and name == HELLO:
            username, rest = _read_short(data)
            password, rest = _read_short(rest)
            if rest:
                raise ProtocolError("malformed PLAIN HELLO")
            self._state = "auth"
            self.auth_request = AuthRequest(b"PLAIN", [username, password])
            return []
        if self._state == "initiate" and name == INITIATE:
            self.peer_properties = decode_properties(data)
            self.ready = True
            return [(READY, encode_properties(self.properties))]
        raise ProtocolError(f"unexpected {name!r} command in PLAIN handshake")

    def accepted(self) -> list[tuple[bytes, bytes]]:
        self._state = "initiate"
        return [(WELCOME, b"")]


def _read_short(data: bytes) -> tuple[bytes, bytes]:
    if not data or len(data) < 1 + data[0]:
        raise ProtocolError("malformed PLAIN HELLO")
    size = data[0]
    return data[1 : 1 + size], data[1 + size :]

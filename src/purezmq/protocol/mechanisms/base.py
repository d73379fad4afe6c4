"""What every mechanism offers the connection state machine."""

from __future__ import annotations

from ..commands import ERROR, decode_error
from ..errors import ProtocolError


class Mechanism:
    """A handshake as a state machine over commands.

    The connection hands over each command received during the handshake; the mechanism answers
    with the commands to send. When ``ready`` is true the handshake is over and
    ``peer_properties`` holds the peer's metadata.
    """

    name: bytes = b""

    def __init__(self, as_server: bool, properties: dict[str, bytes]) -> None:
        self.as_server = as_server
        self.properties = properties
        self.peer_properties: dict[str, bytes] = {}
        self.ready = False
        self.user_id = b""

    def start(self) -> list[tuple[bytes, bytes]]:
        """Commands to send right after the greeting."""
        raise NotImplementedError

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        """Take one handshake command; return the commands to send in answer."""
        raise NotImplementedError

    def peer_error(self, name: bytes, data: bytes) -> None:
        if name == ERROR:
            raise ProtocolError(f"peer refused the handshake: {decode_error(data)}")

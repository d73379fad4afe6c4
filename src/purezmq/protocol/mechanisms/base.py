"""What every mechanism offers the connection state machine."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..commands import ERROR, decode_error
from ..errors import ProtocolError
from ..frames import COMMAND, MORE, Decoded, FrameDecoder, Outgoing, Received, encode_message


@dataclass(frozen=True)
class AuthRequest:
    """The server side asks the application (ZAP, RFC 27) whether to accept this peer."""

    mechanism: bytes
    credentials: list[bytes] = field(default_factory=list)


class HandshakeRefused(ProtocolError):
    """The handshake failed for a reason the peer is told in an ERROR command."""

    def __init__(self, reason: str, tell_peer: bool = True, peer_text: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tell_peer = tell_peer
        #: What the ERROR command says (the reason, unless told otherwise).
        self.peer_text = reason if peer_text is None else peer_text


class Mechanism:
    """A handshake as a state machine over commands.

    The connection hands over each command received during the handshake; the mechanism answers
    with the commands to send. A server that needs the application's decision sets
    ``auth_request`` and waits for ``auth_result``. When ``ready`` is true the handshake is over
    and ``peer_properties`` holds the peer's metadata.
    """

    name: bytes = b""
    #: Whether messages are wrapped (``encode``/``decode``) after the handshake.
    encrypts = False

    def __init__(self, as_server: bool, properties: dict[str, bytes]) -> None:
        self.as_server = as_server
        self.properties = properties
        self.peer_properties: dict[str, bytes] = {}
        self.ready = False
        self.user_id = b""
        self.zap_properties: dict[str, bytes] = {}
        self.auth_request: AuthRequest | None = None

    def start(self) -> list[tuple[bytes, bytes]]:
        """Commands to send right after the greeting."""
        raise NotImplementedError

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        """Take one handshake command; return the commands to send in answer."""
        raise NotImplementedError

    def auth_result(
        self, status: bytes, text: str, user_id: bytes, metadata: dict[str, bytes]
    ) -> list[tuple[bytes, bytes]]:
        """The application's answer to ``auth_request``: 200 accepts, anything else refuses."""
        self.auth_request = None
        if status != b"200":
            # No status at all means nobody could be asked: close without an ERROR, as libzmq.
            # The peer is told the bare status code, as libzmq does: a libzmq client reads a
            # 3xx/4xx/5xx reason as an authentication failure (HANDSHAKE_FAILED_AUTH).
            code = status.decode("ascii", "replace")
            raise HandshakeRefused(f"{code} {text}".strip(), tell_peer=bool(status), peer_text=code)
        self.user_id = user_id
        self.zap_properties = metadata
        return self.accepted()

    def accepted(self) -> list[tuple[bytes, bytes]]:
        """Continue the handshake once the peer is accepted."""
        return []

    def peer_error(self, name: bytes, data: bytes) -> None:
        if name == ERROR:
            raise HandshakeRefused(
                f"peer refused the handshake: {decode_error(data)}", tell_peer=False
            )

    def encode(self, flags: int, body: bytes) -> bytes:
        return body

    def decode(self, body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def encode_messages(self, messages: list[Outgoing], chunks: list[bytes]) -> None:
        """Append the wire form of data messages to ``chunks``, each frame wrapped by
        ``encode`` as a message of its own (the wrapping carries MORE)."""
        for message in messages:
            frames = (message,) if isinstance(message, bytes) else message
            last = len(frames) - 1
            wrapped = [self.encode(MORE if i < last else 0, body) for i, body in enumerate(frames)]
            encode_message(wrapped, chunks, single=True)

    def open_messages(
        self, wrapped: list[Received], partial: list[bytes]
    ) -> tuple[list[Decoded], list[bytes], bool]:
        """The messages inside wrapped data frames (the bodies of ``wrapped``, in order), as
        ``FrameDecoder.feed_messages`` gives them: whole messages, commands as ``(flags,
        body)``, the message still incomplete (``partial`` continued), whether there were
        commands. A ProtocolError carries the messages opened before the fault as its
        ``decoded``."""
        events: list[Decoded] = []
        try:
            for group in wrapped:
                for body in (group,) if isinstance(group, bytes) else group:
                    flags, frame = self.decode(body)
                    partial = FrameDecoder.group(flags, frame, partial, events.append)
        except ProtocolError as exc:
            exc.decoded = events  # type: ignore[attr-defined]
            raise
        return events, partial, any(type(event) is tuple for event in events)

    def decode_frames(self, frames: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        """Unwrap the frames of the traffic phase. A plain-text ERROR command is passed on as
        it is, and ends the list (what follows it is not for us)."""
        unwrapped = []
        for flags, body in frames:
            if flags & COMMAND and body[:6] == b"\x05ERROR":
                unwrapped.append((flags, body))
                break
            unwrapped.append(self.decode(body))
        return unwrapped

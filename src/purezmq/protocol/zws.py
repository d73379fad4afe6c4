"""ZWS 2.0 (RFC 45): ZeroMQ over WebSocket, as libzmq's ws:// transport speaks it.

Each ZMTP frame travels as one binary WebSocket message: a flags byte (0x01 more, 0x02
command) then the body. There is no greeting: the WebSocket subprotocol names the mechanism
("ZWS2.0/NULL", "ZWS2.0/PLAIN", "ZWS2.0/CURVE"), and the handshake commands (READY, HELLO...)
follow as ZMTP 3 has them. Plain "ZWS2.0" has no mechanism at all: each side's first message
is its routing id, as in ZMTP 2.0. It is the one a browser can ask for (a "/" is not allowed
in the protocol names of the WebSocket API), and it is offered and taken with NULL security.

``ZwsConnection`` offers the interface of ``Connection`` (what the engines drive) around one:
after the HTTP upgrade the inner connection is given the greeting the peer would have sent
(ZMTP 3.0's: subscriptions are 0x01/0x00 messages, as RFC 45 has them), its own greeting is
dropped, and frames are translated both ways. Everything else -- mechanisms, commands,
heartbeats, limits -- is the inner connection's.
"""

from __future__ import annotations

from typing import Any

from . import commands as cmd
from .connection import COMPATIBLE_PEERS, Connection, ConnectionEvent, State
from .errors import ProtocolError
from .frames import COMMAND, LONG, MORE, FrameDecoder, encode_command
from .greeting import Greeting
from .websocket import (
    BAD_REQUEST,
    BINARY,
    MAX_HEAD,
    FrameReader,
    check_response,
    encode_frame,
    new_key,
    parse_request,
    request_bytes,
    response_bytes,
)

_PREFIX = "ZWS2.0/"
#: ZWS without a mechanism: routing ids as first messages, no handshake commands.
BARE = "ZWS2.0"


def _failure(text: str) -> ProtocolError:
    error = ProtocolError(text)
    error.events = []  # type: ignore[attr-defined]
    return error


class ZwsConnection:
    """A ZMTP connection over WebSocket. ``client``: (host, path) for the side that connects
    (it sends the upgrade request and masks its frames), None for the side that accepted."""

    large_pending = False
    only_messages = False

    def __init__(
        self,
        socket_type: str,
        *,
        client: tuple[str, str] | None = None,
        max_message_size: int = -1,
        **connection_options: Any,
    ) -> None:
        self.inner = Connection(  # (ZWS has no greeting.)
            socket_type, max_message_size=max_message_size, greeting=False, **connection_options
        )
        mechanism = self.inner.mechanism.name.decode("ascii")
        self.protocol = _PREFIX + mechanism
        #: What this end takes: its mechanism's protocol, and the bare one with NULL.
        self._speaks = [self.protocol, BARE] if mechanism == "NULL" else [self.protocol]
        self._socket_type = socket_type
        self._identity = connection_options.get("identity", b"")
        #: The bare protocol is in use, and the peer's routing id has not come yet.
        self._bare = False
        self._awaiting_identity = False
        self._as_server = bool(connection_options.get("as_server", False))
        self._client = client
        self._upgraded = False
        self._head = b""
        limit = -1 if max_message_size < 0 else max_message_size + 1
        self._reader = FrameReader(expect_masked=client is None, max_message=limit)
        self._frames_out = FrameDecoder(-1)
        self._outgoing: list[bytes] = []
        if client is not None:
            host, path = client
            self._key = new_key()
            self._outgoing.append(request_bytes(host, path, self._speaks, self._key))

    def __getattr__(self, name: str) -> Any:
        # (mechanism, peer_minor_version... : the inner connection's.)
        return getattr(self.inner, name)

    @property
    def state(self) -> State:
        return self.inner.state if self._upgraded else State.GREETING

    @state.setter
    def state(self, value: State) -> None:
        self.inner.state = value

    # -- sending: the inner connection's frames, one WebSocket message each -------------------

    def data_to_send(self) -> list[bytes]:
        out = self._outgoing
        self._outgoing = []
        if self._upgraded:
            masked = self._client is not None
            chunks = self.inner.data_to_send()
            if self._bare and self._awaiting_identity:
                chunks = []  # (The inner READY: a bare peer expects none.)
            for chunk in chunks:
                for flags, body in self._frames_out.feed(chunk):
                    flag = (1 if flags & MORE else 0) | (2 if flags & COMMAND else 0)
                    out.append(encode_frame(BINARY, bytes((flag,)) + body, masked))
        return out

    def send_message(self, frames: list[bytes]) -> None:
        self.inner.send_message(frames)

    def send_messages(self, messages: list[Any]) -> None:
        self.inner.send_messages(messages)

    def send_subscription(self, topic: bytes, subscribe: bool) -> None:
        self.inner.send_subscription(topic, subscribe)

    def send_ping(self, ttl_deciseconds: int = 0, context: bytes = b"") -> None:
        self.inner.send_ping(ttl_deciseconds, context)

    def send_error(self, reason: str) -> None:
        self.inner.send_error(reason)

    def authentication_result(self, *args: Any, **kwargs: Any) -> list[ConnectionEvent]:
        return self.inner.authentication_result(*args, **kwargs)

    def receive_buffer(self) -> None:
        return None

    # -- receiving --------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[ConnectionEvent]:
        if not self._upgraded:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > MAX_HEAD:
                    raise _failure("WebSocket upgrade head too long")
                return []
            head, rest = self._head[: end + 4], self._head[end + 4 :]
            self._head = b""
            self._upgrade(head)
            events = self.inner.receive_data(
                Greeting(3, 0, self.inner.mechanism.name, not self._as_server).encode()
            )
            if self._bare:
                self.inner.data_to_send()  # Its READY: not for a bare peer.
                masked = self._client is not None
                self._outgoing.append(encode_frame(BINARY, b"\x00" + self._identity, masked))
                self._awaiting_identity = True
            if rest:
                events = events + self._traffic(rest)
            return events
        return self._traffic(data)

    def _upgrade(self, head: bytes) -> None:
        try:
            if self._client is not None:
                chosen = check_response(head, self._key, self._speaks)
            else:
                request = parse_request(head)
                # The client's first choice among those this end speaks.
                chosen = next((p for p in request.protocols if p in self._speaks), "")
                if not chosen:
                    self._outgoing.append(BAD_REQUEST)
                    raise ProtocolError(
                        f"the WebSocket client asks for {request.protocols}, this socket "
                        f"speaks {self._speaks}"
                    )
                key = request.headers["sec-websocket-key"]
                self._outgoing.append(response_bytes(key, chosen))
            self._bare = chosen == BARE
        except ProtocolError as exc:
            self.inner.state = State.CLOSED
            raise _failure(str(exc)) from None
        self._upgraded = True

    def _traffic(self, data: bytes) -> list[ConnectionEvent]:
        reader = self._reader
        try:
            messages = reader.feed(data)
        except ProtocolError as exc:
            self.inner.state = State.CLOSED
            raise _failure(str(exc)) from None
        if reader.replies:
            masked = self._client is not None
            for opcode, payload in reader.replies:
                self._outgoing.append(encode_frame(opcode, payload, masked))
            reader.replies.clear()
        if not messages:
            return []
        zmtp = []
        if self._awaiting_identity:
            # A bare peer's first message is its routing id: to the inner connection, the
            # READY it would have sent (with a socket type this one takes).
            identity = messages.pop(0)[1:]
            self._awaiting_identity = False
            self.inner.data_to_send()
            peer_type = sorted(COMPATIBLE_PEERS.get(self._socket_type, {"PAIR"}))[0]
            properties = {"Socket-Type": peer_type.encode(), "Identity": identity}
            zmtp.append(encode_command(cmd.READY, cmd.encode_properties(properties)))
        for message in messages:
            if not message or message[0] > 3:
                self.inner.state = State.CLOSED
                raise _failure("ZWS message without a valid flags byte")
            flag, size = message[0], len(message) - 1
            flags = (MORE if flag & 1 else 0) | (COMMAND if flag & 2 else 0)
            if size > 255:
                zmtp.append(bytes((flags | LONG,)) + size.to_bytes(8, "big"))
            else:
                zmtp.append(bytes((flags, size)))
            zmtp.append(message[1:])
        return self.inner.receive_data(b"".join(zmtp))

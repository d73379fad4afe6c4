"""ZWS 2.0 (RFC 45): ZeroMQ over WebSocket, as libzmq's ws:// transport speaks it.

Each ZMTP frame travels as one binary WebSocket message: a flags byte (0x01 more, 0x02
command) then the body. There is no greeting: the WebSocket subprotocol names the mechanism
("ZWS2.0/NULL", "ZWS2.0/PLAIN", "ZWS2.0/CURVE"), and the handshake commands (READY, HELLO...)
follow as ZMTP 3 has them.

``ZwsConnection`` offers the interface of ``Connection`` (what the engines drive) around one:
after the HTTP upgrade the inner connection is given the greeting the peer would have sent
(ZMTP 3.0's: subscriptions are 0x01/0x00 messages, as RFC 45 has them), its own greeting is
dropped, and frames are translated both ways. Everything else -- mechanisms, commands,
heartbeats, limits -- is the inner connection's.
"""

from __future__ import annotations

from typing import Any

from .connection import Connection, ConnectionEvent, State
from .errors import ProtocolError
from .frames import COMMAND, LONG, MORE, FrameDecoder
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
        self.inner = Connection(
            socket_type, max_message_size=max_message_size, **connection_options
        )
        self.inner.data_to_send()  # Its greeting: ZWS has none.
        mechanism = self.inner.mechanism.name.decode("ascii")
        self.protocol = _PREFIX + mechanism
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
            self._outgoing.append(request_bytes(host, path, [self.protocol], self._key))

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
            for chunk in self.inner.data_to_send():
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
            if rest:
                events = events + self._traffic(rest)
            return events
        return self._traffic(data)

    def _upgrade(self, head: bytes) -> None:
        try:
            if self._client is not None:
                check_response(head, self._key, [self.protocol])
            else:
                request = parse_request(head)
                if self.protocol not in request.protocols:
                    self._outgoing.append(BAD_REQUEST)
                    raise ProtocolError(
                        f"the WebSocket client asks for {request.protocols}, this socket "
                        f"speaks {self.protocol}"
                    )
                key = request.headers["sec-websocket-key"]
                self._outgoing.append(response_bytes(key, self.protocol))
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

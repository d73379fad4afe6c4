"""One ZMTP connection as a state machine: greeting, handshake, then traffic.

Feed it the bytes read from the peer with ``receive_data``; it returns what happened (messages as
lists of frames, and events). Ask it to send messages or subscriptions; collect the bytes to write
with ``data_to_send``. It never touches a socket or a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Union

from ..constants import GROUP_MAX_LENGTH
from . import commands as cmd
from . import compression as compressing
from . import zmtp2
from .errors import ProtocolError
from .frames import (
    COMMAND,
    MORE,
    Decoded,
    FrameDecoder,
    Outgoing,
    encode_command,
    encode_message,
    encode_messages,
)
from .greeting import (
    GREETING_SIZE,
    MAJOR_VERSION,
    MINOR_VERSION,
    VERSION_END,
    Greeting,
    check_signature,
)
from .mechanisms import AuthRequest, HandshakeRefused, Mechanism, NullMechanism

#: Which peer socket types each socket type accepts (RFC 37 and zmq_socket(3)).
COMPATIBLE_PEERS: dict[str, frozenset[str]] = {
    "PAIR": frozenset({"PAIR"}),
    "PUB": frozenset({"SUB", "XSUB"}),
    "SUB": frozenset({"PUB", "XPUB"}),
    "XPUB": frozenset({"SUB", "XSUB"}),
    "XSUB": frozenset({"PUB", "XPUB"}),
    "REQ": frozenset({"REP", "ROUTER"}),
    "REP": frozenset({"REQ", "DEALER"}),
    "DEALER": frozenset({"REP", "DEALER", "ROUTER"}),
    "ROUTER": frozenset({"REQ", "DEALER", "ROUTER"}),
    "PUSH": frozenset({"PULL"}),
    "PULL": frozenset({"PUSH"}),
    # The thread-safe draft types (RFCs 41, 48, 49, 51, 52).
    "CLIENT": frozenset({"SERVER"}),
    "SERVER": frozenset({"CLIENT"}),
    "RADIO": frozenset({"DISH"}),
    "DISH": frozenset({"RADIO"}),
    "SCATTER": frozenset({"GATHER"}),
    "GATHER": frozenset({"SCATTER"}),
    "PEER": frozenset({"PEER"}),
    "CHANNEL": frozenset({"CHANNEL"}),
}


class State(Enum):
    GREETING = "greeting"
    HANDSHAKE = "handshake"
    TRAFFIC = "traffic"
    CLOSED = "closed"


@dataclass(frozen=True)
class HandshakeComplete:
    """The peer is authenticated and compatible; ``properties`` is its metadata."""

    properties: dict[str, bytes]
    minor_version: int
    user_id: bytes = b""


@dataclass(frozen=True)
class SubscriptionChange:
    """A SUBSCRIBE (``subscribe`` true) or CANCEL command from a ZMTP 3.1 peer."""

    topic: bytes
    subscribe: bool


@dataclass(frozen=True)
class GroupChange:
    """A JOIN (``join`` true) or LEAVE command from a DISH: libzmq's way of telling a RADIO
    which groups to send it."""

    group: bytes
    join: bool


@dataclass(frozen=True)
class PeerError:
    """The peer sent ERROR: it is closing the connection."""

    reason: str


@dataclass(frozen=True)
class Pong:
    context: bytes = field(default=b"")


@dataclass(frozen=True)
class PeerTtl:
    """The peer's PING asks to be dropped when nothing more comes from it within ``ttl_ms``
    (its HEARTBEAT_TTL)."""

    ttl_ms: int


#: What the peer's bytes come to: state changes, and messages (``frames.Received``: a message
#: of one frame as its body, a longer one as the list of its bodies).
ConnectionEvent = Union[  # noqa: UP007
    HandshakeComplete,
    SubscriptionChange,
    GroupChange,
    PeerError,
    Pong,
    PeerTtl,
    AuthRequest,
    bytes,
    list,
]
MechanismFactory = Callable[[bool, dict[str, bytes]], Mechanism]

#: The largest frame accepted before the handshake is over, whatever MAXMSGSIZE says: the peer
#: is not authenticated yet, and a handshake command is small (a CURVE INITIATE is ~250 bytes
#: plus the metadata, a PLAIN HELLO at most 517; READY is the metadata: the socket type, a
#: routing id of at most 255 bytes, and the application's few properties). A larger frame is
#: refused on its header, so an unauthenticated peer can make a connection buffer at most this.
HANDSHAKE_FRAME_LIMIT = 64 * 1024


class Connection:
    """ZMTP 3.1 for one peer, accepting 3.0 peers (who get subscriptions as data frames).

    ``max_message_size`` (MAXMSGSIZE, -1 for none) bounds every frame of the traffic phase,
    command frames included, as in libzmq (which checks frames, not whole multipart messages);
    the handshake's frames are bounded by HANDSHAKE_FRAME_LIMIT instead.

    A ProtocolError raised by ``receive_data`` carries, as its ``events`` attribute, the events
    that the same bytes brought before the fault (a list, as ``receive_data`` returns them), so
    that what the peer sent whole before breaking the protocol can still be delivered.
    """

    def __init__(
        self,
        socket_type: str,
        *,
        as_server: bool = False,
        identity: bytes = b"",
        mechanism: MechanismFactory = NullMechanism,
        max_message_size: int = -1,
        extra_properties: dict[str, bytes] | None = None,
        greeting: bool = True,
        compression: tuple[tuple[str, ...], int] | None = None,
    ) -> None:
        self.socket_type = socket_type
        self._identity = identity
        properties = {"Socket-Type": socket_type.encode("ascii")}
        if socket_type in ("REQ", "DEALER", "ROUTER"):
            properties["Identity"] = identity
        if extra_properties:
            properties.update(extra_properties)
        #: Negotiated compression (protocol/compression.py): our codecs, threshold, size limit.
        self._compression: tuple[list[str], int, int] | None = None
        if compression is not None and compression[0]:
            codecs = compressing.available(compression[0])
            if codecs:
                properties[compressing.PROPERTY] = ",".join(codecs).encode("ascii")
                self._compression = (codecs, compression[1], max_message_size)
        self.mechanism = mechanism(as_server, properties)
        self.state = State.GREETING
        self.peer_minor_version = MINOR_VERSION
        self._greeting_buffer = b""
        self._decoder = FrameDecoder(max_message_size)
        self._frames: list[bytes] = []
        #: Wrapped frames (encrypted traffic) of a message not yet complete: the outer MORE
        #: flag is unused by CURVE peers, so this stays empty in practice.
        self._wrapped: list[bytes] = []
        self._encrypting = False
        self._auth_asked = False
        self._pending_events: list[ConnectionEvent] = []
        #: True when the last ``receive_data`` returned nothing but messages (a fast path for
        #: the engine, which then hands the list on as it is).
        self.only_messages = False
        #: True when receive_buffer() may offer a buffer (inside a large frame): a hint that
        #: spares the reader a call per read otherwise.
        self.large_pending = False
        # As libzmq 4: the signature and major version first, the rest once the peer's version
        # shows it speaks ZMTP 3 (a ZMTP 2.0 peer gets its own greeting: zmtp2.py). Without a
        # greeting (ZWS), nothing.
        full = Greeting(MAJOR_VERSION, MINOR_VERSION, self.mechanism.name, as_server).encode()
        self._outgoing: list[bytes] = [full[:VERSION_END]] if greeting else []
        self._greeting_rest: bytes | None = full[VERSION_END:] if greeting else None
        self._v2: zmtp2.GreetingReader | None = None

    # -- sending ------------------------------------------------------------------------------

    def data_to_send(self) -> list[bytes]:
        """The chunks to write, in order; the connection forgets them."""
        out = self._outgoing
        self._outgoing = []
        return out

    def send_message(self, frames: list[bytes]) -> None:
        if self.state is not State.TRAFFIC:
            raise RuntimeError("messages can only be sent after the handshake")
        if self._encrypting:
            self.mechanism.encode_messages([frames], self._outgoing)
        else:
            encode_message(frames, self._outgoing)

    def send_messages(self, messages: list[Outgoing]) -> None:
        """Send many messages at once (fewer, larger chunks to write); a message of one frame
        may be its body alone."""
        if self.state is not State.TRAFFIC:
            raise RuntimeError("messages can only be sent after the handshake")
        if self._encrypting:
            self.mechanism.encode_messages(messages, self._outgoing)
        else:
            encode_messages(messages, self._outgoing)

    @property
    def sends_plain_frames(self) -> bool:
        """Whether this connection sends messages as their plain ZMTP frames (in traffic, not
        encrypted, not compressed): then it may take them already encoded (send_encoded)."""
        return self.state is State.TRAFFIC and not self._encrypting and self.compression is None

    def send_encoded(self, chunks: list[bytes]) -> None:
        """Send messages already in their plain wire form (``encode_messages``'s chunks), when
        ``sends_plain_frames``."""
        self._outgoing.extend(chunks)

    def _send_command(self, name: bytes, data: bytes) -> None:
        if self._encrypting:
            body = self.mechanism.encode(COMMAND, bytes((len(name),)) + name + data)
            encode_message([body], self._outgoing)
        else:
            self._outgoing.append(encode_command(name, data))

    def send_subscription(self, topic: bytes, subscribe: bool) -> None:
        """SUBSCRIBE/CANCEL as commands for ZMTP 3.1 peers, as data frames for 3.0 peers."""
        if self.peer_minor_version >= 1:
            self._send_command(cmd.SUBSCRIBE if subscribe else cmd.CANCEL, topic)
        else:
            self.send_message([(b"\x01" if subscribe else b"\x00") + topic])

    def send_group_change(self, group: bytes, join: bool) -> None:
        """A DISH's JOIN or LEAVE, as the command libzmq's RADIO reads."""
        self._send_command(cmd.JOIN if join else cmd.LEAVE, group)

    #: The peer speaks ZMTP 2.0 (no commands: no PING, no ERROR).
    zmtp2 = False

    def send_ping(self, ttl_deciseconds: int = 0, context: bytes = b"") -> None:
        # (Through _send_command: CURVE boxes commands of the traffic phase like messages.)
        self._send_command(cmd.PING, ttl_deciseconds.to_bytes(2, "big") + context)

    def send_error(self, reason: str) -> None:
        self._outgoing.append(encode_command(cmd.ERROR, cmd.encode_error(reason)))

    # -- receiving ----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[ConnectionEvent]:
        """Feed bytes from the peer. Raises ProtocolError when the peer breaks the protocol
        (with what came before the fault as its ``events``)."""
        if self.state is State.TRAFFIC:
            if self._encrypting:
                return self._guarded(self._receive_sealed, data)
            # Plain-text traffic, the usual case, in as few calls as it takes.
            decoder = self._decoder
            try:
                found, self._frames, commands = decoder.feed_messages(data, self._frames)
            except ProtocolError as exc:
                raise self._salvaged(exc) from None
            self.large_pending = decoder.large_pending
            self.only_messages = not commands
            if not commands:
                return found  # type: ignore[return-value]
            return self._guarded(self._traffic_commands, found)
        if self.state is State.CLOSED:
            error = ProtocolError("connection already failed")
            error.events = []  # type: ignore[attr-defined]
            raise error
        return self._guarded(self._receive, data)

    def _guarded(self, receive: Callable[[Any], list[ConnectionEvent]], data: Any) -> Any:
        """``receive(data)``; a refused handshake tells the peer, any protocol error closes.
        (``receive`` leaves on a ProtocolError the events that came before it.)"""
        try:
            return receive(data)
        except HandshakeRefused as exc:
            self._refuse(exc)
            raise
        except ProtocolError:
            self.state = State.CLOSED
            raise

    def _salvaged(self, exc: ProtocolError) -> ProtocolError:
        """The decoder failed in the plain-text traffic phase: the error to raise, with the
        events of the messages and commands it decoded before the fault. (A command among them
        may fail first: then that is the error.)"""
        events: list[ConnectionEvent] = []
        try:
            events = self._traffic_commands(getattr(exc, "decoded", []))
        except ProtocolError as earlier:
            exc = earlier
            events = getattr(earlier, "events", [])
        exc.events = events  # type: ignore[attr-defined]
        self.state = State.CLOSED
        return exc

    def receive_buffer(self) -> memoryview | None:
        """Where the next bytes from the peer may be read directly, or None (then pass them to
        ``receive_data``): inside a large frame, its body's own buffer (one copy less)."""
        if self.state is State.TRAFFIC and not self._encrypting:
            return self._decoder.body_buffer()
        return None

    def received_into(self, count: int) -> list[ConnectionEvent]:
        """``count`` bytes were read into ``receive_buffer()``: the events, as receive_data's."""
        events: list[ConnectionEvent] = []
        try:
            frame = self._decoder.body_filled(count)
            self.large_pending = self._decoder.large_pending
            if frame is None:
                return events
            flags, body = frame
            if flags & COMMAND:
                self.only_messages = False
                self._receive_command(body, events)
            else:
                self.only_messages = True
                self._frames = FrameDecoder.group(flags, body, self._frames, events.append)
        except ProtocolError as exc:
            exc.events = events  # type: ignore[attr-defined]
            self.state = State.CLOSED
            raise
        return events

    def authentication_result(
        self,
        status: bytes,
        text: str = "",
        user_id: bytes = b"",
        metadata: dict[str, bytes] | None = None,
    ) -> list[ConnectionEvent]:
        """The application's answer to an AuthRequest event (ZAP status code, e.g. b"200")."""
        events: list[ConnectionEvent] = []
        try:
            replies = self.mechanism.auth_result(status, text, user_id, metadata or {})
        except HandshakeRefused as exc:
            self._refuse(exc)
            raise
        for name, data in replies:
            self._outgoing.append(encode_command(name, data))
        if self.mechanism.ready and self.state is State.HANDSHAKE:
            self._finish_handshake(events)
        return events

    def _refuse(self, exc: HandshakeRefused) -> None:
        if exc.tell_peer:
            self.send_error(exc.peer_text)
        self.state = State.CLOSED

    def _traffic_commands(self, found: list[Decoded]) -> list[ConnectionEvent]:
        """The plain-text traffic phase's messages with commands among them, in order."""
        events: list[ConnectionEvent] = []
        try:
            for event in found:
                if self.state is State.CLOSED:
                    break  # The peer sent ERROR: whatever follows it is not for us.
                if isinstance(event, tuple):
                    self._receive_command(event[1], events)
                else:
                    events.append(event)
        except ProtocolError as exc:
            exc.events = events  # type: ignore[attr-defined]
            raise
        return events

    def _receive_sealed(self, data: bytes) -> list[ConnectionEvent]:
        """The traffic phase of an encrypting mechanism: wrapped frames, opened a batch at a
        time into whole messages."""
        try:
            found, self._wrapped, plain_commands = self._decoder.feed_messages(data, self._wrapped)
        except ProtocolError as exc:
            # What arrived whole before the bad bytes is opened and handed on (unless it fails
            # first: then that is the error).
            decoded = getattr(exc, "decoded", [])
            exc.events = self._open(  # type: ignore[attr-defined]
                decoded, any(type(event) is tuple for event in decoded)
            )
            raise
        return self._open(found, plain_commands)

    def _open(self, found: list[Decoded], plain_commands: bool) -> list[ConnectionEvent]:
        """The events inside wrapped frames (``feed_messages``'s output)."""
        if plain_commands:
            # A command in plain text (ERROR), or wrapped frames sent with the command flag.
            frames: list[tuple[int, bytes]] = []
            for event in found:
                if isinstance(event, tuple):
                    frames.append(event)
                elif isinstance(event, bytes):
                    frames.append((0, event))
                else:
                    frames.extend((0, body) for body in event)
            self.only_messages = False
            return self._file_sealed(frames)
        try:
            opened, self._frames, commands = self.mechanism.open_messages(
                found,  # type: ignore[arg-type]
                self._frames,
            )
        except ProtocolError as exc:
            # The messages opened before a box that failed are the peer's, authenticated.
            exc.events = self._traffic_commands(getattr(exc, "decoded", []))  # type: ignore[attr-defined]
            raise
        self.only_messages = not commands
        if commands:
            return self._traffic_commands(opened)
        return opened  # type: ignore[return-value]

    def _file_sealed(self, frames: list[tuple[int, bytes]]) -> list[ConnectionEvent]:
        """Wrapped frames unwrapped one at a time, filed as commands handled and messages."""
        events: list[ConnectionEvent] = []
        try:
            for wrapped in frames:
                if self.state is State.CLOSED:
                    break  # The peer sent ERROR: whatever follows it is not for us.
                (flags, body), *_ = self.mechanism.decode_frames([wrapped])
                if flags & COMMAND:
                    self._receive_command(body, events)
                elif flags & MORE:
                    self._frames.append(body)
                elif self._frames:
                    self._frames.append(body)
                    events.append(self._frames)
                    self._frames = []
                else:
                    events.append(body)
        except ProtocolError as exc:
            exc.events = events  # type: ignore[attr-defined]
            raise
        return events

    def _receive(self, data: bytes) -> list[ConnectionEvent]:
        """The greeting and the handshake: frames one at a time, each bounded by
        HANDSHAKE_FRAME_LIMIT; what follows the handshake in the same bytes goes the traffic
        phase's way."""
        self.only_messages = False
        events: list[ConnectionEvent] = []
        try:
            if self.state is State.GREETING:
                data = self._receive_greeting(data)
                events.extend(self._pending_events)
                self._pending_events.clear()
                if self.state is State.GREETING:
                    return events
            decoder = self._decoder
            decoder.push(data)
            while self.state is State.HANDSHAKE:
                frame = decoder.next_frame(HANDSHAKE_FRAME_LIMIT)
                if frame is None:
                    return events
                flags, body = frame
                if not flags & COMMAND:
                    raise ProtocolError("message frame received before the handshake completed")
                self._receive_command(body, events)
            rest = decoder.take_buffered()
            if rest and self.state is State.TRAFFIC:
                events += self.receive_data(rest)
                self.only_messages = False
            return events
        except ProtocolError as exc:
            exc.events = events + getattr(exc, "events", [])  # type: ignore[attr-defined]
            raise

    def _receive_greeting(self, data: bytes) -> bytes:
        if self._v2 is not None:
            return self._receive_v2_greeting(data)
        needed = GREETING_SIZE - len(self._greeting_buffer)
        self._greeting_buffer += data[:needed]
        buffer = self._greeting_buffer
        check_signature(buffer)
        if len(buffer) >= VERSION_END and self._greeting_rest is not None:
            if buffer[VERSION_END - 1] < MAJOR_VERSION:
                self._greeting_buffer = b""
                self._start_v2()
                return self._receive_v2_greeting(buffer[VERSION_END:] + data[needed:])
            self._outgoing.append(self._greeting_rest)
            self._greeting_rest = None
        if len(buffer) < GREETING_SIZE:
            return b""
        greeting = Greeting.decode(self._greeting_buffer)
        # The peer's as-server bit is not checked: libzmq leaves it clear even for a PLAIN server.
        if greeting.mechanism != self.mechanism.name:
            self.send_error("security mechanism mismatch")
            raise ProtocolError(
                f"peer uses the {greeting.mechanism.decode()} mechanism, "
                f"this socket {self.mechanism.name.decode()}"
            )
        self.peer_minor_version = greeting.minor if greeting.major == MAJOR_VERSION else 1
        self.state = State.HANDSHAKE
        for name, command_data in self.mechanism.start():
            self._outgoing.append(encode_command(name, command_data))
        self._pending_events.extend(self._auth_events())
        return data[needed:]

    def _start_v2(self) -> None:
        """The peer speaks ZMTP 2.0: no mechanism, subscriptions as messages, no commands."""
        self._greeting_rest = None
        if self.mechanism.name != b"NULL":
            raise ProtocolError(
                f"a ZMTP 2.0 peer (libzmq 3.x) has no security, this socket uses "
                f"{self.mechanism.name.decode()}"
            )
        self._outgoing.append(zmtp2.greeting_rest(self.socket_type, self._identity))
        self.peer_minor_version = 0
        self.zmtp2 = True
        self._v2 = zmtp2.GreetingReader()

    def _receive_v2_greeting(self, data: bytes) -> bytes:
        assert self._v2 is not None
        done, rest = self._v2.feed(data)
        if not done:
            return b""
        peer_type = self._v2.peer_type
        if peer_type not in COMPATIBLE_PEERS.get(self.socket_type, ()):
            raise ProtocolError(f"a {self.socket_type} socket cannot talk to a {peer_type} peer")
        self.state = State.TRAFFIC
        properties = {"Socket-Type": peer_type.encode(), "Identity": self._v2.identity}
        self._pending_events.append(HandshakeComplete(properties, 0))
        return rest

    def _negotiate_compression(self, announced: bytes | None) -> None:
        """Both ends announced codecs they share: from now on every message frame is coded
        (the send and receive methods of this connection are swapped for coding ones, so an
        uncompressed connection pays nothing)."""
        assert self._compression is not None
        codecs, threshold, limit = self._compression
        send = compressing.choose(codecs, announced)
        if send is None:
            return
        codec = compressing.FrameCodec(send, codecs, threshold, limit)
        self.compression = send
        plain_messages, plain_message = self.send_messages, self.send_message
        plain_receive, plain_into = self.receive_data, self.received_into

        def decoded(events: list[ConnectionEvent]) -> list[ConnectionEvent]:
            try:
                return [
                    codec.decode(e) if type(e) is bytes or type(e) is list else e for e in events
                ]
            except ProtocolError as exc:
                exc.events = []  # type: ignore[attr-defined]
                self.state = State.CLOSED
                raise

        self.send_messages = lambda messages: plain_messages(  # type: ignore[method-assign]
            [codec.encode(m) for m in messages]
        )
        self.send_message = lambda frames: plain_message(codec.encode(frames))  # type: ignore[method-assign]
        self.receive_data = lambda data: decoded(plain_receive(data))  # type: ignore[method-assign]
        self.received_into = lambda count: decoded(plain_into(count))  # type: ignore[method-assign]

    #: The codec this end compresses with (None: the connection is not compressed).
    compression: str | None = None

    def _auth_events(self) -> list[ConnectionEvent]:
        request = self.mechanism.auth_request
        if request is None or self._auth_asked:
            return []
        self._auth_asked = True
        return [request]

    def _receive_command(self, body: bytes, events: list[ConnectionEvent]) -> None:
        name, data = cmd.split_command(body)
        if self.state is State.HANDSHAKE:
            for reply_name, reply_data in self.mechanism.receive(name, data):
                self._outgoing.append(encode_command(reply_name, reply_data))
            events.extend(self._auth_events())
            if self.mechanism.ready:
                self._finish_handshake(events)
            return
        if name == cmd.SUBSCRIBE:
            events.append(SubscriptionChange(data, True))
        elif name == cmd.CANCEL:
            events.append(SubscriptionChange(data, False))
        elif name == cmd.JOIN or name == cmd.LEAVE:
            if len(data) > GROUP_MAX_LENGTH:
                raise ProtocolError(f"{name.decode()} of a group longer than 255 bytes")
            events.append(GroupChange(data, name == cmd.JOIN))
        elif name == cmd.PING:
            if len(data) < 2:
                raise ProtocolError("malformed PING")
            self._send_command(cmd.PONG, data[2:18])
            ttl = int.from_bytes(data[:2], "big")
            if ttl:
                events.append(PeerTtl(ttl * 100))
        elif name == cmd.PONG:
            events.append(Pong(data))
        elif name == cmd.ERROR:
            self.state = State.CLOSED
            events.append(PeerError(cmd.decode_error(data)))
        # Other commands are ignored, so that later protocol versions can add some.

    def _finish_handshake(self, events: list[ConnectionEvent]) -> None:
        peer = self.mechanism.peer_properties
        peer_type_raw = cmd.get_property(peer, "Socket-Type")
        peer_type = peer_type_raw.decode("ascii", "replace") if peer_type_raw else ""
        if peer_type not in COMPATIBLE_PEERS.get(self.socket_type, ()):
            self.send_error("Invalid socket type")
            raise ProtocolError(
                f"a {self.socket_type} socket cannot talk to a {peer_type or '?'} peer"
            )
        self.state = State.TRAFFIC
        self._encrypting = self.mechanism.encrypts
        if self._compression is not None:
            self._negotiate_compression(cmd.get_property(peer, compressing.PROPERTY))
        properties = dict(peer)
        properties.update(self.mechanism.zap_properties)
        events.append(
            HandshakeComplete(properties, self.peer_minor_version, self.mechanism.user_id)
        )

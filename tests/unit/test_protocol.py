"""Unit tests of the sans-IO ZMTP layer: greeting, frames, commands, the Connection machine."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purezmq.protocol import (
    Connection,
    Greeting,
    HandshakeComplete,
    PeerError,
    ProtocolError,
    SubscriptionChange,
)
from purezmq.protocol import commands as cmd
from purezmq.protocol.connection import COMPATIBLE_PEERS, PeerTtl, Pong
from purezmq.protocol.frames import (
    COMMAND,
    LONG,
    MORE,
    FrameDecoder,
    encode_command,
    encode_message,
    frame_header,
)
from purezmq.protocol.greeting import GREETING_SIZE, SIGNATURE

from ._received import received

SOCKET_TYPES = sorted(COMPATIBLE_PEERS)
FAST = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


# -- helpers -------------------------------------------------------------------------------------


def greeting(major: int = 3, minor: int = 1, mechanism: bytes = b"NULL", server: bool = False):
    return Greeting(major, minor, mechanism, server).encode()


def ready(socket_type: str | None = "DEALER", **extra: bytes) -> bytes:
    props: dict[str, bytes] = {}
    if socket_type is not None:
        props["Socket-Type"] = socket_type.encode()
    props.update(extra)
    return encode_command(cmd.READY, cmd.encode_properties(props))


def message_bytes(frames: list[bytes]) -> bytes:
    chunks: list[bytes] = []
    encode_message(frames, chunks)
    return b"".join(chunks)


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """An independent frame parser (not FrameDecoder) for checking what a Connection writes."""
    frames = []
    pos = 0
    while pos < len(data):
        flags = data[pos]
        if flags & LONG:
            (size,) = struct.unpack_from(">Q", data, pos + 1)
            pos += 9
        else:
            size = data[pos + 1]
            pos += 2
        assert pos + size <= len(data), "truncated frame in output"
        frames.append((flags, data[pos : pos + size]))
        pos += size
    return frames


def output(conn: Connection) -> bytes:
    return b"".join(conn.data_to_send())


def output_frames(conn: Connection, skip_greeting: bool = False) -> list[tuple[int, bytes]]:
    data = output(conn)
    if skip_greeting:
        assert data[:10] == SIGNATURE
        data = data[GREETING_SIZE:]
    return parse_frames(data)


def commands_in(frames: list[tuple[int, bytes]]) -> list[tuple[bytes, bytes]]:
    return [cmd.split_command(body) for flags, body in frames if flags & COMMAND]


def established(
    socket_type: str = "DEALER",
    peer_type: str = "ROUTER",
    minor: int = 1,
    **kwargs,
) -> Connection:
    """A Connection that has completed the NULL handshake with a scripted peer."""
    conn = Connection(socket_type, **kwargs)
    events = conn.receive_data(greeting(minor=minor) + ready(peer_type))
    assert len(events) == 1 and isinstance(events[0], HandshakeComplete)
    conn.data_to_send()  # greeting + READY
    return conn


def pump(a: Connection, b: Connection, rounds: int = 10):
    """Shuttle bytes between two connections until both are quiet."""
    events_a: list = []
    events_b: list = []
    for _ in range(rounds):
        out_a, out_b = output(a), output(b)
        if not out_a and not out_b:
            break
        if out_a:
            events_b += b.receive_data(out_a)
        if out_b:
            events_a += a.receive_data(out_b)
    return events_a, events_b


def messages_of(events: list) -> list[bytes | list[bytes]]:
    return [e for e in events if isinstance(e, bytes | list)]


# -- greeting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "major,minor,mechanism,server",
    [
        (3, 0, b"NULL", False),
        (3, 1, b"NULL", True),
        (3, 1, b"PLAIN", False),
        (3, 1, b"CURVE", True),
        (4, 7, b"X" * 20, False),
    ],
)
def test_greeting_round_trip(major, minor, mechanism, server):
    raw = Greeting(major, minor, mechanism, server).encode()
    assert len(raw) == GREETING_SIZE
    assert raw[:10] == SIGNATURE
    assert raw[10:12] == bytes((major, minor))
    assert raw[12:32] == mechanism.ljust(20, b"\x00")
    assert raw[32] == (1 if server else 0)
    assert raw[33:] == b"\x00" * 31
    assert Greeting.decode(raw) == Greeting(major, minor, mechanism, server)


def test_greeting_mechanism_too_long():
    with pytest.raises(ValueError):
        Greeting(3, 1, b"X" * 21, False).encode()


def test_greeting_padding_is_not_interpreted():
    raw = bytearray(greeting())
    raw[1:9] = b"\x12\x34\x56\x78\x9a\xbc\xde\xf0"  # signature padding
    raw[33:] = b"\xaa" * 31  # filler
    assert Greeting.decode(bytes(raw)) == Greeting(3, 1, b"NULL", False)


@pytest.mark.parametrize("minor", [0, 1])
def test_zmtp_3x_accepted(minor):
    conn = Connection("DEALER")
    events = conn.receive_data(greeting(minor=minor) + ready("ROUTER"))
    assert events == [HandshakeComplete({"Socket-Type": b"ROUTER"}, minor)]
    assert conn.peer_minor_version == minor


def test_later_version_accepted_as_31():
    conn = Connection("DEALER")
    events = conn.receive_data(greeting(major=4, minor=0) + ready("ROUTER"))
    assert isinstance(events[0], HandshakeComplete)
    assert conn.peer_minor_version == 1


@pytest.mark.parametrize("major,minor", [(2, 0), (2, 1), (1, 0), (0, 0)])
def test_old_versions_refused(major, minor):
    raw = greeting(major=major, minor=minor)
    with pytest.raises(ProtocolError):
        Greeting.decode(raw)
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(raw)


def test_zmtp10_short_identity_refused_at_first_byte():
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(b"\x01")  # ZMTP 1.0: a short identity frame of length 1


def test_zmtp10_long_identity_refused_at_tenth_byte():
    conn = Connection("DEALER")
    # 0xFF, an 8-byte length, then the flags octet whose LSB is 0: ZMTP 1.0, not a signature.
    opening = b"\xff" + struct.pack(">Q", 300) + b"\x00"
    assert conn.receive_data(opening[:9]) == []
    with pytest.raises(ProtocolError):
        conn.receive_data(opening[9:])


@pytest.mark.parametrize("first", [b"G", b"\x00", b"\x7f", b"\xfe"])
def test_garbage_first_byte_refused_at_once(first):
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(first)


def test_http_request_refused():
    conn = Connection("ROUTER")
    with pytest.raises(ProtocolError):
        conn.receive_data(b"GET / HTTP/1.1\r\n")


def test_failed_connection_stays_failed():
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(b"X")
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting())


def test_partial_greeting_waits():
    conn = Connection("DEALER")
    raw = greeting()
    for i in range(GREETING_SIZE - 1):
        assert conn.receive_data(raw[i : i + 1]) == []
    # Only our greeting (its rest once their version byte came); READY waits for theirs.
    assert conn.data_to_send() == [raw[:11], raw[11:]]
    assert conn.receive_data(raw[-1:]) == []
    frames = output_frames(conn)
    assert commands_in(frames)[0][0] == cmd.READY


def test_mechanism_mismatch_refused_with_error():
    conn = Connection("DEALER")
    conn.data_to_send()  # The signature and the major version.
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting(mechanism=b"PLAIN"))
    data = output(conn)
    cmds = commands_in(parse_frames(data[GREETING_SIZE - 11 :]))  # (After our greeting's rest.)
    assert cmds and cmds[-1][0] == cmd.ERROR
    assert cmd.READY not in [name for name, _ in cmds]


@pytest.mark.parametrize("mechanism", [b"\x00" * 20, b"NU LL", b"NULL\x00X", b"\x01NULL"])
def test_invalid_mechanism_name_refused(mechanism):
    raw = bytearray(greeting())
    raw[12:32] = mechanism.ljust(20, b"\x00")
    with pytest.raises(ProtocolError):
        Greeting.decode(bytes(raw))
    with pytest.raises(ProtocolError):
        Connection("DEALER").receive_data(bytes(raw))


# -- frames --------------------------------------------------------------------------------------


def test_frame_header_short_long_boundary():
    assert frame_header(0, 0) == b"\x00\x00"
    assert frame_header(0, 255) == b"\x00\xff"
    assert frame_header(MORE, 255) == b"\x01\xff"
    assert frame_header(0, 256) == b"\x02" + struct.pack(">Q", 256)
    assert frame_header(MORE, 256) == b"\x03" + struct.pack(">Q", 256)
    assert frame_header(COMMAND, 256) == b"\x06" + struct.pack(">Q", 256)


def test_encode_message_header_forms():
    wire = message_bytes([b"a" * 255, b"b" * 256])
    assert wire[:2] == b"\x01\xff"
    rest = wire[2 + 255 :]
    assert rest[:9] == b"\x02" + struct.pack(">Q", 256)
    assert len(rest) == 9 + 256


@pytest.mark.parametrize("size", [0, 1, 255, 256, 8191, 8192, 70000])
def test_encode_decode_sizes(size):
    body = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    wire = message_bytes([body, b"tail"])
    assert FrameDecoder().feed(wire) == [(MORE | (LONG if size > 255 else 0), body), (0, b"tail")]


def test_connection_receives_255_and_256_byte_frames():
    conn = established()
    assert conn.receive_data(b"\x00\xff" + b"x" * 255) == [b"x" * 255]
    assert conn.receive_data(b"\x02" + struct.pack(">Q", 256) + b"y" * 256) == [b"y" * 256]
    # A long header for a short body is legal too.
    assert conn.receive_data(b"\x02" + struct.pack(">Q", 3) + b"abc") == [b"abc"]


def test_more_flag_assembles_multipart():
    conn = established()
    wire = b"\x01\x01a" + b"\x01\x00" + b"\x03" + struct.pack(">Q", 2) + b"bc" + b"\x00\x01d"
    assert conn.receive_data(wire) == [[b"a", b"", b"bc", b"d"]]
    # Split in the middle: nothing until the last frame.
    assert conn.receive_data(b"\x01\x01x") == []
    assert conn.receive_data(b"\x00\x01y" + b"\x00\x00") == [[b"x", b"y"], b""]


def test_command_flag():
    frames = FrameDecoder().feed(encode_command(b"PING", b"\x00\x00") + b"\x00\x01m")
    assert frames == [(COMMAND, b"\x04PING\x00\x00"), (0, b"m")]
    long_cmd = encode_command(b"X", b"z" * 300)
    assert long_cmd[0] == COMMAND | LONG
    assert FrameDecoder().feed(long_cmd) == [(COMMAND | LONG, b"\x01X" + b"z" * 300)]


@pytest.mark.parametrize("flags", [0x08, 0x10, 0x20, 0x40, 0x80, 0xFF, 0x09])
def test_invalid_flag_bits_refused(flags):
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(bytes((flags, 0)))
    conn = established()
    with pytest.raises(ProtocolError):
        conn.receive_data(bytes((flags, 1)) + b"x")


@pytest.mark.parametrize("flags", [COMMAND | MORE, COMMAND | MORE | LONG])
def test_command_with_more_refused(flags):
    body = b"\x04PING\x00\x00"
    if flags & LONG:
        wire = bytes((flags,)) + struct.pack(">Q", len(body)) + body
    else:
        wire = bytes((flags, len(body))) + body
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(wire)
    with pytest.raises(ProtocolError):
        established().receive_data(wire)


def test_absurd_long_size_refused():
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(b"\x02" + struct.pack(">Q", 2**63))


multipart = st.lists(
    st.lists(st.binary(max_size=300), min_size=1, max_size=5), min_size=1, max_size=6
)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@FAST
@given(messages=multipart, cuts=st.lists(st.integers(min_value=0), max_size=30))
def test_arbitrary_chunking_gives_same_messages(messages, cuts):
    wire = greeting() + ready("ROUTER") + b"".join(message_bytes(m) for m in messages)

    whole = Connection("DEALER").receive_data(wire)
    assert isinstance(whole[0], HandshakeComplete)
    assert whole[1:] == [received(m) for m in messages]

    conn = Connection("DEALER")
    events = []
    for chunk in _split(wire, cuts):
        events += conn.receive_data(chunk)
    assert events == whole


@settings(max_examples=25, deadline=None, database=None)
@given(messages=multipart)
def test_byte_at_a_time_gives_same_messages(messages):
    wire = greeting() + ready("ROUTER") + b"".join(message_bytes(m) for m in messages)
    whole = Connection("DEALER").receive_data(wire)
    conn = Connection("DEALER")
    events = []
    for i in range(len(wire)):
        events += conn.receive_data(wire[i : i + 1])
    assert events == whole
    assert messages_of(events) == [received(m) for m in messages]


# -- max_message_size ----------------------------------------------------------------------------


def test_max_message_size_short_frame_refused_on_header():
    conn = established(max_message_size=10)
    assert conn.receive_data(b"\x00\x0a" + b"x" * 10) == [b"x" * 10]  # exactly the limit
    with pytest.raises(ProtocolError):
        conn.receive_data(b"\x00\x0b")  # header only: the body never arrives


def test_max_message_size_long_frame_refused_on_header():
    conn = established(max_message_size=1000)
    header = b"\x02" + struct.pack(">Q", 10**9)
    assert conn.receive_data(header[:8]) == []  # incomplete header: nothing to decide yet
    with pytest.raises(ProtocolError):
        conn.receive_data(header[8:])


def test_max_message_size_in_a_multipart_frame():
    conn = established(max_message_size=4)
    assert conn.receive_data(b"\x01\x04abcd") == []
    with pytest.raises(ProtocolError):
        conn.receive_data(b"\x00\x05")


def test_max_message_size_unlimited_by_default():
    conn = established()
    body = b"z" * 100_000
    assert conn.receive_data(message_bytes([body])) == [body]


def test_max_message_size_zero_allows_only_empty_frames():
    conn = established(max_message_size=0)
    assert conn.receive_data(b"\x00\x00") == [b""]
    with pytest.raises(ProtocolError):
        conn.receive_data(b"\x00\x01")


# -- two connections back to back ----------------------------------------------------------------


COMPATIBLE = [(a, b) for a in SOCKET_TYPES for b in SOCKET_TYPES if b in COMPATIBLE_PEERS[a]]
INCOMPATIBLE = [(a, b) for a in SOCKET_TYPES for b in SOCKET_TYPES if b not in COMPATIBLE_PEERS[a]]


def test_compatibility_table_is_symmetric():
    for a, b in itertools.product(SOCKET_TYPES, repeat=2):
        assert (b in COMPATIBLE_PEERS[a]) == (a in COMPATIBLE_PEERS[b]), (a, b)


@pytest.mark.parametrize("a,b", COMPATIBLE)
def test_compatible_pair_handshakes(a, b):
    ca, cb = Connection(a, identity=b"ida"), Connection(b, as_server=True, identity=b"idb")
    events_a, events_b = pump(ca, cb)
    assert len(events_a) == 1 and isinstance(events_a[0], HandshakeComplete)
    assert len(events_b) == 1 and isinstance(events_b[0], HandshakeComplete)
    assert cmd.get_property(events_a[0].properties, "Socket-Type") == b.encode()
    assert cmd.get_property(events_b[0].properties, "Socket-Type") == a.encode()
    assert events_a[0].minor_version == events_b[0].minor_version == 1
    # Traffic flows both ways.
    ca.send_message([b"hello", b"world"])
    cb.send_message([b"back"])
    events_a, events_b = pump(ca, cb)
    assert events_b == [[b"hello", b"world"]]
    assert events_a == [b"back"]  # (One frame: its body, no list.)


@pytest.mark.parametrize("a,b", INCOMPATIBLE)
def test_incompatible_pair_refused(a, b):
    ca, cb = Connection(a), Connection(b, as_server=True)
    assert cb.receive_data(output(ca)) == []  # a's signature and version: b sends its greeting
    assert ca.receive_data(output(cb)) == []  # b's greeting: a sends the rest of its own + READY
    # Each side refuses the other's READY, and says why with an ERROR command.
    with pytest.raises(ProtocolError):
        cb.receive_data(output(ca))
    out_b = output(cb)
    assert [n for n, _ in commands_in(parse_frames(out_b))] == [cmd.READY, cmd.ERROR]
    with pytest.raises(ProtocolError):
        ca.receive_data(out_b)
    assert [n for n, _ in commands_in(parse_frames(output(ca)))] == [cmd.ERROR]


def test_missing_socket_type_refused():
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting() + ready(None))
    assert commands_in(output_frames(conn, skip_greeting=True))[-1][0] == cmd.ERROR


# -- READY metadata ------------------------------------------------------------------------------


def _sent_ready_properties(conn: Connection) -> dict[str, bytes]:
    conn.receive_data(greeting())
    ((name, data),) = commands_in(output_frames(conn, skip_greeting=True))
    assert name == cmd.READY
    return cmd.decode_properties(data)


@pytest.mark.parametrize("socket_type", SOCKET_TYPES)
def test_ready_identity_only_for_req_dealer_router(socket_type):
    props = _sent_ready_properties(Connection(socket_type, identity=b"me"))
    assert props["Socket-Type"] == socket_type.encode()
    if socket_type in ("REQ", "DEALER", "ROUTER"):
        assert props["Identity"] == b"me"
    else:
        assert "Identity" not in props


def test_ready_empty_identity_sent_for_dealer():
    assert _sent_ready_properties(Connection("DEALER")) == {
        "Socket-Type": b"DEALER",
        "Identity": b"",
    }


def test_ready_extra_properties_round_trip():
    extra = {"X-Hello": b"world", "X-Empty": b"", "X-Big": b"v" * 1000}
    ca = Connection("DEALER", identity=b"abc", extra_properties=extra)
    cb = Connection("ROUTER", as_server=True)
    _, events_b = pump(ca, cb)
    props = events_b[0].properties
    assert props == {"Socket-Type": b"DEALER", "Identity": b"abc", **extra}
    assert cmd.get_property(props, "x-hello") == b"world"
    assert cmd.get_property(props, "IDENTITY") == b"abc"
    assert cmd.get_property(props, "x-missing") is None


def test_get_property_case_insensitive():
    props = {"socket-TYPE": b"PUB", "Identity": b"x"}
    assert cmd.get_property(props, "Socket-Type") == b"PUB"
    assert cmd.get_property(props, "socket-type") == b"PUB"
    assert cmd.get_property(props, "Identity") == b"x"
    assert cmd.get_property(props, "identity") == b"x"
    assert cmd.get_property(props, "Resource") is None


def test_peer_socket_type_name_case_insensitive():
    conn = Connection("DEALER")
    data = encode_command(cmd.READY, cmd.encode_properties({"SOCKET-TYPE": b"ROUTER"}))
    events = conn.receive_data(greeting() + data)
    assert isinstance(events[0], HandshakeComplete)


prop_names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+",
    min_size=1,
    max_size=255,
)


@FAST
@given(st.dictionaries(prop_names, st.binary(max_size=300), max_size=8))
def test_properties_round_trip(props):
    assert cmd.decode_properties(cmd.encode_properties(props)) == props


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x00\x00",  # zero-length name
        b"\x05Ident",  # name runs past the end... no value size
        b"\x0bSocket-Type\x00\x00",  # truncated value size
        b"\x0bSocket-Type\x00\x00\x00\x05ROU",  # truncated value
        b"\x0aSocket-Typ",  # name truncated
        b"\x04a b\x00\x00\x00\x00\x00",  # a space in a name
        b"\x02\xff\xfe\x00\x00\x00\x00",  # non-ASCII name
        b"\x0bSocket-Type\xff\xff\xff\xffROUTER",  # value size far beyond the data
    ],
)
def test_malformed_metadata_refused(data):
    with pytest.raises(ProtocolError):
        cmd.decode_properties(data)
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting() + encode_command(cmd.READY, data))


@pytest.mark.parametrize("body", [b"", b"\x00", b"\x05READ", b"\x00READY"])
def test_malformed_command_name_refused(body):
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting() + frame_header(COMMAND, len(body)) + body)


def test_non_ready_command_in_handshake_refused():
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting() + encode_command(cmd.PING, b"\x00\x00"))


def test_error_during_handshake_refused():
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError, match="nope"):
        conn.receive_data(greeting() + encode_command(cmd.ERROR, cmd.encode_error("nope")))


# -- traffic-phase commands ----------------------------------------------------------------------


def test_ping_answered_with_pong_context():
    conn = established()
    # A TTL of 100 deciseconds: the peer asks to be dropped after 10 s of silence.
    events = conn.receive_data(encode_command(cmd.PING, b"\x00\x64" + b"ctx-123"))
    assert events == [PeerTtl(10_000)]
    assert commands_in(output_frames(conn)) == [(cmd.PONG, b"ctx-123")]


def test_ping_without_ttl_asks_for_nothing():
    conn = established()
    assert conn.receive_data(encode_command(cmd.PING, b"\x00\x00")) == []


def test_ping_empty_context():
    conn = established()
    conn.receive_data(encode_command(cmd.PING, b"\x00\x00"))
    assert commands_in(output_frames(conn)) == [(cmd.PONG, b"")]


def test_ping_context_capped_at_16_bytes():
    conn = established()
    conn.receive_data(encode_command(cmd.PING, b"\x00\x00" + bytes(range(20))))
    ((name, context),) = commands_in(output_frames(conn))
    assert name == cmd.PONG and context == bytes(range(16))


def test_malformed_ping_refused():
    conn = established()
    with pytest.raises(ProtocolError):
        conn.receive_data(encode_command(cmd.PING, b"\x00"))


def test_ping_round_trip_between_connections():
    ca, cb = Connection("PAIR"), Connection("PAIR")
    pump(ca, cb)
    ca.send_ping(50, b"hb")
    events_a, events_b = pump(ca, cb)
    assert events_b == [PeerTtl(5000)]
    assert events_a == [Pong(b"hb")]


def test_pong_event():
    conn = established()
    assert conn.receive_data(encode_command(cmd.PONG, b"abc")) == [Pong(b"abc")]


def test_error_from_peer_gives_peer_error():
    conn = established()
    events = conn.receive_data(encode_command(cmd.ERROR, cmd.encode_error("go away")))
    assert events == [PeerError("go away")]


def test_error_with_empty_body():
    conn = established()
    assert conn.receive_data(encode_command(cmd.ERROR)) == [PeerError("")]


def test_subscribe_and_cancel_commands():
    conn = established("PUB", "SUB")
    events = conn.receive_data(
        encode_command(cmd.SUBSCRIBE, b"topic")
        + encode_command(cmd.CANCEL, b"topic")
        + encode_command(cmd.SUBSCRIBE, b"")
    )
    assert events == [
        SubscriptionChange(b"topic", True),
        SubscriptionChange(b"topic", False),
        SubscriptionChange(b"", True),
    ]


def test_unknown_command_ignored_after_handshake():
    conn = established()
    assert conn.receive_data(encode_command(b"X-FUTURE", b"data") + b"\x00\x01m") == [b"m"]


def test_send_subscription_to_zmtp31_peer_is_a_command():
    conn = established("SUB", "PUB", minor=1)
    conn.send_subscription(b"topic", True)
    conn.send_subscription(b"topic", False)
    frames = output_frames(conn)
    assert all(flags & COMMAND for flags, _ in frames)
    assert commands_in(frames) == [(cmd.SUBSCRIBE, b"topic"), (cmd.CANCEL, b"topic")]


def test_send_subscription_to_zmtp30_peer_is_a_data_frame():
    conn = established("SUB", "PUB", minor=0)
    assert conn.peer_minor_version == 0
    conn.send_subscription(b"topic", True)
    conn.send_subscription(b"topic", False)
    assert output(conn) == b"\x00\x06\x01topic" + b"\x00\x06\x00topic"


def test_subscription_between_connections():
    sub, pub = Connection("SUB"), Connection("PUB", as_server=True)
    pump(sub, pub)
    sub.send_subscription(b"A", True)
    _, events_pub = pump(sub, pub)
    assert events_pub == [SubscriptionChange(b"A", True)]


def test_send_message_before_handshake_is_an_error():
    conn = Connection("DEALER")
    with pytest.raises(RuntimeError):
        conn.send_message([b"x"])


def test_message_frame_before_handshake_refused():
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting() + b"\x00\x01x")


def test_message_frame_before_handshake_refused_in_pieces():
    conn = Connection("DEALER")
    assert conn.receive_data(greeting()) == []
    with pytest.raises(ProtocolError):
        conn.receive_data(b"\x01\x01x")


def test_handshake_and_first_message_in_one_chunk():
    conn = Connection("DEALER")
    events = conn.receive_data(greeting() + ready("ROUTER") + b"\x00\x02hi")
    assert isinstance(events[0], HandshakeComplete)
    assert events[1:] == [b"hi"]


# -- fuzz ----------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(
    junk=st.binary(max_size=200),
    after_ready=st.booleans(),
    socket_type=st.sampled_from(SOCKET_TYPES),
)
def test_fuzz_after_greeting_only_protocol_errors(junk, after_ready, socket_type):
    peer_type = sorted(COMPATIBLE_PEERS[socket_type])[0]
    conn = Connection(socket_type, max_message_size=64)
    prefix = greeting() + (ready(peer_type) if after_ready else b"")
    try:
        conn.receive_data(prefix)
        conn.receive_data(junk)
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None, database=None)
@given(
    frames=st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), min_size=1, max_size=8)
)
def test_fuzz_structured_frames_only_protocol_errors(frames):
    """Well-framed but arbitrary flags and bodies (commands with junk bodies, bad metadata...)."""
    wire = b"".join(bytes((flags & ~LONG, len(body))) + body for flags, body in frames)
    for prefix in (greeting(), greeting() + ready("ROUTER")):
        conn = Connection("DEALER")
        try:
            conn.receive_data(prefix + wire)
        except ProtocolError:
            pass


@settings(max_examples=200, deadline=None, database=None)
@given(junk=st.binary(min_size=1, max_size=100))
def test_fuzz_from_the_start_only_protocol_errors(junk):
    conn = Connection("ROUTER")
    try:
        conn.receive_data(junk)
    except ProtocolError:
        pass

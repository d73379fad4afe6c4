"""A peer that lies or breaks the protocol at the sans-IO layer (issue 17): what it claims is
never allocated, handshake frames are bounded, MAXMSGSIZE bounds command frames too, and what
it sent whole before breaking the protocol is handed on with the error."""

from __future__ import annotations

import functools
import struct
import tracemalloc

import pytest

from purezmq.protocol import (
    Connection,
    Greeting,
    HandshakeComplete,
    ProtocolError,
    SubscriptionChange,
)
from purezmq.protocol import commands as cmd
from purezmq.protocol.connection import HANDSHAKE_FRAME_LIMIT, PeerTtl, Pong, State
from purezmq.protocol.frames import (
    COMMAND,
    LONG,
    MORE,
    FrameDecoder,
    encode_command,
    encode_message,
)
from purezmq.protocol.mechanisms import AuthRequest

MiB = 1024 * 1024


def greeting(mechanism: bytes = b"NULL", minor: int = 1) -> bytes:
    return Greeting(3, minor, mechanism, False).encode()


def ready(socket_type: str = "ROUTER", **extra: bytes) -> bytes:
    return encode_command(
        cmd.READY, cmd.encode_properties({"Socket-Type": socket_type.encode(), **extra})
    )


def wire(*messages: list[bytes]) -> bytes:
    chunks: list[bytes] = []
    for frames in messages:
        encode_message(frames, chunks)
    return b"".join(chunks)


def established(**kwargs) -> Connection:
    conn = Connection("DEALER", **kwargs)
    events = conn.receive_data(greeting() + ready())
    assert isinstance(events[-1], HandshakeComplete)
    conn.data_to_send()
    return conn


def long_header(flags: int, size: int) -> bytes:
    return bytes((flags | LONG,)) + struct.pack(">Q", size)


def peak_while(action) -> int:
    """The most memory Python allocated while ``action()`` ran (tracemalloc)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def read_like_the_transport(conn: Connection, data: bytes, read: int) -> list:
    """Feed ``data`` as the selector transport reads it: a large body into receive_buffer()."""
    events: list = []
    pos = 0
    while pos < len(data):
        target = conn.receive_buffer() if conn.large_pending else None
        if target is not None:
            take = min(read, len(target), len(data) - pos)
            target[:take] = data[pos : pos + take]
            events += conn.received_into(take)
        else:
            take = min(read, len(data) - pos)
            events += conn.receive_data(data[pos : pos + take])
        pos += take
    return events


# -- 1. what a header claims is not allocated ---------------------------------------------------


def test_a_frame_claiming_a_terabyte_gets_a_buffer_of_256_kib():
    """A peer announced a 1 TiB frame and sent 100 bytes of it: the buffer offered for the rest
    is one chunk, not the claim (the old decoder asked for a 1 TiB bytearray: MemoryError)."""
    conn = established()
    assert conn.receive_data(long_header(0, 2**40) + b"x" * 100) == []
    assert conn.large_pending
    target = conn.receive_buffer()
    assert target is not None and len(target) == 256 * 1024 - 100


def test_a_frame_claiming_64_mib_costs_no_64_mib():
    conn = established()
    conn.receive_data(long_header(0, 64 * MiB) + b"x" * 100)
    peak = peak_while(conn.receive_buffer)
    assert peak < 1 * MiB  # (The old decoder: 64 MiB, zero-filled.)


def test_large_frame_buffers_grow_with_the_bytes_received():
    """A 3 MiB frame read as the transport reads it: at every step the decoder holds at most
    twice what arrived plus one 256 KiB chunk; the frame comes out whole."""
    size = 3 * MiB + 7
    body = bytes(range(256)) * (size // 256) + b"t" * (size % 256)
    data = long_header(0, size) + body
    conn = established()
    decoder = conn._decoder
    events = conn.receive_data(data[:4000])
    received = 4000
    worst = 0
    while received < len(data):
        target = conn.receive_buffer()
        assert target is not None
        take = min(len(target), 100_000, len(data) - received)
        target[:take] = data[received : received + take]
        events += conn.received_into(take)
        received += take
        held = sum(map(len, decoder._chunks))
        worst = max(worst, held - 2 * received)
        assert held <= 2 * received + 256 * 1024
    assert events == [body]
    assert worst < 256 * 1024


@pytest.mark.parametrize("size", [65_527, 65_536, 256 * 1024, 256 * 1024 + 1, MiB, 2 * MiB + 3])
@pytest.mark.parametrize("read", [1000, 65_536, 300_000])
def test_large_frames_come_out_whole_however_read(size, read):
    body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    data = wire([body], [b"head", body], [b"tail"])
    conn = established()
    # Twice: the second frames reuse the first ones' spare chunks.
    assert (
        read_like_the_transport(conn, data + data, read)
        == [
            body,
            [b"head", body],
            b"tail",
        ]
        * 2
    )
    assert not conn.large_pending and conn.receive_buffer() is None


def test_spare_chunks_kept_are_bounded():
    conn = established()
    body = b"s" * (5 * MiB)
    read_like_the_transport(conn, wire([body]), 256 * 1024)
    assert sum(map(len, conn._decoder._spares)) <= MiB


def test_handshake_frame_over_the_limit_refused_on_its_header():
    """Before the handshake is over a frame is bounded by HANDSHAKE_FRAME_LIMIT, whatever
    MAXMSGSIZE says: the header is enough to refuse it (the old connection waited for, and
    buffered, the claimed bytes)."""
    assert HANDSHAKE_FRAME_LIMIT == 64 * 1024
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError, match="limit"):
        conn.receive_data(greeting() + long_header(COMMAND, 64 * 1024 + 1))
    assert conn.state is State.CLOSED


@pytest.mark.parametrize("claim", [2**20, 2**30, 2**62, 2**64 - 1])
def test_handshake_claims_refused_without_buffering(claim):
    conn = Connection("ROUTER", as_server=True)
    with pytest.raises(ProtocolError):
        conn.receive_data(greeting() + long_header(COMMAND, claim) + b"y" * 1000)


def test_handshake_frame_at_the_limit_accepted():
    # READY's body: its own, then a property of 1 + 8 + 4 bytes and the filler.
    filler = HANDSHAKE_FRAME_LIMIT - (len(ready()) - 2) - (1 + len("X-Filler") + 4)
    big_ready = ready(**{"X-Filler": b"f" * filler})
    assert len(big_ready) == 9 + HANDSHAKE_FRAME_LIMIT
    conn = Connection("DEALER")
    events = conn.receive_data(greeting() + big_ready)
    assert isinstance(events[-1], HandshakeComplete)
    assert events[-1].properties["X-Filler"] == b"f" * filler


def test_handshake_limit_ignores_max_message_size():
    """(libzmq applies MAXMSGSIZE to handshake commands too, so that a socket with a tiny
    MAXMSGSIZE never connects; here the handshake has its own bound.)"""
    conn = Connection("DEALER", max_message_size=5)
    events = conn.receive_data(greeting() + ready())
    assert isinstance(events[-1], HandshakeComplete)


def test_large_message_right_after_the_handshake_is_traffic():
    """The frames that follow the handshake's last command in the same bytes are the traffic
    phase's: bounded by MAXMSGSIZE only, large bodies offered a buffer of their own."""
    body = b"B" * 300_000
    conn = Connection("DEALER")
    events = conn.receive_data(greeting() + ready() + wire([body])[:100_000])
    assert isinstance(events[0], HandshakeComplete) and len(events) == 1
    assert conn.large_pending and conn.receive_buffer() is not None
    rest = wire([body])[100_000:]
    target = conn.receive_buffer()
    assert target is not None
    pos = 0
    events = []
    while pos < len(rest):
        target = conn.receive_buffer()
        assert target is not None
        take = min(len(target), len(rest) - pos)
        target[:take] = rest[pos : pos + take]
        events += conn.received_into(take)
        pos += take
    assert events == [body]


def test_partial_frame_left_when_zap_completes_the_handshake():
    """The server waits for the application with a partial frame buffered: once accepted, the
    traffic phase picks it up."""
    from purezmq.protocol.mechanisms import NullMechanism

    server = Connection(
        "ROUTER", as_server=True, mechanism=functools.partial(NullMechanism, zap=True)
    )
    message = wire([b"early"])
    events = server.receive_data(greeting() + ready("DEALER") + message[:3])
    assert any(isinstance(event, AuthRequest) for event in events)
    events = server.authentication_result(b"200")
    assert isinstance(events[-1], HandshakeComplete)
    assert server.receive_data(message[3:]) == [b"early"]


# -- 2. MAXMSGSIZE bounds command frames ---------------------------------------------------------


def test_max_message_size_covers_command_frames():
    conn = established(max_message_size=100)
    assert conn.receive_data(encode_command(cmd.SUBSCRIBE, b"t" * 50)) == [
        SubscriptionChange(b"t" * 50, True)
    ]
    with pytest.raises(ProtocolError, match="MAXMSGSIZE"):
        conn.receive_data(encode_command(cmd.SUBSCRIBE, b"t" * 200))
    assert conn.state is State.CLOSED


def test_max_message_size_refuses_a_command_on_its_header():
    conn = established(max_message_size=1000)
    with pytest.raises(ProtocolError, match="MAXMSGSIZE"):
        conn.receive_data(long_header(COMMAND, 10**9))


def test_max_message_size_covers_a_large_command_read_into_its_buffer():
    conn = established(max_message_size=100_000)
    with pytest.raises(ProtocolError, match="MAXMSGSIZE"):
        conn.receive_data(long_header(COMMAND, 200_000) + b"\x04PING")


def test_max_message_size_covers_frame_decoder_feed():
    with pytest.raises(ProtocolError, match="MAXMSGSIZE"):
        FrameDecoder(10).feed(encode_command(b"PING", b"\x00\x00" + b"c" * 16))


def test_max_message_size_bounds_frames_not_whole_messages_as_libzmq():
    """libzmq checks MAXMSGSIZE per frame (a PULL with MAXMSGSIZE 1000 takes three frames of
    600 bytes from a pyzmq PUSH): so does purezmq."""
    conn = established(max_message_size=1000)
    parts = [b"p" * 600] * 3
    assert conn.receive_data(wire(parts)) == [parts]
    with pytest.raises(ProtocolError):
        conn.receive_data(wire([b"q" * 1001]))


# -- 3. what came before the fault goes with the error -------------------------------------------


def test_error_carries_the_messages_decoded_before_it():
    conn = established()
    with pytest.raises(ProtocolError) as caught:
        conn.receive_data(wire([b"one"], [b"a", b"b"]) + b"\xff\x00")
    assert caught.value.events == [b"one", [b"a", b"b"]]
    assert conn.state is State.CLOSED


def test_error_carries_commands_handled_before_it():
    conn = established()
    data = encode_command(cmd.SUBSCRIBE, b"news") + wire([b"m"]) + bytes((COMMAND | MORE, 0))
    with pytest.raises(ProtocolError) as caught:
        conn.receive_data(data)
    assert caught.value.events == [SubscriptionChange(b"news", True), b"m"]


def test_error_in_a_read_that_continues_a_frame():
    conn = established()
    data = wire([b"x" * 300], [b"y"])
    conn.receive_data(data[:100])
    with pytest.raises(ProtocolError) as caught:
        conn.receive_data(data[100:] + b"\x80\x00")
    assert caught.value.events == [b"x" * 300, b"y"]


def test_error_after_a_large_frame_completed_in_the_same_read():
    big = b"L" * 100_000
    conn = established()
    data = wire([big], [b"s"])
    conn.receive_data(data[:10])
    with pytest.raises(ProtocolError) as caught:
        conn.receive_data(data[10:] + b"\x08\x00")
    assert caught.value.events == [big, b"s"]


def test_error_during_the_handshake_carries_the_handshake_and_messages():
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError) as caught:
        conn.receive_data(greeting() + ready() + wire([b"first"]) + b"\xf0\x00")
    events = caught.value.events
    assert isinstance(events[0], HandshakeComplete) and events[1:] == [b"first"]


def test_malformed_command_before_garbage_is_the_error():
    conn = established()
    data = wire([b"ok"]) + encode_command(cmd.PING, b"") + b"\xff\xff"
    with pytest.raises(ProtocolError, match="PING") as caught:
        conn.receive_data(data)
    assert caught.value.events == [b"ok"]


@pytest.mark.parametrize(
    "data",
    [b"\x00", b"\xff" + b"\x00" * 8 + b"\x00", greeting(b"PLAIN"), greeting() + b"\x01\x01x"],
)
def test_every_protocol_error_carries_events(data):
    conn = Connection("DEALER")
    with pytest.raises(ProtocolError) as caught:
        conn.receive_data(data)
    assert caught.value.events == []
    with pytest.raises(ProtocolError) as again:
        conn.receive_data(b"more")
    assert again.value.events == []


# -- CURVE ---------------------------------------------------------------------------------------


@pytest.fixture
def curve_pair():
    sodium = pytest.importorskip("nacl.bindings")
    from purezmq.protocol.mechanisms.curve import CurveClient, CurveServer

    server_public, server_secret = sodium.crypto_box_keypair()
    client_public, client_secret = sodium.crypto_box_keypair()
    client = Connection(
        "DEALER",
        mechanism=functools.partial(
            CurveClient,
            public_key=client_public,
            secret_key=client_secret,
            server_key=server_public,
        ),
    )
    server = Connection(
        "ROUTER",
        as_server=True,
        mechanism=functools.partial(CurveServer, secret_key=server_secret),
    )
    for _ in range(6):
        out = b"".join(client.data_to_send())
        for event in server.receive_data(out) if out else []:
            if isinstance(event, AuthRequest):
                server.authentication_result(b"200")
        out = b"".join(server.data_to_send())
        if out:
            client.receive_data(out)
    assert client.state is State.TRAFFIC and server.state is State.TRAFFIC
    return client, server


def test_curve_error_carries_the_messages_opened_before_a_tampered_box(curve_pair):
    client, server = curve_pair
    client.send_messages([b"one", [b"two", b"parts"]])
    good = b"".join(client.data_to_send())
    client.send_messages([b"three"])
    bad = bytearray(b"".join(client.data_to_send()))
    bad[-1] ^= 1
    with pytest.raises(ProtocolError, match="authentication") as caught:
        server.receive_data(good + bytes(bad))
    assert caught.value.events == [b"one", [b"two", b"parts"]]


def test_curve_error_carries_the_messages_before_a_bad_frame(curve_pair):
    client, server = curve_pair
    client.send_messages([b"one", b"two"])
    with pytest.raises(ProtocolError, match="flags") as caught:
        server.receive_data(b"".join(client.data_to_send()) + b"\xff\x00")
    assert caught.value.events == [b"one", b"two"]


def test_curve_handshake_end_and_messages_in_one_read(curve_pair):
    sodium = pytest.importorskip("nacl.bindings")
    from purezmq.protocol.mechanisms.curve import CurveClient, CurveServer

    server_public, server_secret = sodium.crypto_box_keypair()
    client_public, client_secret = sodium.crypto_box_keypair()
    client = Connection(
        "DEALER",
        mechanism=functools.partial(
            CurveClient,
            public_key=client_public,
            secret_key=client_secret,
            server_key=server_public,
        ),
    )
    server = Connection(
        "ROUTER", as_server=True, mechanism=functools.partial(CurveServer, secret_key=server_secret)
    )
    server.receive_data(b"".join(client.data_to_send()))  # greeting
    client.receive_data(b"".join(server.data_to_send()))  # greeting
    server.receive_data(b"".join(client.data_to_send()))  # HELLO
    client.receive_data(b"".join(server.data_to_send()))  # WELCOME
    (request,) = server.receive_data(b"".join(client.data_to_send()))  # INITIATE
    assert isinstance(request, AuthRequest)
    server.authentication_result(b"200")
    server.send_messages([b"m1", [b"m", b"2"]])
    events = client.receive_data(b"".join(server.data_to_send()))  # READY + messages
    assert isinstance(events[0], HandshakeComplete) and events[1:] == [b"m1", [b"m", b"2"]]


def test_ping_over_curve_is_boxed(curve_pair):
    """A PING in the traffic phase goes in a box like any command (it went in plain text, and
    the CURVE peer dropped the connection)."""
    client, server = curve_pair
    client.send_ping(10, b"hb")
    assert server.receive_data(b"".join(client.data_to_send())) == [PeerTtl(1000)]
    assert client.receive_data(b"".join(server.data_to_send())) == [Pong(b"hb")]

"""ZMTP 2.0 in the sans-IO connection: the version read from the eleventh byte, the 2.0
greeting both ways, then frames without commands."""

from __future__ import annotations

import pytest

from purezmq.protocol import Connection, HandshakeComplete, ProtocolError
from purezmq.protocol.greeting import SIGNATURE
from purezmq.protocol.mechanisms import PlainServer


def v2_greeting(socket_type: int, identity: bytes = b"") -> bytes:
    return SIGNATURE + b"\x01" + bytes((socket_type, 0, len(identity))) + identity


def test_the_greeting_waits_for_the_peer_version() -> None:
    conn = Connection("PULL")
    assert b"".join(conn.data_to_send()) == SIGNATURE + b"\x03"  # No more until theirs.
    assert conn.receive_data(SIGNATURE) == []
    assert conn.data_to_send() == []


def test_a_2_0_peer_gets_a_2_0_greeting() -> None:
    conn = Connection("ROUTER", identity=b"me")
    conn.data_to_send()
    events = conn.receive_data(v2_greeting(5, b"dealer-1") + b"\x00\x05hello")
    assert events == [
        HandshakeComplete({"Socket-Type": b"DEALER", "Identity": b"dealer-1"}, 0),
        b"hello",
    ]
    assert b"".join(conn.data_to_send()) == bytes((6, 0, 2)) + b"me"
    assert conn.zmtp2 and conn.peer_minor_version == 0
    conn.send_subscription(b"t", True)  # (Not for a ROUTER, but the form is the 3.0 one.)
    assert b"".join(conn.data_to_send()) == b"\x00\x02\x01t"


def test_byte_by_byte() -> None:
    conn = Connection("PULL")
    data = v2_greeting(8) + b"\x01\x01a\x00\x01b"
    events: list = []
    for i in range(len(data)):
        events += conn.receive_data(data[i : i + 1])
    assert events[0].properties["Socket-Type"] == b"PUSH"
    assert events[1:] == [[b"a", b"b"]]


@pytest.mark.parametrize(
    ("rest", "match"),
    [
        (bytes((3, 0, 0)), "cannot talk"),  # A REQ for a PULL.
        (bytes((42, 0, 0)), "unknown ZMTP 2.0 socket type"),
        (bytes((8, 0x02, 0)), "identity frame flags"),
    ],
)
def test_bad_2_0_greetings(rest: bytes, match: str) -> None:
    conn = Connection("PULL")
    with pytest.raises(ProtocolError, match=match):
        conn.receive_data(SIGNATURE + b"\x01" + rest)


def test_security_refuses_a_2_0_peer() -> None:
    conn = Connection("PULL", as_server=True, mechanism=PlainServer)
    with pytest.raises(ProtocolError, match="no security"):
        conn.receive_data(v2_greeting(8))
    assert b"".join(conn.data_to_send()) == SIGNATURE + b"\x03"  # Nothing of a 2.0 greeting.

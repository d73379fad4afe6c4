"""engine/monitor.py: the wire formats of monitor events, and which event a failed handshake is
reported as (libzmq's choices, observed through pyzmq; see tests/interop/test_monitor.py)."""

from __future__ import annotations

import errno
import struct
from typing import Any

import pytest

from purezmq.constants import Event
from purezmq.engine.monitor import Monitor, handshake_failure
from purezmq.error import Again
from purezmq.protocol.errors import ProtocolError
from purezmq.protocol.mechanisms import HandshakeRefused


class Internal:
    """What a monitor writes to: records messages, or refuses them (a full queue)."""

    def __init__(self, full: bool = False) -> None:
        self.sent: list[list[bytes]] = []
        self.full = full
        self.closed = False

    def send_message(self, message: Any, flags: int) -> None:
        assert flags == 1  # Never blocking.
        if self.full:
            raise Again()
        self.sent.append(message)

    def close(self, linger_ms: int | None = None) -> None:
        self.closed = True


def test_version_1_is_libzmqs_two_frames() -> None:
    internal = Internal()
    monitor = Monitor(internal, int(Event.ALL), 1)
    monitor.emit(int(Event.CONNECT_RETRIED), 400, "tcp://127.0.0.1:5555", "", "ignored")
    monitor.emit(int(Event.CLOSED), -1, "ipc://x")
    assert internal.sent == [
        [struct.pack("=HI", 4, 400), b"tcp://127.0.0.1:5555"],
        [struct.pack("=HI", 128, 0xFFFFFFFF), b"ipc://x"],
    ]


def test_version_2_has_the_value_count_and_both_ends() -> None:
    internal = Internal()
    monitor = Monitor(internal, int(Event.ALL_V2), 2)
    monitor.emit(int(Event.ACCEPTED), 7, "tcp://a:1", "tcp://a:1", "tcp://b:2")
    assert internal.sent == [
        [
            struct.pack("=Q", 32),
            struct.pack("=Q", 1),
            struct.pack("=Q", 7),
            b"tcp://a:1",
            b"tcp://b:2",
        ]
    ]


def test_the_mask_and_stopping() -> None:
    internal = Internal()
    monitor = Monitor(internal, int(Event.LISTENING | Event.MONITOR_STOPPED), 1)
    monitor.emit(int(Event.CLOSED), 3, "tcp://x:1")
    monitor.emit(int(Event.LISTENING), 3, "tcp://x:1")
    monitor.stop()
    monitor.stop()
    monitor.emit(int(Event.LISTENING), 3, "tcp://x:1")  # After the stop: nothing.
    assert [struct.unpack("=HI", m[0])[0] for m in internal.sent] == [8, 1024]
    assert internal.closed


def test_an_event_that_does_not_fit_is_dropped() -> None:
    internal = Internal(full=True)
    monitor = Monitor(internal, int(Event.ALL), 1)
    monitor.emit(int(Event.LISTENING), 3, "tcp://x:1")
    assert monitor.dropped == 1 and internal.sent == []


PROTOCOL = int(Event.HANDSHAKE_FAILED_PROTOCOL)
AUTH = int(Event.HANDSHAKE_FAILED_AUTH)
NO_DETAIL = int(Event.HANDSHAKE_FAILED_NO_DETAIL)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            ProtocolError("peer uses the PLAIN mechanism, this socket NULL"),
            (PROTOCOL, Event.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH),
        ),
        (
            ProtocolError("unexpected b'JUNK' command in NULL handshake"),
            (PROTOCOL, Event.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
        ),
        (
            ProtocolError("message frame received before the handshake completed"),
            (PROTOCOL, Event.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
        ),
        (
            ProtocolError("malformed PLAIN HELLO"),
            (PROTOCOL, Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            ProtocolError("CURVE: a box failed to open (wrong key or tampering)"),
            (PROTOCOL, Event.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC),
        ),
        (ProtocolError("a PUSH socket cannot talk to a PUSH peer"), None),
        (ProtocolError("truncated metadata value"), None),
        (ProtocolError("not a ZMTP greeting (first byte 0x47)"), (NO_DETAIL, errno.EPROTO)),
        (ProtocolError("something new"), (PROTOCOL, Event.PROTOCOL_ERROR_ZMTP_UNSPECIFIED)),
    ],
)
def test_protocol_errors(exc: Exception, expected: Any) -> None:
    if expected is not None:
        expected = (expected[0], int(expected[1]))
    assert handshake_failure(exc, False, False) == expected


def test_refusals() -> None:
    # The peer's ERROR: a ZAP status code (libzmq's exact "300"/"400"/"500"), or nothing.
    refused = HandshakeRefused("peer refused the handshake: 400", tell_peer=False)
    assert handshake_failure(refused, True, False) == (AUTH, 400)
    refused = HandshakeRefused("peer refused the handshake: 400 Invalid password", False)
    assert handshake_failure(refused, True, False) == (AUTH, 400)
    refused = HandshakeRefused("peer refused the handshake: Invalid socket type", False)
    assert handshake_failure(refused, True, False) is None
    # Our ZAP handler's refusal, and no handler at all.
    assert handshake_failure(HandshakeRefused("300 later", True), True, True) == (AUTH, 300)
    nobody = HandshakeRefused("no ZAP handler to authenticate the peer", False)
    assert handshake_failure(nobody, True, False) == (NO_DETAIL, errno.EFAULT)


def test_a_protocol_error_may_say_its_code() -> None:
    exc = ProtocolError("anything")
    exc.protocol_error = int(Event.PROTOCOL_ERROR_ZMTP_INVALID_METADATA)  # type: ignore[attr-defined]
    assert handshake_failure(exc, False, False) == (
        PROTOCOL,
        int(Event.PROTOCOL_ERROR_ZMTP_INVALID_METADATA),
    )
    exc.protocol_error = None  # type: ignore[attr-defined]
    assert handshake_failure(exc, False, False) is None

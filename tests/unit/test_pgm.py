"""protocol/pgm.py, sans-IO: PGM packets as libzmq's OpenPGM writes them (a recorded SPM and
ODATA), the message stream in TSDUs, and what a receiver does with losses, late joins, other
senders and garbage. The wire against libzmq: tests/interop/test_pgm.py."""

from __future__ import annotations

import random
import struct

import pytest

from purezmq.protocol import pgm
from purezmq.protocol.errors import ProtocolError

#: An SPM and the start of an ODATA libzmq 4.3.4 (OpenPGM 5.3.128) sent to 239.192.1.1:7500 from
#: 10.9.0.1, after "hello", ["topic", "body"] and 3000 bytes of "x".
LIBZMQ_SPM = bytes.fromhex(
    "5cad1d4c0000eee8b7c6d1bc038a0000000000030000000000000002000100000a090001"
)
LIBZMQ_ODATA_START = bytes.fromhex(
    "0000060068656c6c6f0601746f7069630500626f6479ff0000000000000bb900"
)


def data_packet(
    sequence: int,
    tsdu: bytes,
    source_port: int = 1000,
    gsi: bytes = b"sender",
    kind: int = pgm.ODATA,
    trail: int = 0,
) -> bytes:
    return pgm.encode(pgm.Packet(source_port, 7500, kind, gsi, sequence, trail, tsdu))


SENDER_NLA = bytes((10, 9, 0, 1))
GROUP = bytes((239, 192, 1, 1))


def spm(sequence: int = 0, gsi: bytes = b"sender", source_port: int = 1000) -> bytes:
    return pgm.encode(pgm.Packet(source_port, 7500, pgm.SPM, gsi, sequence, 0), 0, SENDER_NLA)


def stream(messages: list[list[bytes]], max_tsdu: int = 100) -> list[bytes]:
    encoder = pgm.StreamEncoder(max_tsdu)
    for message in messages:
        encoder.add(message)
    return list(encoder.tsdus())


def test_an_spm_is_libzmqs_to_the_byte():
    ours = pgm.encode(
        pgm.Packet(0x5CAD, 7500, pgm.SPM, bytes.fromhex("b7c6d1bc038a"), 3, 0),
        lead=2,
        nla=bytes((10, 9, 0, 1)),
    )
    assert ours == LIBZMQ_SPM
    decoded = pgm.decode(LIBZMQ_SPM)
    assert (decoded.kind, decoded.dest_port, decoded.source_port) == (pgm.SPM, 7500, 0x5CAD)


def test_the_stream_is_libzmqs_to_the_byte():
    tsdu = stream([[b"hello"], [b"topic", b"body"], [b"x" * 3000]], max_tsdu=1428)[0]
    assert tsdu.startswith(LIBZMQ_ODATA_START)
    assert len(tsdu) == 1428


def test_messages_cross_tsdus_and_come_back_whole():
    rng = random.Random(7)
    messages = [
        [
            rng.randbytes(rng.choice([0, 1, 50, 253, 254, 255, 400, 3000]))
            for _ in range(rng.randint(1, 3))
        ]
        for _ in range(60)
    ]
    decoder = pgm.StreamDecoder(7500)
    got = []
    for sequence, tsdu in enumerate(stream(messages, max_tsdu=97)):
        got += decoder.receive(data_packet(sequence, tsdu))
    assert got == messages
    assert decoder.losses == 0


def test_a_late_receiver_starts_at_the_next_message():
    tsdus = stream([[b"a" * 150], [b"b" * 10], [b"c" * 10]], max_tsdu=100)
    decoder = pgm.StreamDecoder(7500)
    got = []
    for sequence, tsdu in list(enumerate(tsdus))[1:]:  # (It missed the first packet.)
        got += decoder.receive(data_packet(sequence, tsdu))
    assert got == [[b"b" * 10], [b"c" * 10]]


def test_an_unrepaired_loss_drops_the_message_in_progress_only():
    """No SPM gave the sender's address: the gap cannot be NAKed, and is given up."""
    tsdus = stream([[b"a" * 10], [b"b" * 250], [b"c" * 10], [b"d" * 10]], max_tsdu=100)
    decoder = pgm.StreamDecoder(7500)
    got = []
    for sequence, tsdu in enumerate(tsdus):
        if sequence != 1:  # Lost: the middle of b.
            got += decoder.receive(data_packet(sequence, tsdu), now=0.0)
    assert [m[0][:1] for m in got] == [b"a"]  # (c and d wait behind the gap.)
    assert decoder.waiting
    naks, released = decoder.naks_due(now=1.0)
    assert naks == []
    assert [m[0][:1] for m in released] == [b"c", b"d"]
    assert decoder.losses == 1 and not decoder.waiting


def test_a_gap_is_naked_then_repaired_by_rdata():
    messages = [[b"a" * 10], [b"b" * 250], [b"c" * 10]]
    tsdus = stream(messages, max_tsdu=100)
    decoder = pgm.StreamDecoder(7500, group=GROUP)
    decoder.receive(spm())
    got = []
    for sequence, tsdu in enumerate(tsdus):
        if sequence != 1:
            got += decoder.receive(data_packet(sequence, tsdu), now=0.0)
    assert decoder.naks_due(now=0.0) == ([], [])  # (The back-off first.)
    naks, _ = decoder.naks_due(now=pgm.NAK_BACKOFF)
    assert [nak.nla for nak in naks] == [SENDER_NLA]
    nak = naks[0]
    assert (nak.kind, nak.sequence, nak.nla, nak.group) == (pgm.NAK, 1, SENDER_NLA, GROUP)
    assert (nak.source_port, nak.dest_port, nak.gsi) == (7500, 1000, b"sender")
    assert pgm.decode(pgm.encode(nak)) == nak
    got += decoder.receive(data_packet(1, tsdus[1], kind=pgm.RDATA))
    assert got == messages
    assert decoder.losses == 0 and not decoder.waiting


def test_naks_are_repeated_then_the_gap_given_up():
    tsdus = stream([[b"a" * 10], [b"b" * 10], [b"c" * 10]], max_tsdu=14)
    decoder = pgm.StreamDecoder(7500, group=GROUP)
    decoder.receive(spm())
    decoder.receive(data_packet(0, tsdus[0]))
    decoder.receive(data_packet(2, tsdus[2]))
    now, sent, released = 0.0, 0, []
    while decoder.waiting and now < 10:
        now += 0.05
        naks, released = decoder.naks_due(now)
        sent += len(naks)
    assert sent == pgm.NAK_ATTEMPTS
    assert released == [[b"c" * 10]]


def test_a_trailing_edge_past_the_gap_gives_it_up_at_once():
    tsdus = stream([[b"a" * 10], [b"b" * 10], [b"c" * 10]], max_tsdu=14)
    decoder = pgm.StreamDecoder(7500, group=GROUP)
    decoder.receive(spm())
    assert decoder.receive(data_packet(0, tsdus[0])) == [[b"a" * 10]]
    # The sender kept nothing before 2: 1 cannot be asked for.
    assert decoder.receive(data_packet(2, tsdus[2], trail=2)) == [[b"c" * 10]]
    assert not decoder.waiting and decoder.losses == 1


def test_the_transmit_window_keeps_recovery_ivl():
    window = pgm.TransmitWindow(recovery_ivl=1.0, limit=3)
    for sequence in range(3):
        window.keep(sequence, b"%d" % sequence, now=float(sequence) * 0.4)
    assert window.repair(0) == b"0" and window.trail == 0
    window.keep(3, b"3", now=1.2)  # 0 is older than 1 s now.
    assert window.repair(0) is None and window.trail == 1
    window.keep(4, b"4", now=1.3)  # Over the limit of 3 packets.
    assert window.repair(1) is None and window.repair(4) == b"4" and window.trail == 2


def test_duplicates_and_repairs_of_what_arrived_are_ignored():
    tsdus = stream([[b"one"], [b"two"]], max_tsdu=8)
    decoder = pgm.StreamDecoder(7500)
    got = []
    for sequence, tsdu in [(0, tsdus[0]), (0, tsdus[0]), (1, tsdus[1]), (0, tsdus[0])]:
        got += decoder.receive(data_packet(sequence, tsdu))
    assert got == [[b"one"], [b"two"]]


def test_senders_are_kept_apart():
    first = stream([[b"x" * 150]], max_tsdu=100)
    second = stream([[b"y" * 150]], max_tsdu=100)
    decoder = pgm.StreamDecoder(7500)
    got = []
    got += decoder.receive(data_packet(0, first[0], gsi=b"first!"))
    got += decoder.receive(data_packet(0, second[0], gsi=b"second"))
    got += decoder.receive(data_packet(1, first[1], gsi=b"first!"))
    got += decoder.receive(data_packet(1, second[1], gsi=b"second"))
    assert got == [[b"x" * 150], [b"y" * 150]]


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"\x00" * 10,
        data_packet(0, b"\x00\x00\x02\x00a")[:-1],  # Shorter than its TSDU length.
        data_packet(0, b"\x00\x00\x02\x00a")[:7]
        + b"\x00"
        + data_packet(0, b"\x00\x00\x02\x00a")[8:],
        b"\xff" * 100,
    ],
)
def test_garbage_is_dropped(datagram):
    decoder = pgm.StreamDecoder(7500)
    assert decoder.receive(datagram) == []
    # The next good packet still gets through.
    assert decoder.receive(data_packet(5, stream([[b"fine"]])[0])) == [[b"fine"]]


def test_a_bad_checksum_is_refused():
    packet = bytearray(data_packet(0, b"\x00\x00\x05\x00good"))
    packet[-1] ^= 1
    with pytest.raises(ProtocolError, match="checksum"):
        pgm.decode(bytes(packet))


def test_other_ports_and_kinds_are_not_ours():
    decoder = pgm.StreamDecoder(7501)
    assert decoder.receive(data_packet(0, stream([[b"x"]])[0])) == []
    assert decoder.receive(LIBZMQ_SPM) == []


def test_a_frame_over_maxmsgsize_is_a_loss():
    decoder = pgm.StreamDecoder(7500, max_message_size=10)
    tsdus = stream([[b"k" * 11], [b"ok"]], max_tsdu=200)
    assert decoder.receive(data_packet(0, tsdus[0])) == []
    assert decoder.losses == 1
    assert decoder.receive(data_packet(1, stream([[b"next"]])[0])) == [[b"next"]]


def test_a_zero_length_byte_is_a_loss():
    decoder = pgm.StreamDecoder(7500)
    assert decoder.receive(data_packet(0, struct.pack(">H", 0) + b"\x00\x00")) == []
    assert decoder.losses == 1

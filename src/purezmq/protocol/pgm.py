"""PGM (RFC 3208) as libzmq speaks it over OpenPGM, sans-IO: packets, and the message stream
that PUB sends its subscribers in them.

A packet starts with the PGM header (source and destination ports, type, options, checksum,
the sender's 6-byte GSI, the TSDU length). libzmq sends ODATA packets (a data sequence number,
the trailing edge of what the sender can repair, then the TSDU) and SPMs (the sender's address,
for receivers' NAKs). Each TSDU is a 2-byte offset of the first message that starts in it
(0xffff: none does), then a run of ZMTP 1.0 frames (length+1, flags, body) that continues from
one TSDU to the next. A receiver that joins late starts at the next TSDU where a message starts.

Repair, as OpenPGM does it: a receiver that sees a gap holds what came after it and sends the
sender a NAK for each missing packet (unicast, to the address the sender's SPMs give); the
sender, which keeps what it sent for RECOVERY_IVL, multicasts an NCF and the packet again as
RDATA. A packet not repaired in time is given up: the receiver starts again at the next message
(``TransmitWindow`` is the sender's half, ``StreamDecoder`` the receiver's).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import ProtocolError

SPM = 0x00
ODATA = 0x04
RDATA = 0x05
NAK = 0x08
NCF = 0x0A

_HEADER = struct.Struct(">HHBBH6sH")
_DATA = struct.Struct(">II")
_SPM_BODY = struct.Struct(">IIIHH4s")
_NAK_BODY = struct.Struct(">IHH4sHH4s")
HEADER_SIZE = _HEADER.size + _DATA.size  # (Of a data packet, before its TSDU.)
#: No message starts in this TSDU.
NO_START = 0xFFFF
#: What libzmq (OpenPGM) keeps of MULTICAST_MAXTPDU for headers: IP, UDP (epgm), PGM, ODATA and
#: the options OpenPGM may add.
EPGM_OVERHEAD = 20 + 8 + 16 + 8 + 20
PGM_OVERHEAD = EPGM_OVERHEAD - 8


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) PGM uses, over the packet with its checksum zeroed."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    result = ~total & 0xFFFF
    return result or 0xFFFF  # (0 means "no checksum".)


@dataclass(frozen=True)
class Packet:
    source_port: int
    dest_port: int
    kind: int
    gsi: bytes
    sequence: int = 0
    trail: int = 0
    tsdu: bytes = b""
    #: An SPM's sender address; a NAK's or NCF's (source address, group address).
    nla: bytes = b""
    group: bytes = b""

    @property
    def tsi(self) -> tuple[bytes, int]:
        """The transport session: which sender's stream this packet is part of."""
        return self.gsi, self.source_port


def encode(packet: Packet, lead: int = 0, nla: bytes = b"\x00" * 4) -> bytes:
    """A packet's bytes; an SPM carries ``lead`` and the sender's IPv4 address ``nla``, a NAK or
    NCF its ``nla`` (the sender's) and ``group``."""
    if packet.kind == SPM:
        body = _SPM_BODY.pack(packet.sequence, packet.trail, lead, 1, 0, nla)
        tsdu_length = 0
    elif packet.kind in (NAK, NCF):
        body = _NAK_BODY.pack(packet.sequence, 1, 0, packet.nla, 1, 0, packet.group)
        tsdu_length = 0
    else:
        body = _DATA.pack(packet.sequence, packet.trail) + packet.tsdu
        tsdu_length = len(packet.tsdu)
    header = _HEADER.pack(
        packet.source_port, packet.dest_port, packet.kind, 0, 0, packet.gsi, tsdu_length
    )
    total = checksum(header + body)
    return header[:6] + struct.pack(">H", total) + header[8:] + body


def decode(data: bytes) -> Packet:
    """ProtocolError for a packet that is short, has a bad checksum or an inconsistent length."""
    if len(data) < _HEADER.size:
        raise ProtocolError("PGM packet shorter than its header")
    source, dest, kind, options, total, gsi, tsdu_length = _HEADER.unpack_from(data)
    if total and checksum(data[:6] + b"\x00\x00" + data[8:]) != total:
        raise ProtocolError("PGM checksum mismatch")
    if kind == SPM and len(data) >= _HEADER.size + _SPM_BODY.size:
        sequence, trail, _, afi, _, nla = _SPM_BODY.unpack_from(data, _HEADER.size)
        return Packet(source, dest, kind, gsi, sequence, trail, nla=nla if afi == 1 else b"")
    if kind in (NAK, NCF):
        if len(data) < _HEADER.size + _NAK_BODY.size:
            raise ProtocolError("PGM NAK shorter than its body")
        sequence, _, _, nla, _, _, group = _NAK_BODY.unpack_from(data, _HEADER.size)
        return Packet(source, dest, kind, gsi, sequence, nla=nla, group=group)
    if kind not in (ODATA, RDATA):
        return Packet(source, dest, kind, gsi)
    if len(data) < HEADER_SIZE:
        raise ProtocolError("PGM data packet shorter than its header")
    sequence, trail = _DATA.unpack_from(data, _HEADER.size)
    start = HEADER_SIZE
    if options & 0x01:  # OPT_PRESENT: skip the option extensions (OPT_LENGTH gives their size).
        if len(data) < start + 4:
            raise ProtocolError("PGM options truncated")
        start += struct.unpack_from(">H", data, start + 2)[0]
    tsdu = data[start:]
    if len(tsdu) != tsdu_length:
        raise ProtocolError("PGM TSDU length mismatch")
    return Packet(source, dest, kind, gsi, sequence, trail, tsdu)


# -- the message stream -------------------------------------------------------------------------


def _frame(body: bytes, more: bool) -> bytes:
    size = len(body) + 1
    flags = b"\x01" if more else b"\x00"
    if size < 255:
        return bytes((size,)) + flags + body
    return b"\xff" + struct.pack(">Q", size) + flags + body


class StreamEncoder:
    """A sender's side: messages in, TSDUs (each at most ``max_tsdu`` bytes) out."""

    def __init__(self, max_tsdu: int) -> None:
        if max_tsdu < 3:
            raise ValueError("a TSDU must hold more than its offset")
        self.room = max_tsdu - 2
        self._pending = bytearray()
        #: Where in ``_pending`` messages start.
        self._starts: list[int] = []

    def add(self, frames: list[bytes]) -> None:
        self._starts.append(len(self._pending))
        last = len(frames) - 1
        for i, body in enumerate(frames):
            self._pending += _frame(body, i < last)

    def tsdus(self) -> Iterator[bytes]:
        """Everything added so far, cut into TSDUs (the last one may be short)."""
        pending, starts = self._pending, self._starts
        position = 0
        while position < len(pending):
            end = min(position + self.room, len(pending))
            while starts and starts[0] < position:
                starts.pop(0)
            first = starts[0] - position if starts and starts[0] < end else NO_START
            yield struct.pack(">H", first) + bytes(pending[position:end])
            position = end
        self._pending = bytearray()
        self._starts = []


class TransmitWindow:
    """A sender's packets kept for repair: those of the last ``recovery_ivl`` seconds
    (RECOVERY_IVL), at most ``limit`` of them. Its trailing edge is the oldest it still has."""

    def __init__(self, recovery_ivl: float, limit: int = 65536) -> None:
        self.recovery_ivl = recovery_ivl
        self.limit = limit
        self._kept: dict[int, tuple[float, bytes]] = {}
        self.trail = 0

    def keep(self, sequence: int, tsdu: bytes, now: float) -> None:
        kept = self._kept
        kept[sequence] = (now, tsdu)
        while kept:
            oldest, (when, _) = next(iter(kept.items()))
            if len(kept) <= self.limit and now - when <= self.recovery_ivl:
                break
            del kept[oldest]
        self.trail = next(iter(kept)) if kept else (sequence + 1) & 0xFFFFFFFF

    def repair(self, sequence: int) -> bytes | None:
        found = self._kept.get(sequence)
        return None if found is None else found[1]


#: A receiver's repair: the first NAK after this (s), then again at each interval, so many
#: times, before the packet is given up (OpenPGM's NAK_BO_IVL, NAK_RPT_IVL, NAK_DATA_RETRIES).
NAK_BACKOFF = 0.02
NAK_REPEAT = 0.2
NAK_ATTEMPTS = 5
#: Packets a receiver holds behind a gap at most; past that it gives the gap up.
HELD_LIMIT = 10000


@dataclass
class _Source:
    expected: int | None = None  # The next sequence number to take.
    joined: bool = False
    buffer: bytearray = field(default_factory=bytearray)
    frames: list[bytes] = field(default_factory=list)
    nla: bytes = b""
    #: Packets after a gap, by sequence number; the gap's packets: (when to NAK next, NAKs sent).
    held: dict[int, bytes] = field(default_factory=dict)
    missing: dict[int, tuple[float, int]] = field(default_factory=dict)


def _after(a: int, b: int) -> bool:
    """Whether sequence number ``a`` comes after ``b`` (32-bit serial arithmetic)."""
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


class StreamDecoder:
    """A receiver's side: packets from any number of senders in, whole messages and NAKs out.
    A sender is joined at its first TSDU where a message starts. A gap is held open for repair
    (``naks_due`` says which NAKs to send, and gives up what waited too long); a packet given
    up drops the message in progress, and the receiver starts again at the next message.
    ``max_message_size`` (-1: none) bounds a frame (MAXMSGSIZE): a larger one is a loss too.
    ``group`` (4 bytes) is the multicast group's address, which NAKs name."""

    def __init__(self, dest_port: int, max_message_size: int = -1, group: bytes = b"") -> None:
        self.dest_port = dest_port
        self.max_message_size = max_message_size
        self.group = group
        self._sources: dict[tuple[bytes, int], _Source] = {}
        #: Packets given up or refused (a gap not repaired, a bad frame): for tests and metrics.
        self.losses = 0

    @property
    def waiting(self) -> bool:
        """Whether a gap waits for repair (``naks_due`` must be called again)."""
        return any(source.missing for source in self._sources.values())

    def receive(self, data: bytes, now: float = 0.0) -> list[list[bytes]]:
        """The messages ``data`` (one datagram's PGM packet) completes; a packet that is not
        for this port, not data, or malformed brings none."""
        try:
            packet = decode(data)
        except ProtocolError:
            self.losses += 1
            return []
        if packet.dest_port != self.dest_port:
            return []
        if packet.kind == SPM:
            if packet.nla:
                self._sources.setdefault(packet.tsi, _Source()).nla = packet.nla
            return []
        if packet.kind not in (ODATA, RDATA):
            return []
        if len(packet.tsdu) < 2:
            self.losses += 1
            return []
        source = self._sources.setdefault(packet.tsi, _Source())
        sequence = packet.sequence
        if source.expected is None:
            source.expected = sequence
        found: list[list[bytes]] = []
        if _after(packet.trail, source.expected) and _after(sequence, source.expected):
            # The sender no longer has what we miss before its trailing edge: given up.
            self._lost(source)
            for lost in [s for s in source.missing if not _after(packet.trail, s)]:
                del source.missing[lost]
            source.expected = packet.trail
            found = self._release(source)
        if sequence == source.expected:
            found += self._take(source, packet.tsdu)
            found += self._release(source)
            return found
        if not _after(sequence, source.expected) or sequence in source.held:
            return found  # Seen already.
        source.held[sequence] = packet.tsdu
        source.missing.pop(sequence, None)
        gap = source.expected
        while _after(sequence, gap):
            if gap not in source.held and gap not in source.missing:
                source.missing[gap] = (now + NAK_BACKOFF, 0)
            gap = (gap + 1) & 0xFFFFFFFF
        if len(source.held) > HELD_LIMIT:
            found += self._give_up(source)
        return found

    def naks_due(self, now: float) -> tuple[list[Packet], list[list[bytes]]]:
        """The NAKs to send now (each to its ``nla``, the sender's address from its SPMs), and
        the messages that giving up what waited too long (or cannot be asked for: no SPM gave
        the sender's address) lets through."""
        naks: list[Packet] = []
        found: list[list[bytes]] = []
        for (gsi, port), source in self._sources.items():
            if not source.missing:
                continue
            expired = False
            for sequence, (when, sent) in list(source.missing.items()):
                if when > now:
                    continue
                if sent >= NAK_ATTEMPTS or not source.nla:
                    expired = True
                    continue
                source.missing[sequence] = (now + NAK_REPEAT, sent + 1)
                nak = Packet(
                    self.dest_port, port, NAK, gsi, sequence, nla=source.nla, group=self.group
                )
                naks.append(nak)
            if expired:
                found += self._give_up(source)
        return naks, found

    def _give_up(self, source: _Source) -> list[list[bytes]]:
        """Skip to the oldest packet held: what was missing before it is lost."""
        self._lost(source)
        source.missing.clear()
        if not source.held:
            return []
        oldest = min(source.held, key=lambda s: (s - source.expected) & 0xFFFFFFFF)  # type: ignore[operator]
        source.expected = oldest
        return self._release(source)

    def _release(self, source: _Source) -> list[list[bytes]]:
        """Take the held packets that now follow in order."""
        found: list[list[bytes]] = []
        while source.expected in source.held:
            found += self._take(source, source.held.pop(source.expected))
        if not source.held:
            source.missing.clear()
        return found

    def _take(self, source: _Source, tsdu: bytes) -> list[list[bytes]]:
        source.expected = ((source.expected or 0) + 1) & 0xFFFFFFFF
        (first,) = struct.unpack_from(">H", tsdu)
        payload = tsdu[2:]
        if not source.joined:
            if first == NO_START or first > len(payload):
                return []
            source.joined = True
            payload = payload[first:]
        source.buffer += payload
        return self._messages(source)

    def _lost(self, source: _Source) -> None:
        self.losses += 1
        source.joined = False
        source.buffer.clear()
        source.frames.clear()

    def _messages(self, source: _Source) -> list[list[bytes]]:
        found: list[list[bytes]] = []
        buffer = source.buffer
        position = 0
        while True:
            if len(buffer) - position < 2:
                break
            size = buffer[position]
            header = 2
            if size == 0xFF:
                if len(buffer) - position < 10:
                    break
                size = struct.unpack_from(">Q", buffer, position + 1)[0]
                header = 10
            if size == 0 or (0 <= self.max_message_size < size - 1):
                self._lost(source)
                return found
            if len(buffer) - position < header + size - 1:
                break
            flags = buffer[position + header - 1]
            start = position + header
            source.frames.append(bytes(buffer[start : start + size - 1]))
            position = start + size - 1
            if not flags & 0x01:
                found.append(source.frames)
                source.frames = []
        del buffer[:position]
        return found


def new_gsi() -> bytes:
    """A sender's Global Source Identifier (OpenPGM derives one from the host name; any six
    bytes that no other sender uses do)."""
    return os.urandom(6)

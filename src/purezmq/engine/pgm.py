"""The pgm:// and epgm:// engine: a PUB's endpoint sends ODATA packets and SPMs, a SUB's reads
the packets of every sender of the group, both in the socket's I/O loop.

As libzmq's, an endpoint is one peer that no subscription travels up: a PUB sends it everything,
a SUB filters what arrives. The sender keeps to RATE (kilobits per second, OpenPGM's ODATA rate
regulation) by holding packets back, and stops reading its pipe meanwhile, so that the socket's
high-water mark holds. It keeps what it sent for RECOVERY_IVL and answers a NAK with an NCF and
the packet again (RDATA); a receiver NAKs what it misses, at the address the sender's SPMs give
(protocol/pgm.py has the timings), and gives it up when no repair comes.
"""

from __future__ import annotations

import errno
import logging
import random
import socket
from collections import deque
from typing import Any

from ..constants import Errno
from ..constants import SocketOption as Opt
from ..protocol import pgm
from ..transport import address as addr
from ..transport.pgm import parse_pgm, receiving_socket, sending_socket, strip_ip_header
from .datagram import BATCH, DatagramEndpoint, opened

log = logging.getLogger("purezmq")

_SENDERS = ("PUB", "XPUB")
_RECEIVERS = ("SUB", "XSUB")
#: SPMs: one soon after data (a heartbeat, for receivers that want to NAK), and one every
#: ambient interval (libzmq's: 30 s).
_HEARTBEAT_SPM = 0.1
_AMBIENT_SPM = 30.0


def check_pgm(socket_type: str, endpoint: str) -> None:
    if socket_type not in _SENDERS + _RECEIVERS:
        raise addr.endpoint_error(int(Errno.ENOCOMPATPROTO), endpoint)


class PgmEndpoint(DatagramEndpoint):
    """A pgm or epgm endpoint of a socket, and the peer it stands for. (bind and connect are
    the same for pgm, as in libzmq: a "connecter" either way.)"""

    def __init__(self, core: Any, endpoint: str, transport: str, address: str) -> None:
        super().__init__(core, endpoint)
        options = core.options
        self.address = parse_pgm(endpoint, transport, address)
        self.sending = core.socket_type_name in _SENDERS
        self.raw = not self.address.encapsulated
        #: The addresses packets name (an SPM's and an NCF's sender, a NAK's and NCF's group).
        self._nla = socket.inet_aton(self.address.interface_ip)
        self._group_nla = socket.inet_aton(self.address.where.host)
        if self.sending:
            self.sock = sending_socket(
                endpoint,
                self.address,
                options.int(Opt.MULTICAST_HOPS),
                bool(options.int(Opt.MULTICAST_LOOP)),
            )
            overhead = pgm.PGM_OVERHEAD if self.raw else pgm.EPGM_OVERHEAD
            max_tsdu = options.int(Opt.MULTICAST_MAXTPDU) - overhead
            if max_tsdu < 3:
                self.sock.close()
                raise addr.endpoint_error(errno.EINVAL, endpoint, "MULTICAST_MAXTPDU too small")
            self.encoder = pgm.StreamEncoder(max_tsdu)
            self.gsi = pgm.new_gsi()
            self.source_port = random.randrange(1024, 65536)
            self.bytes_per_second = options.int(Opt.RATE) * 1000 / 8
            self.window = pgm.TransmitWindow(options.int(Opt.RECOVERY_IVL) / 1000)
        else:
            self.sock = receiving_socket(endpoint, self.address)
            self.decoder = pgm.StreamDecoder(
                self.address.where.port,
                options.int(Opt.MAXMSGSIZE),
                self._group_nla,
            )
        self._make_peer()
        self._sequence = 0
        self._spm_sequence = 0
        self._backlog: deque[bytes] = deque()
        self._budget = 0.0
        self._budget_time = 0.0
        self._resume_timer: Any = None
        self._heartbeat_timer: Any = None
        self._ambient_timer: Any = None
        self._nak_timer: Any = None

    def _started(self) -> None:
        if self.closed:
            return
        if self.sending:
            self._budget_time = self.loop.time()
            self._budget = self.bytes_per_second / 10  # (A small burst to begin with.)
            self._send_spm()
            self._write()
        # (A sender reads the NAKs that come to it.)
        self._start_reading(self._read_naks if self.sending else self._read)

    # -- receiving ------------------------------------------------------------------------------

    def _read(self) -> None:
        inbound, decoder = self.peer.inbound, self.decoder
        for data, _ in self._datagrams(65536):
            if self.raw:
                data = strip_ip_header(data)
            for message in decoder.receive(data, self.loop.time()):
                inbound.write(message)  # Dropped when the pipe is full.
        self._watch_gaps()

    def _watch_gaps(self) -> None:
        if self.decoder.waiting and self._nak_timer is None and not self.closed:
            self._nak_timer = self.loop.call_later(pgm.NAK_BACKOFF, self._send_naks)

    def _send_naks(self) -> None:
        self._nak_timer = None
        if self.closed:
            return
        naks, released = self.decoder.naks_due(self.loop.time())
        for message in released:
            self.peer.inbound.write(message)
        for nak in naks:
            self._transmit(pgm.encode(nak), socket.inet_ntoa(nak.nla))
        self._watch_gaps()

    def _read_naks(self) -> None:
        """A sender's socket: NAKs for this session are answered from the window."""
        for data, _ in self._datagrams(65536):
            try:
                packet = pgm.decode(strip_ip_header(data) if self.raw else data)
            except Exception:  # noqa: BLE001 - whatever the network brings: not a NAK of ours
                continue
            if packet.kind != pgm.NAK or packet.gsi != self.gsi:
                continue
            if packet.dest_port != self.source_port:
                continue
            tsdu = self.window.repair(packet.sequence)
            if tsdu is None:
                continue  # Gone past RECOVERY_IVL: the receiver will give it up.
            ncf = self._packet(pgm.NCF, packet.sequence, nla=self._nla, group=self._group_nla)
            self._transmit(pgm.encode(ncf))
            self._send_data(tsdu, packet.sequence)

    # -- sending --------------------------------------------------------------------------------

    def _write(self) -> None:
        if not self.sending:
            super()._write()  # (A SUB's subscriptions: nothing to carry them.)
            return
        if self.closed or self._backlog:
            return  # (A backlog: the rate's timer writes it, then reads the pipe again.)
        outbound, encoder = self.peer.outbound, self.encoder
        while True:
            messages = outbound.read_many(BATCH)
            if not messages:
                break
            for message in messages:
                if isinstance(message, bytes):
                    encoder.add([message])
                elif message:
                    encoder.add(message)
            self._backlog.extend(encoder.tsdus())
            if not self._send_backlog():
                return
        if self._heartbeat_timer is None and self._sequence:
            self._heartbeat_timer = self.loop.call_later(_HEARTBEAT_SPM, self._heartbeat)

    def _send_backlog(self) -> bool:
        """Send what the rate allows; False (and a timer set) when some must wait."""
        backlog = self._backlog
        now = self.loop.time()
        rate = self.bytes_per_second
        self._budget = min(self._budget + (now - self._budget_time) * rate, max(rate, 1500.0))
        self._budget_time = now
        while backlog:
            tsdu = backlog[0]
            if self._budget < len(tsdu) and self._budget < rate:
                wait = (len(tsdu) - self._budget) / rate
                if self._resume_timer is None:
                    self._resume_timer = self.loop.call_later(wait, self._resume)
                return False
            backlog.popleft()
            self._budget -= len(tsdu)
            self._send_data(tsdu)
        return True

    def _resume(self) -> None:
        self._resume_timer = None
        if not self.closed and self._send_backlog():
            self._write()

    def _send_data(self, tsdu: bytes, repairing: int | None = None) -> None:
        """ODATA, kept for repair; or (``repairing`` its sequence number) RDATA."""
        if repairing is None:
            sequence = self._sequence
            self._sequence = (sequence + 1) & 0xFFFFFFFF
            self.window.keep(sequence, tsdu, self.loop.time())
        else:
            sequence = repairing
        kind = pgm.ODATA if repairing is None else pgm.RDATA
        self._transmit(pgm.encode(self._packet(kind, sequence, self.window.trail, tsdu)))

    def _send_spm(self) -> None:
        lead = (self._sequence - 1) & 0xFFFFFFFF
        packet = self._packet(pgm.SPM, self._spm_sequence, self.window.trail)
        self._spm_sequence = (self._spm_sequence + 1) & 0xFFFFFFFF
        self._transmit(pgm.encode(packet, lead, self._nla))
        if self._ambient_timer is not None:
            self._ambient_timer.cancel()
        self._ambient_timer = self.loop.call_later(_AMBIENT_SPM, self._send_spm)

    def _heartbeat(self) -> None:
        self._heartbeat_timer = None
        if not self.closed:
            self._send_spm()

    def _packet(
        self, kind: int, sequence: int, trail: int = 0, tsdu: bytes = b"", **nlas: bytes
    ) -> pgm.Packet:
        """A packet of this sender's session (its source port and GSI, the group's port)."""
        return pgm.Packet(
            self.source_port, self.address.where.port, kind, self.gsi, sequence, trail, tsdu, **nlas
        )

    def _transmit(self, data: bytes, to: str | None = None) -> None:
        """To the group, or ``to`` (a NAK, to the sender's address)."""
        host = self.address.where.host if to is None else to
        self._send(data, (host, 0 if self.raw else self.address.where.port))

    # -- closing --------------------------------------------------------------------------------

    def _close_socket(self) -> None:
        if self.sending and not self.closed:
            self._write()  # What was sent before close goes out (within the rate).
            self._backlog.clear()
        super()._close_socket()

    def _stop_timers(self) -> None:
        timers = (self._resume_timer, self._heartbeat_timer, self._ambient_timer, self._nak_timer)
        for timer in timers:
            if timer is not None:
                timer.cancel()


def open_pgm(core: Any, endpoint: str, transport: str, address: str) -> DatagramEndpoint:
    check_pgm(core.socket_type_name, endpoint)
    return opened(endpoint, lambda: PgmEndpoint(core, endpoint, transport, address))

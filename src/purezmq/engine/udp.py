"""The udp:// engine of RADIO, DISH and DGRAM (see datagram.py for what every datagram endpoint
does).

A RADIO's endpoint sends every message to its address (the dishes filter), a DISH's hears
whoever sends to its port or group, a DGRAM's (bound) both hears and sends, each datagram to
the address its message names. A datagram that is malformed or too large, or that finds
the pipe full, is dropped alone, as libzmq drops it.
"""

from __future__ import annotations

import errno
import logging
from typing import Any, cast

from ..constants import Errno
from ..constants import SocketOption as Opt
from ..routing.dgram import address_frame, peer_address
from ..transport import address as addr
from ..transport import udp
from .datagram import BATCH, DatagramEndpoint, opened

log = logging.getLogger("purezmq")


def check_udp(socket_type: str, binding: bool, endpoint: str) -> None:
    """libzmq's ENOCOMPATPROTO: udp is for a DISH (bind or connect), a RADIO (connect) and a
    DGRAM (bind)."""
    if socket_type == "DISH" or (socket_type == "RADIO" and not binding):
        return
    if socket_type == "DGRAM" and binding:
        return
    raise addr.endpoint_error(int(Errno.ENOCOMPATPROTO), endpoint)


class UdpEndpoint(DatagramEndpoint):
    """A bound or connected udp:// endpoint of a socket, and the peer it stands for."""

    def __init__(self, core: Any, endpoint: str, address: str, binding: bool) -> None:
        super().__init__(core, endpoint)
        self.role = "listener" if binding else "connecter"
        self.raw = core.socket_type_name == "DGRAM"
        self.sending = core.socket_type_name == "RADIO" or self.raw
        options = core.options
        self.where = udp.parse(endpoint, address, binding)
        if self.raw:
            self.sock = udp.receiving_socket(endpoint, self.where)
        elif self.sending:
            self.sock = udp.sending_socket(
                endpoint,
                self.where,
                options.int(Opt.MULTICAST_HOPS),
                bool(options.int(Opt.MULTICAST_LOOP)),
            )
        else:
            if not binding and not self.where.multicast:
                raise addr.endpoint_error(
                    errno.EINVAL, endpoint, "a DISH connects to a multicast group (or binds)"
                )
            self.sock = udp.receiving_socket(endpoint, self.where)
        self._make_peer()

    def _started(self) -> None:
        if self.raw:
            self._start_reading(self._read_raw)
        elif not self.sending:
            self._start_reading(self._read)

    def _read_raw(self) -> None:
        """A DGRAM's: each datagram whole (up to 64 KiB, where libzmq cuts at 8 KiB), after
        the address it came from."""
        inbound = self.peer.inbound
        for data, source in self._datagrams(65536):
            inbound.write([address_frame(source), data])  # (Dropped when full, as libzmq.)

    def _write_raw(self) -> None:
        while messages := self.peer.outbound.read_many(BATCH):
            # (Lists of an address and a body: the routing checked them.)
            for address, body in cast("list[list[bytes]]", messages):
                destination = peer_address(address)
                if destination is not None:
                    self._send(body, destination)

    def _read(self) -> None:
        inbound = self.peer.inbound
        for data, _ in self._datagrams(udp.MAX_DATAGRAM + 1):
            if len(data) > udp.MAX_DATAGRAM:
                continue  # (Larger than libzmq takes: dropped.)
            found = udp.message(data)
            if found is not None:
                inbound.write(list(found))  # Dropped when the pipe is full, as libzmq.

    def _write(self) -> None:
        if self.closed or not self.sending:
            super()._write()
            return
        if self.raw:
            self._write_raw()
            return
        destination = (self.where.host, self.where.port)
        while True:
            messages = self.peer.outbound.read_many(BATCH)
            if not messages:
                return
            for message in messages:
                if isinstance(message, bytes) or len(message) != 2:
                    continue
                data = udp.datagram(message[0], message[1])
                if data is None:
                    log.debug("purezmq: udp %s: a message too large dropped", self.endpoint)
                    continue
                self._send(data, destination)


def open_udp(core: Any, endpoint: str, address: str, binding: bool) -> DatagramEndpoint:
    check_udp(core.socket_type_name, binding, endpoint)
    return opened(endpoint, lambda: UdpEndpoint(core, endpoint, address, binding))

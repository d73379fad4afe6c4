"""The udp:// engine of RADIO and DISH: one peer per endpoint, whose pipes a UDP socket feeds
and drains in the socket's I/O loop (the I/O thread's, or the asyncio loop's).

No connection, no handshake: a RADIO's peer takes every group (the dishes filter), a DISH's
hears whoever sends to its port or group. A datagram that is malformed or too large, or that
finds the pipe full, is dropped alone, as libzmq drops it.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from ..constants import Errno
from ..constants import SocketOption as Opt
from ..error import ZMQError
from ..routing.draft import EVERY_GROUP
from ..routing.pipe import Peer, Pipe
from ..transport import address as addr
from ..transport import udp

log = logging.getLogger("purezmq")

#: Datagrams read or written per turn of the loop, so that one busy endpoint does not starve
#: the rest.
_BATCH = 256


def check_udp(socket_type: str, binding: bool, endpoint: str) -> None:
    """libzmq's ENOCOMPATPROTO: udp is for a DISH (bind or connect) and a RADIO (connect)."""
    if socket_type == "DISH" or (socket_type == "RADIO" and not binding):
        return
    raise addr.endpoint_error(int(Errno.ENOCOMPATPROTO), endpoint)


class UdpEndpoint:
    """A bound or connected udp:// endpoint of a socket, and the peer it stands for."""

    def __init__(self, core: Any, endpoint: str, address: str, binding: bool) -> None:
        self.core = core
        self.endpoint = endpoint
        #: What SocketBase's unbind/disconnect/close look for.
        self.role = "listener" if binding else "connecter"
        self.session = self  # (A connecter's ``session.peer`` is what routing drops first.)
        self.sending = core.socket_type_name == "RADIO"
        options = core.options
        self.where = udp.parse(endpoint, address, binding)
        if self.sending:
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
        inbound = Pipe(options.int(Opt.RCVHWM), reader=core)
        outbound = Pipe(options.int(Opt.SNDHWM), reader=self)
        inbound.writer = self
        outbound.writer = core
        self.peer = Peer(inbound, outbound, endpoint)
        self.peer.owner = self
        if self.sending:
            self.peer.state = EVERY_GROUP
        self.closed = False
        self._reading = False

    @property
    def local_endpoint(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"udp://{host}:{port}"

    def start(self) -> None:
        self.core.post("attach", self.peer)
        if not self.sending:
            self.core.schedule_io(self._start_reading)

    # -- reading (DISH) -------------------------------------------------------------------------

    def _start_reading(self) -> None:
        if not self.closed and not self._reading:
            self._reading = True
            self.core.io_loop.add_reader(self.sock.fileno(), self._read)

    def _read(self) -> None:
        inbound = self.peer.inbound
        for _ in range(_BATCH):
            try:
                data = self.sock.recv(udp.MAX_DATAGRAM + 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("purezmq: udp %s: %s", self.endpoint, exc)
                return
            if len(data) > udp.MAX_DATAGRAM:
                continue  # (Larger than libzmq takes: dropped.)
            found = udp.message(data)
            if found is not None:
                inbound.write(list(found))  # Dropped when the pipe is full, as libzmq.

    # -- writing (RADIO) ------------------------------------------------------------------------

    def on_readable(self, pipe: Pipe) -> None:
        """The socket queued messages for this endpoint."""
        self.core.schedule_io(self._write)

    def on_writable(self, pipe: Pipe) -> None:
        """The socket made room in the inbound pipe (datagrams met a full pipe were dropped)."""

    def _write(self) -> None:
        if self.closed:
            return
        destination = (self.where.host, self.where.port)
        while True:
            messages = self.peer.outbound.read_many(_BATCH)
            if not messages:
                return
            if not self.sending:
                continue  # (A DISH's JOIN and LEAVE: udp carries none, the dish filters.)
            for message in messages:
                if isinstance(message, bytes) or len(message) != 2:
                    continue
                data = udp.datagram(message[0], message[1])
                if data is None:
                    log.debug("purezmq: udp %s: a message too large dropped", self.endpoint)
                    continue
                try:
                    self.sock.sendto(data, destination)
                except (BlockingIOError, InterruptedError):
                    pass  # The kernel's buffer is full: dropped, as a datagram may be.
                except OSError as exc:
                    log.debug("purezmq: udp %s: %s", self.endpoint, exc)

    # -- closing --------------------------------------------------------------------------------

    def close(self, linger_ms: int = 0, sessions_too: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self.core.post("detach", self.peer)
        self.core.schedule_io(self._close_socket)

    def _close_socket(self) -> None:
        if self._reading:
            self._reading = False
            self.core.io_loop.remove_reader(self.sock.fileno())
        if self.sending and not self.peer.outbound.closed:
            self.closed = False
            self._write()  # What is queued goes out first (a send that returned went out).
            self.closed = True
        self.sock.close()


def open_udp(core: Any, endpoint: str, address: str, binding: bool) -> UdpEndpoint:
    check_udp(core.socket_type_name, binding, endpoint)
    try:
        return UdpEndpoint(core, endpoint, address, binding)
    except ZMQError:
        raise
    except OSError as exc:
        raise addr.endpoint_error(exc.errno or errno.EINVAL, endpoint) from None

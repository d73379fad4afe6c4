"""What the endpoints of the connectionless transports (udp, pgm, epgm) share: each is the one
peer it stands for, whose pipes a datagram socket fills or drains in the socket's I/O loop (the
I/O thread's, or the asyncio loop's). No connection, no handshake, no reconnection."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

from ..constants import SocketOption as Opt
from ..error import ZMQError
from ..routing.pipe import Peer, Pipe
from ..routing.sockets import TAKES_EVERYTHING
from ..transport import address as addr

log = logging.getLogger("purezmq")

#: Datagrams read or written per turn of the loop, so that one busy endpoint does not starve
#: the rest.
BATCH = 256


class DatagramEndpoint:
    """Subclasses make ``sock`` and say whether they are ``sending``; they read (``_read``) or
    write (``_write``) in the loop, and may flush what is queued before the socket closes."""

    sock: socket.socket
    sending: bool
    #: What SocketBase's unbind/disconnect/close look for ("listener" or "connecter").
    role = "connecter"

    def __init__(self, core: Any, endpoint: str) -> None:
        self.core = core
        self.endpoint = endpoint
        self.session = self  # (A connecter's ``session.peer`` is what routing drops first.)
        self.closed = False
        self._closing = False
        self._reading = False

    def _make_peer(self) -> None:
        """The peer, once ``sending`` is known: a sender's takes every message (the receivers
        at the far end filter), as libzmq's pgm and udp pipes do."""
        options, core = self.core.options, self.core
        inbound = Pipe(options.int(Opt.RCVHWM), reader=core)
        outbound = Pipe(options.int(Opt.SNDHWM), reader=self)
        inbound.writer = self
        outbound.writer = core
        self.peer = Peer(inbound, outbound, self.endpoint)
        self.peer.owner = self
        if self.sending:
            self.peer.state = TAKES_EVERYTHING

    @property
    def loop(self) -> Any:
        return self.core.io_loop

    def start(self) -> None:
        self.core.post("attach", self.peer)
        self.core.schedule_io(self._started)

    def _started(self) -> None:
        """In the loop, once: start reading (or whatever a subclass starts)."""

    def _start_reading(self, reader: Callable[[], None]) -> None:
        if not self.closed and not self._reading:
            self._reading = True
            self.loop.add_reader(self.sock.fileno(), reader)

    # Pipe listener: the socket queued messages (a sender writes them), or made room.

    def on_readable(self, pipe: Pipe) -> None:
        self.core.schedule_io(self._write)

    def on_writable(self, pipe: Pipe) -> None:
        """What met the inbound pipe full was dropped: nothing waits to be written into it."""

    def _write(self) -> None:
        """Send what the socket queued (a receiver drops it: a DISH's JOINs, a SUB's
        subscriptions, which no datagram carries)."""
        while self.peer.outbound.read_many(256):
            pass

    def _datagrams(self, size: int) -> Iterator[tuple[bytes, Any]]:
        """The datagrams waiting (up to BATCH, each cut at ``size`` bytes) with their sources;
        ends when there is none left, or at an error (logged: the next turn reads again)."""
        for _ in range(BATCH):
            try:
                yield self.sock.recvfrom(size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("purezmq: %s: %s", self.endpoint, exc)
                return

    def _send(self, data: bytes, destination: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, destination)
        except (BlockingIOError, InterruptedError):
            pass  # The kernel's buffer is full: the datagram is lost, as on the wire.
        except OSError as exc:
            log.debug("purezmq: %s: %s", self.endpoint, exc)

    # -- closing --------------------------------------------------------------------------------

    def close(self, linger_ms: int = 0, sessions_too: bool = False) -> None:
        if self._closing:
            return
        self._closing = True
        self.core.post("detach", self.peer)
        self.core.schedule_io(self._close_socket)

    def _close_socket(self) -> None:
        if self.sending and not self.closed:
            self._write()  # What was sent before close goes out.
        self.closed = True
        self._stop_timers()
        if self._reading:
            self._reading = False
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()

    def _stop_timers(self) -> None:
        pass


def opened(endpoint: str, make: Callable[[], DatagramEndpoint]) -> DatagramEndpoint:
    """``make()``, an OSError turned into the endpoint's ZMQError."""
    try:
        return make()
    except ZMQError:
        raise
    except OSError as exc:
        raise addr.endpoint_error(exc.errno or errno.EINVAL, endpoint) from None

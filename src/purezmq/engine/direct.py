"""Reading in the socket's own thread: a receive that would sleep reads its connection itself.

With the I/O thread in the middle, every message a blocked ``recv`` waits for costs two thread
hand-offs under the GIL (I/O thread wakes, reads, wakes the socket's thread). When a socket has a
single tcp/ipc connection, its thread instead *borrows* the connection: the I/O thread stops
watching it, the socket's thread waits on it (and on its signal, for everything else) and reads.

Giving it back at the end of every receive would cost two epoll changes per message, so a borrow
lasts while the socket keeps receiving: the I/O thread takes the connection back once the socket
has not waited on it for ``RECLAIM_AFTER`` (and at once when the socket polls, hands out its FD,
or closes), so nothing that arrives while the application does something else waits long.
Everything that touches the transport holds the socket's I/O lock.
"""

from __future__ import annotations

import select
import time
from typing import Any

from ..error import Again
from .ports import SocketPort

#: How long a borrowed connection may go unwatched before the I/O thread takes it back.
RECLAIM_AFTER = 0.005


class DirectReader:
    def __init__(self, socket: SocketPort) -> None:
        self.socket = socket
        self.transport: Any = None
        self._session: Any = None
        self._wake = socket.signal.set  # One bound method, so that the transport can compare.
        self._waiting = False
        self._used = False
        self._sweep_scheduled = False
        self._poll: tuple[Any, Any, int] | None = None

    @property
    def waiting(self) -> bool:
        """Whether the socket's thread is waiting on a borrowed connection now."""
        return self._waiting

    def wait(self, deadline: float | None) -> bool:
        """Wait until the connection or the signal has news, reading what came; Again at the
        deadline. False when the connection cannot be borrowed now (wait as usual then)."""
        socket = self.socket
        lock = socket.io_lock
        if not lock.acquire(False):  # (Positional: keywords cost a parse per call.)
            return False
        try:
            transport = self._borrowed()
            if transport is None or socket.signal.is_set():
                return False
            self._waiting = True
            self._used = True
        finally:
            lock.release()
        try:
            poller = self._poll
            if poller is None or poller[0] is not transport:
                poller = (transport, select.poll(), transport.fileno())
                poller[1].register(poller[2], select.POLLIN)
                poller[1].register(socket.signal.fileno(), select.POLLIN)
                self._poll = poller
            _, poll, transport_fd = poller
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic()) * 1000
            events = poll.poll(timeout)
            for fd, _ in events:
                if fd == transport_fd:
                    with lock:
                        socket.working_here = True
                        try:
                            if self.transport is transport:
                                transport.read_now()
                        finally:
                            socket.working_here = False
        finally:
            self._waiting = False
        if not self._sweep_scheduled:
            self._schedule_sweep()
        if not events and deadline is not None:
            raise Again()
        return True

    def _borrowed(self) -> Any:
        """The connection this thread may read (borrowing it now if needed), or None."""
        transport = self.transport
        if transport is not None:
            if transport.readable_by(self._wake):
                return transport  # The usual case: still ours, with one call.
            if not transport.borrowed_by(self._wake):  # Taken back meanwhile (or closed).
                self.transport = self._session = None
                return None
            return None  # Paused (the socket's pipe is full): nothing to read for now.
        try:
            (session,) = self.socket.sessions
        except ValueError:  # None, several, or changed under our feet.
            return None
        engine = session.engine
        if engine is None or not engine.ready or not engine.direct:
            return None
        transport = engine.transport
        if not transport.borrow(self._wake):
            return None
        self.transport = transport
        self._session = session
        return transport

    def _schedule_sweep(self) -> None:
        self._sweep_scheduled = True
        self.socket.io_loop.call_later(RECLAIM_AFTER, self._sweep)

    def _sweep(self) -> None:
        """In the I/O thread, holding the lock: take the connection back unless it is in use."""
        self._sweep_scheduled = False
        if self.transport is None or self._waiting:
            return  # (A wait that ends schedules the next sweep.)
        # Still in use: waited on since the last sweep, or messages read from it still queued
        # for the application (which is busy with them: taking the connection back now would
        # only make two threads contend for the GIL).
        if self._used or (self._session is not None and self._session.peer.inbound.peek()):
            self._used = False
            self._schedule_sweep()
            return
        self._give_back()

    def _give_back(self) -> None:
        transport, self.transport = self.transport, None
        self._session = None
        if transport is not None and transport.borrowed_by(self._wake):
            transport.give_back()

    def release(self) -> None:
        """Give the connection back now (the socket is about to poll, or to close)."""
        if self.transport is not None:
            with self.socket.io_lock:
                self._give_back()

"""What the sockets of one Context share: the I/O thread, the inproc names, the ZAP client, the
default socket options, and the registry of live sockets and sessions that termination waits on.

The API's ``Context`` owns one ``Runtime`` and delegates to it; socket cores, sessions and the
security code reach the context's services only through it (never through the API object).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from ..options import Options
from ..transport.inproc import InprocRegistry
from .heap import settle_allocator
from .iothread import IOThread
from .zap import ZapClient


class RegisteredSocket(Protocol):
    def context_terminated(self) -> None: ...


class Runtime:
    def __init__(self) -> None:
        settle_allocator()
        self._lock = threading.Condition()
        self._sockets: set[RegisteredSocket] = set()
        self._sessions: set[object] = set()  # Those that termination waits for.
        self.terminated = False
        self._io: IOThread | None = None
        self.inproc = InprocRegistry()
        self._zap: ZapClient | None = None
        #: Options every new socket starts from (Context.setsockopt).
        self.socket_defaults = Options()

    def io_thread(self) -> IOThread:
        """The I/O thread, started at first use."""
        io = self._io
        if io is None:
            with self._lock:
                if self._io is None:
                    self._io = IOThread()
                io = self._io
        return io

    @property
    def started(self) -> bool:
        """Whether the I/O thread runs (there is something to stop)."""
        return self._io is not None

    def zap_client(self) -> ZapClient:
        if self._zap is None:
            with self._lock:
                if self._zap is None:
                    self._zap = ZapClient(self.inproc)
        return self._zap

    # -- the registry --------------------------------------------------------------------------

    def sockets(self) -> list[Any]:
        with self._lock:
            return list(self._sockets)

    def socket_opened(self, sock: RegisteredSocket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def socket_closed(self, sock: RegisteredSocket) -> None:
        with self._lock:
            self._sockets.discard(sock)
            self._lock.notify_all()

    def session_started(self, session: object) -> None:
        """Termination waits for ``session`` to finish (to flush its queue within LINGER)."""
        with self._lock:
            self._sessions.add(session)

    def session_finished(self, session: object) -> None:
        with self._lock:
            self._sessions.discard(session)
            self._lock.notify_all()

    # -- termination ---------------------------------------------------------------------------

    def terminate(self) -> None:
        """Blocked and later calls of every socket raise ETERM; wait until every socket was
        closed and every session flushed (within its LINGER), then stop the I/O thread."""
        with self._lock:
            self.terminated = True
            sockets = list(self._sockets)
        for sock in sockets:
            sock.context_terminated()
        with self._lock:
            self._lock.wait_for(lambda: not self._sockets)
            self._lock.wait_for(lambda: not self._sessions)
            io, self._io = self._io, None
        if io is not None:
            io.stop()

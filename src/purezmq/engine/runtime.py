"""What the sockets of one Context share: the I/O thread, the inproc names, the ZAP client, the
default socket options, and the registry of live sockets and sessions that termination waits on.

The API's ``Context`` owns one ``Runtime`` and delegates to it; socket cores, sessions and the
security code reach the context's services only through it (never through the API object).
"""

from __future__ import annotations

import atexit
import errno
import os
import threading
import time
import weakref
from typing import Any, Protocol

from ..error import ZMQError
from ..options import Options
from ..transport.inproc import InprocRegistry
from .heap import settle_allocator
from .iothread import IOThread
from .lingering import ClosingSession, ExitFlush
from .zap import ZapClient

#: How often, at exit, the I/O thread looks at the sessions still flushing.
_EXIT_LOOK_EVERY = 0.02


class RegisteredSocket(Protocol):
    #: Whether the I/O thread serves it (its sessions are the ones termination waits for).
    linger_in_term: bool

    def context_terminated(self) -> None: ...

    def process_forked(self) -> None: ...

    def close(self, linger_ms: int | None = None) -> None: ...


#: The runtimes of this process whose I/O thread runs: what is flushed at exit.
_running: weakref.WeakSet[Runtime] = weakref.WeakSet()
_exit = {"started": False}


def exiting() -> bool:
    """Whether the interpreter is ending (the at-exit flush began): no term() may wait now."""
    return _exit["started"]


@atexit.register
def _flush_all_at_exit() -> None:
    # atexit runs after the non-daemon threads were joined and while the I/O threads (daemons)
    # still run: the last moment the sockets' queued messages can be sent.
    _exit["started"] = True
    for runtime in list(_running):
        runtime.flush_at_exit()


def _forget_parent_runtimes() -> None:
    # A child of fork() has the parent's runtimes but not their threads: nothing to flush, and
    # nothing its sockets send would ever go out (libzmq's do the same, silently).
    for runtime in list(_running):
        runtime.inherited = True
        for sock in runtime.sockets():
            sock.process_forked()
    _running.clear()


os.register_at_fork(after_in_child=_forget_parent_runtimes)


class Runtime:
    def __init__(self) -> None:
        settle_allocator()
        self._lock = threading.Condition()
        self._sockets: set[RegisteredSocket] = set()
        self._sessions: set[ClosingSession] = set()  # Those that termination waits for.
        self.terminated = False
        self._io: IOThread | None = None
        self.inproc = InprocRegistry()
        self._zap: ZapClient | None = None
        #: Options every new socket starts from (Context.setsockopt).
        self.socket_defaults = Options()
        #: The process this runtime's I/O thread runs in (a forked child has none).
        self.pid = os.getpid()
        #: This is a forked child's copy of a runtime whose I/O thread ran in the parent.
        self.inherited = False

    def io_thread(self) -> IOThread:
        """The I/O thread, started at first use."""
        io = self._io
        if io is None:
            with self._lock:
                if self._io is None:
                    self._io = IOThread()
                    _running.add(self)
                io = self._io
        return io

    @property
    def started(self) -> bool:
        """Whether the I/O thread runs (there is something to stop)."""
        return self._io is not None

    def inherited_error(self) -> ZMQError:
        return ZMQError(
            errno.EFAULT,
            f"this socket's Context belongs to process {self.pid}, the parent of this fork(): "
            "its I/O thread does not run here, so nothing would be sent or received; create a "
            "new Context in the child (Context.instance() does)",
        )

    def may_wait(self) -> bool:
        """Whether term() may wait for this runtime's sessions from here: not once the program
        is ending (the at-exit flush did that work), in a forked child (the I/O thread is the
        parent's) or in the I/O thread itself (a context collected there)."""
        if exiting() or self.pid != os.getpid():
            return False
        io = self._io
        return io is None or not io.in_thread()

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

    def session_started(self, session: ClosingSession) -> None:
        """Termination waits for ``session`` to finish (to flush its queue within LINGER)."""
        with self._lock:
            self._sessions.add(session)

    def session_finished(self, session: ClosingSession) -> None:
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
        if not self.may_wait():
            return  # (See may_wait: there is nothing this thread could wait for.)
        with self._lock:
            self._lock.wait_for(lambda: not self._sockets)
            self._lock.wait_for(lambda: not self._sessions)
            io, self._io = self._io, None
        _running.discard(self)
        if io is not None:
            io.stop()

    def flush_at_exit(self) -> None:
        """The program is ending without term(): close the sockets still open (with their
        LINGER), give their sessions the time ``lingering.ExitFlush`` allows to deliver what
        send() accepted, then stop the I/O thread."""
        io = self._io
        if io is None or self.terminated or self.pid != os.getpid() or io.in_thread():
            return
        for sock in self.sockets():
            if sock.linger_in_term:
                try:
                    sock.close()
                except Exception:  # (A socket broken by its application: flush the others.)
                    pass
        flush = ExitFlush(time.monotonic())
        done = threading.Event()

        def look() -> None:  # In the I/O thread, which runs the sessions.
            with self._lock:
                sessions = list(self._sessions)
            if flush.look(sessions, time.monotonic()):
                done.set()
            else:
                io.call_later(_EXIT_LOOK_EVERY, look)

        io.call_soon_threadsafe(look)
        while not done.wait(0.1):
            if not io.alive():
                return
        with self._lock:
            self.terminated = True  # (A socket used after this, by a later atexit hook: ETERM.)
            self._io = None
        _running.discard(self)
        io.stop()

"""Context: owns the I/O thread, the inproc names and the sockets, and terminates them."""

from __future__ import annotations

import errno
import threading
from typing import Any, ClassVar, TypeVar

from .constants import ContextOption, Errno, SocketOption
from .engine.heap import settle_allocator
from .engine.iothread import IOThread
from .engine.socketbase import SocketBase
from .error import ZMQError, zmq_error
from .options import Options, check_value
from .transport.inproc import InprocRegistry

T = TypeVar("T", bound="Context")


class Context:
    """A pyzmq-compatible Context (zmq.Context)."""

    _instance: ClassVar[Any] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()
    _instance_pid: ClassVar[int | None] = None

    def __init__(self, io_threads: int = 1, **kwargs: Any) -> None:
        settle_allocator()
        self._lock = threading.Condition()
        self._sockets: set[Any] = set()
        self._sessions: set[Any] = set()
        self._terminated = False
        self._closed = False
        self._io: IOThread | None = None
        self._inproc = InprocRegistry()
        self._zap: Any = None
        self._socket_defaults = Options()
        self._context_options: dict[int, int] = {
            ContextOption.IO_THREADS: io_threads,
            ContextOption.MAX_SOCKETS: 1023,
            ContextOption.SOCKET_LIMIT: 65535,
            ContextOption.MAX_MSGSZ: 2**31 - 1,
        }

    # -- pyzmq surface ------------------------------------------------------------------------

    @classmethod
    def instance(cls: type[T], io_threads: int = 1) -> T:
        import os

        with cls._instance_lock:
            inst = cls.__dict__.get("_instance")
            if inst is None or inst.closed or cls.__dict__.get("_instance_pid") != os.getpid():
                inst = cls(io_threads)
                cls._instance = inst
                cls._instance_pid = os.getpid()
            return inst

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def _socket_class(self) -> type:
        from .socket import Socket

        return Socket

    def socket(self, socket_type: int, socket_class: type | None = None, **kwargs: Any) -> Any:
        if self._closed:
            raise ZMQError(errno.ENOTSUP)
        if self._terminated:
            raise zmq_error(Errno.ETERM)
        cls = socket_class or self._socket_class
        sock = cls(self, socket_type, **kwargs)
        return sock

    def term(self) -> None:
        """Terminate: blocked calls raise ContextTerminated; wait for the sockets, then linger."""
        if self._closed:
            return
        with self._lock:
            self._terminated = True
            sockets = list(self._sockets)
        for sock in sockets:
            sock.context_terminated()
        with self._lock:
            self._lock.wait_for(lambda: not self._sockets)
            self._lock.wait_for(lambda: not self._sessions)
            io, self._io = self._io, None
        if io is not None:
            io.stop()
        self._closed = True

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket (with ``linger`` if given), then terminate."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            sock.close(linger)
        self.term()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.term()

    def __del__(self) -> None:
        try:
            if not self._closed and not self._sockets and self._io is not None:
                self.term()
        except Exception:
            pass

    def set(self, option: int, value: int) -> None:
        if option not in self._context_options:
            raise ZMQError(errno.EINVAL)
        self._context_options[option] = value

    def get(self, option: int) -> int:
        if option not in self._context_options:
            raise ZMQError(errno.EINVAL)
        return self._context_options[option]

    setsockopt_ctx = set

    def setsockopt(self, option: int, value: Any) -> None:
        """Default option for sockets created from now on (pyzmq's Context.setsockopt)."""
        self._socket_defaults.set(option, check_value(option, value))

    def getsockopt(self, option: int) -> Any:
        return self._socket_defaults.values[option]

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and name.upper() in SocketOption.__members__:
            self.setsockopt(SocketOption[name.upper()], value)
        elif not name.startswith("_") and name.upper() in ContextOption.__members__:
            self.set(ContextOption[name.upper()], value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            upper = name.upper()
            if upper in ContextOption.__members__:
                return self.get(ContextOption[upper])
            if upper in SocketOption.__members__:
                return self.getsockopt(SocketOption[upper])
        raise AttributeError(f"Context has no such option: {name}")

    # -- for the engine -----------------------------------------------------------------------

    def _io_thread(self) -> IOThread:
        io = self._io
        if io is None:
            with self._lock:
                if self._io is None:
                    self._io = IOThread()
                io = self._io
        return io

    def _zap_client(self) -> Any:
        if self._zap is None:
            from .engine.zap import ZapClient

            with self._lock:
                if self._zap is None:
                    self._zap = ZapClient(self._inproc)
        return self._zap

    def _socket_opened(self, sock: SocketBase) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _socket_closed(self, sock: SocketBase) -> None:
        with self._lock:
            self._sockets.discard(sock)
            self._lock.notify_all()

    def _session_started(self, session: Any) -> None:
        if not session.socket.linger_in_term:
            return
        with self._lock:
            self._sessions.add(session)

    def _session_finished(self, session: Any) -> None:
        with self._lock:
            self._sessions.discard(session)
            self._lock.notify_all()

"""Context: pyzmq's Context API over the engine's Runtime (which owns the I/O thread, the inproc
names and the registry of sockets that termination waits on)."""

from __future__ import annotations

import errno
import threading
from typing import Any, ClassVar, TypeVar

from .constants import ContextOption, Errno, SocketOption
from .engine.runtime import Runtime
from .error import ZMQError, zmq_error
from .options import check_value
from .socket import Socket

T = TypeVar("T", bound="Context")


class Context:
    """A pyzmq-compatible Context (zmq.Context)."""

    _instance: ClassVar[Any] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()
    _instance_pid: ClassVar[int | None] = None

    def __init__(self, io_threads: int = 1, **kwargs: Any) -> None:
        self._runtime = Runtime()
        self._closed = False
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

    _socket_class: ClassVar[type] = Socket

    def socket(self, socket_type: int, socket_class: type | None = None, **kwargs: Any) -> Any:
        if self._closed:
            raise ZMQError(errno.ENOTSUP)
        if self._runtime.terminated:
            raise zmq_error(Errno.ETERM)
        cls = socket_class or self._socket_class
        sock = cls(self, socket_type, **kwargs)
        return sock

    def term(self) -> None:
        """Terminate: blocked calls raise ContextTerminated; wait for the sockets, then linger."""
        if self._closed:
            return
        self._runtime.terminate()
        self._closed = True

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket (with ``linger`` if given), then terminate."""
        for sock in self._runtime.sockets():
            sock.close(linger)
        self.term()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.term()

    def __del__(self) -> None:
        try:
            runtime = self._runtime
            if not self._closed and runtime.started and not runtime.sockets():
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
        self._runtime.socket_defaults.set(option, check_value(option, value))

    def getsockopt(self, option: int) -> Any:
        return self._runtime.socket_defaults.values[option]

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

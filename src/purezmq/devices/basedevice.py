"""Devices run in the background: the sockets are described up front (types, options,
endpoints) and created by the thread or process that runs the proxy, which owns them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from ..constants import DeviceType, Errno, SocketType
from ..context import Context
from ..error import ZMQError
from ..socket import Socket
from .functions import proxy

__all__ = ["Device", "ThreadDevice", "ProcessDevice"]


def _as_enum(enum: Any, value: Any) -> Any:
    try:
        return enum(value)
    except (ValueError, TypeError):
        return value  # Checked when the socket is made, in the device's thread (as pyzmq).


class Device:
    """A 0MQ device to be run in the background.

    Socket types are given, not sockets: the sockets are created in the thread that runs the
    device (sockets are not thread-safe). ``bind_{in|out}``, ``connect_{in|out}`` and
    ``setsockopt_{in|out}`` record what to do with them there, in that order (options, then
    binds, then connects)::

        dev = ThreadDevice(zmq.QUEUE, zmq.ROUTER, zmq.DEALER)
        dev.bind_in("tcp://*:5555")
        dev.bind_out("tcp://*:5556")
        dev.start()

    ``device_type`` is QUEUE, FORWARDER or STREAMER (all three run ``zmq.proxy``). When
    ``out_type`` is negative, the in socket serves as both (an echo).

    Attributes: ``daemon`` (default True) makes the thread or process a daemon;
    ``context_factory`` (a class attribute, may be overridden per instance) makes the Context
    the sockets come from: ``Context.instance`` for threads, ``Context`` for processes (a
    forked process must not use its parent's). The device ends, closing its sockets, when
    that context is terminated.
    """

    context_factory: Callable[[], Any] = Context.instance
    daemon: bool

    def __init__(
        self,
        device_type: int = DeviceType.QUEUE,
        in_type: int | None = None,
        out_type: int | None = None,
    ) -> None:
        if in_type is None:
            raise TypeError("in_type must be specified")
        if out_type is None:
            raise TypeError("out_type must be specified")
        self.device_type = _as_enum(DeviceType, device_type)
        self.in_type = _as_enum(SocketType, in_type)
        self.out_type = _as_enum(SocketType, out_type)
        self._in_binds: list[str] = []
        self._in_connects: list[str] = []
        self._in_sockopts: list[tuple[int, Any]] = []
        self._out_binds: list[str] = []
        self._out_connects: list[str] = []
        self._out_sockopts: list[tuple[int, Any]] = []
        self._random_addrs: list[str] = []
        self.daemon = True
        self.done = False
        self._sockets: list[Socket] = []
        self._finished = threading.Event()

    # -- configuration, applied in the device's thread ------------------------------------------

    def bind_in(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on in_socket. See Socket.bind."""
        self._in_binds.append(addr)

    def bind_in_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on in_socket; return the
        port. Arguments as Socket.bind_to_random_port."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_in(f"{addr}:{port}")
        return port

    def connect_in(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on in_socket. See Socket.connect."""
        self._in_connects.append(addr)

    def setsockopt_in(self, opt: int, value: Any) -> None:
        """Enqueue setsockopt(opt, value) for in_socket."""
        self._in_sockopts.append((opt, value))

    def bind_out(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on out_socket. See Socket.bind."""
        self._out_binds.append(addr)

    def bind_out_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on out_socket; return the
        port. Arguments as Socket.bind_to_random_port."""
        port = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_out(f"{addr}:{port}")
        return port

    def connect_out(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on out_socket. See Socket.connect."""
        self._out_connects.append(addr)

    def setsockopt_out(self, opt: int, value: Any) -> None:
        """Enqueue setsockopt(opt, value) for out_socket."""
        self._out_sockopts.append((opt, value))

    def _reserve_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """A port free now on ``addr``'s interface: bound by a socket of a context of its own,
        released before returning (term() waits until it is)."""
        context = Context()
        try:
            sock = context.socket(SocketType.PAIR)
            try:
                sock.linger = 0
                port = sock.bind_to_random_port(addr, *args, **kwargs)
            finally:
                sock.close(0)
        finally:
            context.term()
        self._random_addrs.append(f"{addr}:{port}")
        return port

    # -- running ------------------------------------------------------------------------------

    def _make_socket(
        self,
        context: Any,
        socket_type: int,
        sockopts: list[tuple[int, Any]],
        binds: list[str],
        connects: list[str],
    ) -> Socket:
        sock = context.socket(socket_type)
        self._sockets.append(sock)
        for opt, value in sockopts:
            sock.setsockopt(opt, value)
        for addr in binds:
            sock.bind(addr)
        for addr in connects:
            sock.connect(addr)
        return sock

    def _setup_sockets(self) -> tuple[Any, ...]:
        """Make the context and the in and out sockets (in the device's thread)."""
        self._context = self.context_factory()
        ins = self._make_socket(
            self._context, self.in_type, self._in_sockopts, self._in_binds, self._in_connects
        )
        if self.out_type < 0:
            outs = ins
        else:
            outs = self._make_socket(
                self._context,
                self.out_type,
                self._out_sockopts,
                self._out_binds,
                self._out_connects,
            )
        return ins, outs

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            if not sock.closed:
                sock.close()

    def run_device(self) -> None:
        """The runner method. Do not call it directly: call ``start()``, as with a Thread."""
        ins, outs = self._setup_sockets()
        proxy(ins, outs)

    def run(self) -> None:
        """run_device, ending quietly when the context is terminated (ETERM); the sockets are
        closed at the end."""
        try:
            self.run_device()
        except ZMQError as exc:
            if exc.errno != Errno.ETERM:
                raise
        finally:
            self._close_sockets()
            self.done = True
            self._finished.set()

    def start(self) -> None:
        """Start the device (here, in the calling thread: it returns when the device ends).
        Subclasses run it in the background."""
        self.run()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the device to finish, like Thread.join."""
        self._finished.wait(timeout)

    def __getstate__(self) -> dict[str, Any]:
        # (For a process started by pickling its target rather than by forking.)
        state = dict(self.__dict__)
        for name in ("_finished", "launcher", "_context"):
            state.pop(name, None)
        state["_sockets"] = []
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._finished = threading.Event()


class BackgroundDevice(Device):
    """Base class for launching Devices in background processes and threads."""

    launcher: Any = None
    _launch_class: ClassVar[Callable[..., Any]]

    def start(self) -> None:
        self.launcher = self._launch_class(target=self.run)
        self.launcher.daemon = self.daemon
        self.launcher.start()

    def join(self, timeout: float | None = None) -> None:
        self.launcher.join(timeout=timeout)


class ThreadDevice(BackgroundDevice):
    """A Device that will be run in a background Thread. See Device for details."""

    _launch_class = threading.Thread


class ProcessDevice(BackgroundDevice):
    """A Device that will be run in a background Process. See Device for details."""

    @staticmethod
    def _launch_class(target: Callable[..., Any]) -> Any:
        # (multiprocessing is imported here, not with purezmq: it costs every import ~3 ms.)
        from multiprocessing import Process

        return Process(target=target)

    #: A new Context in the process, never the parent's instance.
    context_factory = Context

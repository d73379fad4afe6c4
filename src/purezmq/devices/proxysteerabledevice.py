"""Steerable proxy devices: a Proxy with a fourth, control socket (zmq.proxy_steerable)."""

from __future__ import annotations

from typing import Any

from ..constants import SocketType
from .functions import proxy_steerable
from .proxydevice import ProcessProxy, Proxy, ProxyBase, ThreadProxy

__all__ = ["ProxySteerable", "ThreadProxySteerable", "ProcessProxySteerable"]


class ProxySteerableBase(ProxyBase):
    """What steerable proxies add to a Proxy: the control socket and its ``*_ctrl`` methods."""

    def __init__(
        self,
        in_type: int,
        out_type: int,
        mon_type: int = SocketType.PUB,
        ctrl_type: int | None = None,
    ) -> None:
        super().__init__(in_type, out_type, mon_type)
        self.ctrl_type = ctrl_type
        self._ctrl_binds: list[str] = []
        self._ctrl_connects: list[str] = []
        self._ctrl_sockopts: list[tuple[int, Any]] = []

    def bind_ctrl(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on ctrl_socket. See Socket.bind."""
        self._ctrl_binds.append(addr)

    def bind_ctrl_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on ctrl_socket; return
        the port. Arguments as Socket.bind_to_random_port."""
        port: int = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_ctrl(f"{addr}:{port}")
        return port

    def connect_ctrl(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on ctrl_socket. See Socket.connect."""
        self._ctrl_connects.append(addr)

    def setsockopt_ctrl(self, opt: int, value: Any) -> None:
        """Enqueue setsockopt(opt, value) for ctrl_socket."""
        self._ctrl_sockopts.append((opt, value))

    def _setup_sockets(self) -> tuple[Any, ...]:
        ins, outs, mons = super()._setup_sockets()
        ctrls = None
        if self.ctrl_type is not None:
            ctrls = self._make_socket(
                self._context,
                self.ctrl_type,
                self._ctrl_sockopts,
                self._ctrl_binds,
                self._ctrl_connects,
            )
        return ins, outs, mons, ctrls

    def run_device(self) -> None:
        ins, outs, mons, ctrls = self._setup_sockets()
        proxy_steerable(ins, outs, mons, ctrls)


class ProxySteerable(ProxySteerableBase, Proxy):
    """A steerable Proxy device (run with ``start()`` in the calling thread).

    See Proxy for most of the spec. With a control socket (``ctrl_type``, REP or PAIR), the
    proxy obeys the commands it receives there: PAUSE suspends its activity, RESUME resumes
    it, TERMINATE ends it smoothly, STATISTICS is answered with its counters. Without one it
    is a Proxy. This adds a ``*_ctrl`` version of each ``*_{in|out}`` method, for the control
    socket."""


class ThreadProxySteerable(ProxySteerableBase, ThreadProxy):
    """ProxySteerable in a Thread. See ProxySteerable for details."""


class ProcessProxySteerable(ProxySteerableBase, ProcessProxy):
    """ProxySteerable in a Process. See ProxySteerable for details."""

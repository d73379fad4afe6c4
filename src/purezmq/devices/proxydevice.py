"""Proxy devices: a QUEUE device with a third, monitor socket that gets a copy of every
message (zmq.proxy's capture)."""

from __future__ import annotations

from typing import Any

from ..constants import DeviceType, SocketType
from .basedevice import Device, ProcessDevice, ThreadDevice
from .functions import proxy

__all__ = ["Proxy", "ThreadProxy", "ProcessProxy"]


class ProxyBase(Device):
    """What proxies add to a Device: the monitor socket and its ``*_mon`` methods."""

    def __init__(self, in_type: int, out_type: int, mon_type: int = SocketType.PUB) -> None:
        super().__init__(DeviceType.QUEUE, in_type, out_type)
        self.mon_type = mon_type
        self._mon_binds: list[str] = []
        self._mon_connects: list[str] = []
        self._mon_sockopts: list[tuple[int, Any]] = []

    def bind_mon(self, addr: str) -> None:
        """Enqueue ZMQ address for binding on mon_socket. See Socket.bind."""
        self._mon_binds.append(addr)

    def bind_mon_to_random_port(self, addr: str, *args: int, **kwargs: int) -> int:
        """Enqueue a random port on the given interface for binding on mon_socket; return
        the port. Arguments as Socket.bind_to_random_port."""
        port: int = self._reserve_random_port(addr, *args, **kwargs)
        self.bind_mon(f"{addr}:{port}")
        return port

    def connect_mon(self, addr: str) -> None:
        """Enqueue ZMQ address for connecting on mon_socket. See Socket.connect."""
        self._mon_connects.append(addr)

    def setsockopt_mon(self, opt: int, value: Any) -> None:
        """Enqueue setsockopt(opt, value) for mon_socket."""
        self._mon_sockopts.append((opt, value))

    def _setup_sockets(self) -> tuple[Any, ...]:
        ins, outs = super()._setup_sockets()
        mons = self._make_socket(
            self._context,
            self.mon_type,
            self._mon_sockopts,
            self._mon_binds,
            self._mon_connects,
        )
        return ins, outs, mons

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        proxy(ins, outs, mons)


class Proxy(ProxyBase):
    """A Proxy device (run with ``start()`` in the calling thread).

    See Device for most of the spec. This adds a ``*_mon`` version of each ``*_{in|out}``
    method, for the monitor socket. A Proxy works like a QUEUE device, except that each
    message is also sent out on the monitor socket (a PUB socket by default, the most logical
    choice, but not required)."""


class ThreadProxy(ProxyBase, ThreadDevice):
    """Proxy in a Thread. See Proxy for more."""


class ProcessProxy(ProxyBase, ProcessDevice):
    """Proxy in a Process. See Proxy for more."""

"""MonitoredQueue devices: ``monitored_queue`` run in the background."""

from __future__ import annotations

from ..constants import SocketType
from .monitoredqueue import monitored_queue
from .proxydevice import ProcessProxy, Proxy, ProxyBase, ThreadProxy

__all__ = ["MonitoredQueue", "ThreadMonitoredQueue", "ProcessMonitoredQueue"]


class MonitoredQueueBase(ProxyBase):
    """What monitored queues add to a Proxy: the prefixes of the monitor's copies."""

    _in_prefix = b""
    _out_prefix = b""

    def __init__(
        self,
        in_type: int,
        out_type: int,
        mon_type: int = SocketType.PUB,
        in_prefix: bytes = b"in",
        out_prefix: bytes = b"out",
    ) -> None:
        super().__init__(in_type, out_type, mon_type)
        self._in_prefix = in_prefix
        self._out_prefix = out_prefix

    def run_device(self) -> None:
        ins, outs, mons = self._setup_sockets()
        monitored_queue(ins, outs, mons, self._in_prefix, self._out_prefix)


class MonitoredQueue(MonitoredQueueBase, Proxy):
    """A monitored queue device (run with ``start()`` in the calling thread).

    See Device for most of the spec. It differs from Proxy only in that each copy sent on the
    monitor socket starts with a prefix frame saying where the message came from:
    ``in_prefix`` for the in socket, ``out_prefix`` for the out socket; and in that both
    sides may be ROUTER sockets (see ``monitored_queue``)."""


class ThreadMonitoredQueue(MonitoredQueueBase, ThreadProxy):
    """Run monitored_queue in a background Thread. See MonitoredQueue for details."""


class ProcessMonitoredQueue(MonitoredQueueBase, ProcessProxy):
    """Run monitored_queue in a background Process. See MonitoredQueue for details."""

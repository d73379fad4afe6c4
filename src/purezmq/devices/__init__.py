"""0MQ Device classes for running in background threads or processes, and the functions
they run (pyzmq's ``zmq.devices``)."""

from __future__ import annotations

from ..constants import DeviceType  # noqa: F401 - zmq.devices.DeviceType
from . import (  # noqa: F401 - the submodules, as in pyzmq
    basedevice,
    functions,
    monitoredqueue,
    monitoredqueuedevice,
    proxydevice,
    proxysteerabledevice,
)
from .basedevice import Device, ProcessDevice, ThreadDevice
from .functions import device, proxy, proxy_steerable  # noqa: F401 - zmq.devices.proxy
from .monitoredqueue import monitored_queue
from .monitoredqueuedevice import MonitoredQueue, ProcessMonitoredQueue, ThreadMonitoredQueue
from .proxydevice import ProcessProxy, Proxy, ThreadProxy
from .proxysteerabledevice import ProcessProxySteerable, ProxySteerable, ThreadProxySteerable

__all__ = [
    "Device",
    "ThreadDevice",
    "ProcessDevice",
    "Proxy",
    "ThreadProxy",
    "ProcessProxy",
    "ProxySteerable",
    "ThreadProxySteerable",
    "ProcessProxySteerable",
    "monitored_queue",
    "MonitoredQueue",
    "ThreadMonitoredQueue",
    "ProcessMonitoredQueue",
]

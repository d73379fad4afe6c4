"""gevent-cooperative device and proxies (pyzmq's zmq.green.device): the proxy loop of
purezmq.devices over the green zmq_poll, so other greenlets run while it waits."""

from __future__ import annotations

from typing import Any

from ..devices.functions import _check_proxied, check_socket, run_proxy
from .poll import zmq_poll


def proxy(frontend: Any, backend: Any, capture: Any = None) -> None:
    """As purezmq.proxy, yielding to other greenlets while it waits."""
    check_socket(frontend, "frontend")
    check_socket(backend, "backend")
    check_socket(capture, "capture", optional=True)
    _check_proxied(frontend, backend)
    run_proxy(frontend, backend, capture, poll=zmq_poll)


def proxy_steerable(frontend: Any, backend: Any, capture: Any = None, control: Any = None) -> int:
    """As purezmq.proxy_steerable, yielding to other greenlets while it waits."""
    check_socket(frontend, "frontend")
    check_socket(backend, "backend")
    check_socket(capture, "capture", optional=True)
    check_socket(control, "control", optional=True)
    _check_proxied(frontend, backend)
    return run_proxy(frontend, backend, capture, control, poll=zmq_poll)


def device(device_type: int, frontend: Any, backend: Any) -> None:
    """Deprecated alias for ``proxy`` (``device_type`` is ignored, as in libzmq)."""
    proxy(frontend, backend)

"""gevent-cooperative zmq_poll and Poller (pyzmq's zmq.green.poll)."""

from __future__ import annotations

import time
from typing import Any

import gevent.select

from ..engine.socketbase import SocketBase
from ..poll import POLLERR, POLLIN, POLLOUT, _check_timeout, _fd_of, select_with
from ..poll import Poller as _original_Poller
from ..poll import zmq_poll as _original_zmq_poll


def zmq_poll(sockets: list[tuple[Any, int]], timeout: float = -1) -> list[tuple[Any, int]]:
    """zmq_poll that lets other greenlets run while it waits (``timeout`` in ms, negative:
    forever). A look without waiting, then a gevent select on the sockets' FDs and the raw
    descriptors, again until something is ready or the time is up."""
    _check_timeout(timeout)
    if not sockets:
        return []
    deadline = None if timeout < 0 else time.monotonic() + timeout / 1000
    while True:
        ready = _original_zmq_poll(sockets, 0)
        if ready:
            return ready
        if deadline is None:
            remaining = None
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
        readers: list[int] = []
        writers: list[int] = []
        for item, mask in sockets:
            core = getattr(item, "_core", item)
            if isinstance(core, SocketBase):
                readers.append(core.signal.fileno())  # Readable: some state changed.
                continue
            fd = _fd_of(item)
            if int(mask) & (POLLIN | POLLERR):
                readers.append(fd)
            if int(mask) & POLLOUT:
                writers.append(fd)
        gevent.select.select(readers, writers, [], remaining)


class _Poller(_original_Poller):
    """zmq.Poller whose poll lets other greenlets run while it waits."""

    _zmq_poll = staticmethod(zmq_poll)


def select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """zmq.select that lets other greenlets run while it waits (``timeout`` in seconds)."""
    return select_with(zmq_poll, rlist, wlist, xlist, timeout)

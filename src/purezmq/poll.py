"""Poller and select over purezmq sockets and raw file descriptors (zmq_poll semantics)."""

from __future__ import annotations

import select as _select
import time
from typing import Any

from .constants import PollEvent
from .engine.socketbase import SocketBase

POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
POLLERR = int(PollEvent.POLLERR)


def _fd_of(item: Any) -> int:
    if isinstance(item, int):
        return item
    return int(item.fileno())


def zmq_poll(sockets: list[tuple[Any, int]], timeout: float | None = None) -> list[tuple[Any, int]]:
    """Wait until some item is ready. ``timeout`` in milliseconds; None or negative: forever."""
    deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
    while True:
        ready: list[tuple[Any, int]] = []
        raw: list[tuple[Any, int, int]] = []
        watch: list[int] = []
        for item, mask in sockets:
            core = getattr(item, "_core", item)
            if isinstance(core, SocketBase):
                core.check_open()
                events = core.events() & mask
                if events:
                    ready.append((item, events))
                watch.append(core.signal.fileno())
            else:
                fd = _fd_of(item)
                raw.append((item, fd, mask))
        if raw:
            poller = _select.poll()
            for _, fd, mask in raw:
                poller.register(fd, _to_select(mask))
            wait_ms = 0
            if not ready:
                wait_ms = _remaining_ms(deadline)
                for fd in watch:
                    poller.register(fd, _select.POLLIN)
            masks = {fd: mask for _, fd, mask in raw}
            for fd, revents in poller.poll(wait_ms):
                if fd in masks:
                    # pyzmq reports raw items by their file descriptor number.
                    events = _from_select(revents) & (masks[fd] | POLLERR)
                    if events:
                        ready.append((fd, events))
            if ready:
                return ready
        elif ready:
            return ready
        else:
            wait_ms = _remaining_ms(deadline)
            if wait_ms == 0:
                return []
            if watch:
                poller = _select.poll()
                for fd in watch:
                    poller.register(fd, _select.POLLIN)
                poller.poll(wait_ms)
            elif wait_ms > 0:
                time.sleep(wait_ms / 1000)
        if deadline is not None and time.monotonic() >= deadline:
            return []


def _remaining_ms(deadline: float | None) -> int:
    if deadline is None:
        return -1
    return max(0, int((deadline - time.monotonic()) * 1000 + 0.999))


def _to_select(mask: int) -> int:
    flags = 0
    if mask & POLLIN:
        flags |= _select.POLLIN
    if mask & POLLOUT:
        flags |= _select.POLLOUT
    return flags


def _from_select(revents: int) -> int:
    events = 0
    if revents & (_select.POLLIN | _select.POLLHUP):
        events |= POLLIN
    if revents & _select.POLLOUT:
        events |= POLLOUT
    if revents & (_select.POLLERR | _select.POLLNVAL):
        events |= POLLERR
    return events


class Poller:
    """zmq.Poller: register sockets or fds with POLLIN/POLLOUT, poll(timeout ms) -> [(s, ev)]."""

    def __init__(self) -> None:
        self.sockets: list[tuple[Any, int]] = []
        self._map: dict[Any, int] = {}

    def __contains__(self, socket: Any) -> bool:
        return socket in self._map

    def register(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        if flags:
            if socket in self._map:
                self.sockets[self._map[socket]] = (socket, flags)
            else:
                self._map[socket] = len(self.sockets)
                self.sockets.append((socket, flags))
        elif socket in self._map:
            self.unregister(socket)

    def modify(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        index = self._map.pop(socket)
        self.sockets.pop(index)
        for other, position in self._map.items():
            if position > index:
                self._map[other] = position - 1

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        if timeout is None or timeout < 0:
            timeout = -1
        return zmq_poll(self.sockets, timeout)


def select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """zmq.select: like select.select over sockets and fds; ``timeout`` in seconds."""
    masks: dict[Any, int] = {}
    for items, flag in ((rlist, POLLIN), (wlist, POLLOUT), (xlist, POLLERR)):
        for item in items:
            masks[item] = masks.get(item, 0) | flag
    ms = None if timeout is None else timeout * 1000
    ready = dict(zmq_poll(list(masks.items()), ms))

    def events(item: Any) -> int:
        key = item if isinstance(getattr(item, "_core", item), SocketBase) else _fd_of(item)
        return ready.get(key, 0)

    return (
        [s for s in rlist if events(s) & POLLIN],
        [s for s in wlist if events(s) & POLLOUT],
        [s for s in xlist if events(s) & POLLERR],
    )

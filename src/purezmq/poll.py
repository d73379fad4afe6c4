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
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    fileno = getattr(item, "fileno", None)
    if fileno is None:
        raise TypeError(
            f"Socket must be a 0MQ socket, an integer fd or have a fileno() method: {item!r}"
        )
    return int(fileno())


def _check_timeout(timeout: Any) -> None:
    if not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of milliseconds, not {timeout!r}")


def zmq_poll(sockets: list[tuple[Any, int]], timeout: float = -1) -> list[tuple[Any, int]]:
    """Wait until some item is ready: ``sockets`` is a list of (socket or fd or object with
    fileno(), POLLIN|POLLOUT|POLLERR); returns [(socket or fd, events)] of those ready, a
    raw item reported by its file descriptor. ``timeout`` in ms, negative: forever. As libzmq's
    zmq_poll, an empty list returns at once."""
    _check_timeout(timeout)
    if not sockets:
        return []
    deadline = None if timeout < 0 else time.monotonic() + timeout / 1000
    while True:
        ready: list[tuple[Any, int]] = []
        raw: list[tuple[Any, int, int]] = []
        watch: list[int] = []
        for item, mask in sockets:
            mask = int(mask)
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

    def register(self, socket: Any, flags: int = PollEvent.POLLIN | PollEvent.POLLOUT) -> None:
        """Watch ``socket`` (a purezmq socket, an fd or an object with fileno()) for ``flags``;
        registering it again changes its flags, flags 0 unregisters it."""
        if flags:
            if socket in self._map:
                self.sockets[self._map[socket]] = (socket, flags)
            else:
                self._map[socket] = len(self.sockets)
                self.sockets.append((socket, flags))
        elif socket in self._map:
            self.unregister(socket)

    def modify(self, socket: Any, flags: int = PollEvent.POLLIN | PollEvent.POLLOUT) -> None:
        """Change the flags ``socket`` is watched for (registers it if it was not)."""
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        """Stop watching ``socket`` (KeyError if it is not registered)."""
        index = self._map.pop(socket)
        self.sockets.pop(index)
        for other, position in self._map.items():
            if position > index:
                self._map[other] = position - 1

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait at most ``timeout`` ms (None or negative: forever) until a registered item is
        ready; [(socket or fd, events)] of those ready (events as ints)."""
        if timeout is None:
            timeout = -1
        _check_timeout(timeout)
        return self._zmq_poll(self.sockets, timeout)

    #: How it polls (purezmq.green's Poller lets other greenlets run while it waits).
    _zmq_poll = staticmethod(zmq_poll)


def select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """zmq.select: like select.select over purezmq sockets and fds; ``timeout`` in seconds
    (None: forever). As pyzmq's, an item given as an object with fileno() is returned as its
    file descriptor; the lists keep the order of the arguments."""
    return select_with(zmq_poll, rlist, wlist, xlist, timeout)


def select_with(
    poll: Any, rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None
) -> tuple[list[Any], list[Any], list[Any]]:
    """``select`` over the zmq_poll ``poll`` (purezmq.green's is cooperative)."""
    if timeout is None:
        ms: float = -1
    else:
        _check_timeout(timeout)
        ms = timeout * 1000
    masks: dict[Any, int] = {}
    for items, flag in ((rlist, POLLIN), (wlist, POLLOUT), (xlist, POLLERR)):
        for item in items:
            key = item if isinstance(getattr(item, "_core", item), SocketBase) else _fd_of(item)
            masks[key] = masks.get(key, 0) | flag
    ready = dict(poll(list(masks.items()), ms))
    found: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    for items, flag, out in zip(
        (rlist, wlist, xlist), (POLLIN, POLLOUT, POLLERR), found, strict=True
    ):
        for item in items:
            key = item if isinstance(getattr(item, "_core", item), SocketBase) else _fd_of(item)
            if ready.get(key, 0) & flag:
                out.append(key)
    return found

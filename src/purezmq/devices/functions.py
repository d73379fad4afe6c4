"""``proxy``, ``proxy_steerable`` and ``device``: libzmq's built-in proxy (zmq_proxy(3),
zmq_proxy_steerable(3)) over purezmq sockets, as pyzmq exposes it.

One loop serves them all (and ``monitored_queue``): it polls the sockets that can make progress
(a source while its destination can take a message, that destination while it cannot, the
control socket always) and sleeps in the poll when nothing moves. As in zmq_proxy, a source is
read only when its destination is writable, so that what cannot go on waits in the source
socket (back-pressure). When a source is ready, a batch of whole messages is forwarded without
polling in between; should the destination fill up during the batch, the message it refused
is held, and its source not read again until that message has gone.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Sequence
from typing import Any

from ..constants import Flag, PollEvent, SocketType
from ..error import Again, ZMQError
from ..poll import zmq_poll
from ..socket import Socket

__all__ = ["device", "proxy", "proxy_steerable"]

_NOBLOCK = int(Flag.DONTWAIT)
_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
#: Messages forwarded from one source before the loop polls again (and serves the other side).
_BATCH = 256
#: What zmq_proxy_steerable(3) answers STATISTICS with: eight uint64 in the host's byte order.
_UINT64 = struct.Struct("=Q")

# Indexes into the statistics, in the order of the STATISTICS reply.
_FRONT_IN, _FRONT_OUT, _BACK_IN, _BACK_OUT = 0, 2, 4, 6


def check_socket(value: Any, name: str, optional: bool = False) -> None:
    """The TypeError pyzmq raises for an argument that is not a socket."""
    if value is None and optional:
        return
    if not isinstance(value, Socket):
        raise TypeError(
            f"Argument {name!r} has incorrect type "
            f"(expected purezmq.Socket, got {type(value).__name__})"
        )
    if value._core_class is not Socket._core_class:
        # An asyncio socket's calls return futures: the proxy needs blocking sockets.
        raise TypeError(f"Argument {name!r} must be a blocking socket, not an asyncio one")


def _check_proxied(frontend: Socket, backend: Socket) -> None:
    """zmq_proxy(3): EFAULT when the frontend or the backend is not a (live) socket."""
    if frontend.closed or backend.closed:
        raise ZMQError(errno.EFAULT)


class _Link:
    """One direction of the proxy: what ``src`` receives is sent on ``dst``."""

    __slots__ = ("src", "dst", "held", "blocked", "received", "sent", "prefix")

    def __init__(
        self, src: Socket, dst: Socket, received: int, sent: int, prefix: bytes | None
    ) -> None:
        self.src = src
        self.dst = dst
        #: A message ``dst`` could not take yet (Again): sent before ``src`` is read again.
        self.held: list[Any] | None = None
        #: ``dst`` was not writable when ``src`` had a message: wait for it before reading.
        self.blocked = False
        self.received = received  # Index of the src's counters in the statistics.
        self.sent = sent  # Index of the dst's counters.
        #: monitored_queue: the frame put before each copy sent to the monitor socket.
        self.prefix = prefix


def _count(stats: list[int], index: int, frames: Sequence[bytes]) -> None:
    stats[index] += len(frames)  # "Message totals count each part ... individually."
    stats[index + 1] += sum(map(len, frames))


def _forward(link: _Link, capture: Socket | None, swap: bool, stats: list[int], limit: int) -> None:
    """Send the held message, then up to ``limit`` more, until the source is empty or the
    destination full."""
    send = link.dst.send_multipart
    held = link.held
    if held is None:
        if not link.dst.poll(0, _POLLOUT):
            link.blocked = True
            return
    else:
        try:
            send(held, _NOBLOCK)
        except Again:
            return
        link.held = None
        _count(stats, link.sent, held)
    recv = link.src.recv_multipart
    prefix = link.prefix
    for _ in range(limit):
        try:
            frames = recv(_NOBLOCK)
        except Again:
            return
        _count(stats, link.received, frames)
        if swap and len(frames) > 1:
            # ROUTER to ROUTER (monitored_queue): the first frame names the peer to send to on
            # the other side; the sender's routing id takes its place, so a reply finds it.
            frames[0], frames[1] = frames[1], frames[0]
        if capture is not None:
            # A copy of every message received, sent as libzmq does (blocking, whole).
            capture.send_multipart(frames if prefix is None else [prefix, *frames])
        try:
            send(frames, _NOBLOCK)
        except Again:
            link.held = frames
            return
        _count(stats, link.sent, frames)


class _Terminate(Exception):
    """TERMINATE arrived on the control socket."""


def _steer(control: Socket, state: dict[str, bool], stats: list[int]) -> None:
    """Obey the commands waiting on the control socket, as zmq_proxy_steerable(3) documents
    them: PAUSE stops the transfers, RESUME restarts them, TERMINATE ends the proxy (returning
    0), STATISTICS is answered with the eight counters. A REP control socket answers PAUSE,
    RESUME and TERMINATE (and anything else, so that its peer is not left waiting) with an
    empty message; another kind (PAIR) answers only STATISTICS."""
    replies = control.type == SocketType.REP
    while True:
        try:
            frames = control.recv_multipart(_NOBLOCK)
        except Again:
            return
        command = frames[0]
        if command == b"STATISTICS":
            control.send_multipart([_UINT64.pack(value) for value in stats])
            continue
        if command == b"PAUSE":
            state["paused"] = True
        elif command == b"RESUME":
            state["paused"] = False
        if replies:
            control.send(b"")
        if command == b"TERMINATE":
            raise _Terminate()


def run_proxy(
    frontend: Socket,
    backend: Socket,
    capture: Socket | None = None,
    control: Socket | None = None,
    *,
    prefixes: tuple[bytes | None, bytes | None] = (None, None),
    swap: bool = False,
    poll: Any = zmq_poll,
) -> int:
    """The proxy loop: returns 0 on TERMINATE; raises ContextTerminated (ETERM) when the
    context is terminated, or whatever error a socket raises."""
    links = [_Link(frontend, backend, _FRONT_IN, _BACK_OUT, prefixes[0])]
    if backend is not frontend:  # (The same socket as both: one link, an echo.)
        links.append(_Link(backend, frontend, _BACK_IN, _FRONT_OUT, prefixes[1]))
    stats = [0] * 8
    state = {"paused": False}
    while True:
        masks: dict[int, list[Any]] = {}
        if not state["paused"]:
            for link in links:
                waits = link.blocked or link.held is not None
                sock, event = (link.dst, _POLLOUT) if waits else (link.src, _POLLIN)
                entry = masks.setdefault(id(sock), [sock, 0])
                entry[1] |= event
        if control is not None:
            masks.setdefault(id(control), [control, 0])[1] |= _POLLIN
        ready = {id(sock): events for sock, events in poll([tuple(m) for m in masks.values()])}
        if control is not None and ready.get(id(control), 0) & _POLLIN:
            try:
                _steer(control, state, stats)
            except _Terminate:
                return 0
        if state["paused"]:
            continue
        for link in links:
            if link.blocked or link.held is not None:
                if ready.get(id(link.dst), 0) & _POLLOUT:
                    link.blocked = False
                    _forward(link, capture, swap, stats, _BATCH)
            elif ready.get(id(link.src), 0) & _POLLIN:
                _forward(link, capture, swap, stats, _BATCH)


def proxy(frontend: Socket, backend: Socket, capture: Socket | None = None) -> None:
    """Start a zeromq proxy (zmq_proxy): forward messages between ``frontend`` and
    ``backend``, both ways, whole multipart messages at a time, and send a copy of each to
    ``capture`` if given. Runs in the calling thread until the context is terminated, then
    raises ContextTerminated."""
    check_socket(frontend, "frontend")
    check_socket(backend, "backend")
    check_socket(capture, "capture", optional=True)
    _check_proxied(frontend, backend)
    run_proxy(frontend, backend, capture)


def proxy_steerable(
    frontend: Socket,
    backend: Socket,
    capture: Socket | None = None,
    control: Socket | None = None,
) -> int:
    """A proxy with control flow (zmq_proxy_steerable): as ``proxy``, and commands received on
    ``control`` (a REP or PAIR socket) steer it: PAUSE, RESUME, TERMINATE (the proxy returns 0)
    and STATISTICS (answered with eight frames of uint64: messages and bytes received by the
    frontend, sent by the frontend, received by the backend, sent by the backend)."""
    check_socket(frontend, "frontend")
    check_socket(backend, "backend")
    check_socket(capture, "capture", optional=True)
    check_socket(control, "control", optional=True)
    _check_proxied(frontend, backend)
    return run_proxy(frontend, backend, capture, control)


def device(device_type: int, frontend: Socket, backend: Socket) -> None:
    """Deprecated alias for ``proxy`` (as in libzmq and pyzmq, ``device_type`` is ignored:
    QUEUE, FORWARDER and STREAMER differ only in the sockets given)."""
    proxy(frontend, backend)

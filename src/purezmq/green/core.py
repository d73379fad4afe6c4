"""gevent-cooperative Context and Socket (pyzmq's zmq.green.core).

A blocking call never blocks the thread: it makes non-blocking attempts and, between them, lets
the gevent hub run other greenlets until the socket's FD is readable. purezmq's FD is readable
while the socket's state may have changed (see engine/signaler.py), so the loop is: look at
EVENTS (which clears the FD before looking), and wait on the FD only when EVENTS says not ready:
no change can slip between the look and the wait.
"""

from __future__ import annotations

import time
from typing import Any

import gevent
from gevent.hub import get_hub

from ..constants import Flag, PollEvent, SocketOption
from ..context import Context as _original_Context
from ..error import Again
from ..frame import MessageTracker
from ..socket import Socket as _original_Socket

_NOBLOCK = int(Flag.NOBLOCK)
_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
_READ = 1  # libev's EV_READ
#: The options that bound a blocking call (pyzmq's name).
TIMEOS = (SocketOption.RCVTIMEO, SocketOption.SNDTIMEO)


def _deadline(timeout_ms: int) -> float | None:
    return None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000


class _Socket(_original_Socket):
    """A purezmq Socket whose blocking send, recv and poll yield to other greenlets."""

    def _wait(self, mask: int, deadline: float | None) -> bool:
        """Until the socket has ``mask`` ready (True) or ``deadline`` passes (False)."""
        core = self._core
        while not core.events() & mask:
            if deadline is None:
                remaining = None
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
            watcher = get_hub().loop.io(core.fileno(), _READ)
            try:
                with gevent.Timeout(remaining, False):
                    get_hub().wait(watcher)
            finally:
                watcher.close()
        return True

    def _blocking(self, call: Any, flags: int, mask: int, timeout_option: int) -> Any:
        flags = int(flags)
        if flags & _NOBLOCK:
            return call(flags)
        deadline = _deadline(int(self._core.getsockopt(timeout_option)))
        while True:
            try:
                return call(flags | _NOBLOCK)
            except Again:
                if not self._wait(mask, deadline):
                    raise

    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | bytes | None = None,
    ) -> MessageTracker | None:
        send = super().send
        return self._blocking(
            lambda f: send(data, f, copy, track, routing_id, group),
            flags,
            _POLLOUT,
            SocketOption.SNDTIMEO,
        )

    def send_multipart(
        self,
        msg_parts: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | bytes | None = None,
    ) -> MessageTracker | None:
        if not isinstance(msg_parts, (list, tuple)):
            msg_parts = list(msg_parts)  # (An iterator is read once; attempts may repeat.)
        send_multipart = super().send_multipart
        return self._blocking(
            lambda f: send_multipart(msg_parts, f, copy, track, routing_id, group),
            flags,
            _POLLOUT,
            SocketOption.SNDTIMEO,
        )

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        recv = super().recv
        return self._blocking(lambda f: recv(f, copy, track), flags, _POLLIN, SocketOption.RCVTIMEO)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        recv_multipart = super().recv_multipart
        return self._blocking(
            lambda f: recv_multipart(f, copy, track), flags, _POLLIN, SocketOption.RCVTIMEO
        )

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        recv_into = super().recv_into
        return self._blocking(
            lambda f: recv_into(buffer, nbytes=nbytes, flags=f),
            flags,
            _POLLIN,
            SocketOption.RCVTIMEO,
        )

    def poll(self, timeout: int | None = None, flags: int = _POLLIN) -> int:
        ready = super().poll(0, flags)
        if ready or timeout == 0:
            return ready
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
        self._wait(int(flags), deadline)
        return super().poll(0, flags)


class _Context(_original_Context):
    """A purezmq Context whose sockets are gevent-cooperative (``_Socket``)."""

    _socket_class = _Socket

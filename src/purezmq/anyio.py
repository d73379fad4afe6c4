"""purezmq.anyio: sockets whose calls are awaited under trio, or under asyncio, through anyio.

::

    import anyio, purezmq, purezmq.anyio

    async def main():
        ctx = purezmq.anyio.Context()
        sock = ctx.socket(purezmq.REQ)
        sock.connect("tcp://127.0.0.1:5555")
        await sock.send(b"hello")
        print(await sock.recv())

    anyio.run(main, backend="trio")   # or "asyncio"

The sockets are the blocking engine's (the context's I/O thread carries their connections, as
libzmq's does), awaited natively: an operation is tried at once, and while it cannot complete the
task sleeps on the socket's wake-up descriptor in the event loop. No thread per call.

Cancellation keeps trio's promise: a cancelled ``recv`` has taken no message (the message is
taken only once the wait is over, in a step that cannot be interrupted), a cancelled ``send``
sent all of its message or none of it (a whole message goes to the socket in one step). Every
call is a checkpoint, before it takes or gives anything: it yields to other tasks there, and
raises Cancelled there when cancelled. RCVTIMEO and SNDTIMEO apply (``Again`` when they pass),
as for the blocking sockets.

Needs anyio (``pip install 'purezmq[anyio]'``; trio itself for the trio backend).
"""

from __future__ import annotations

import json
import math
import pickle
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

try:
    import anyio
    import anyio.lowlevel
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError(
        "purezmq.anyio needs anyio: pip install 'purezmq[anyio]' (and trio for its backend)"
    ) from exc

from . import context as _context
from . import socket as _socket
from .constants import Flag, PollEvent
from .constants import SocketOption as Opt
from .error import Again

T = TypeVar("T")

_NOBLOCK = int(Flag.DONTWAIT)
_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
_sync = _socket.Socket


async def _wait_readable(sock: Any, timeout: float) -> bool:
    """Sleep until ``sock`` (the socket's wake-up descriptor) is readable; False on timeout."""
    with anyio.move_on_after(timeout):
        await _wait(sock)
        return True
    return False


#: anyio 4.7 and later wait on any descriptor; earlier ones on socket objects.
_wait = getattr(anyio, "wait_readable", None) or anyio.wait_socket_readable


class Socket(_socket.Socket):
    """A purezmq socket whose sending, receiving and polling are awaited (trio or asyncio)."""

    _repr_cls = "purezmq.anyio.Socket"

    async def _operate(self, event: int, flags: int, operation: Callable[[int], T]) -> T:
        """``operation(flags | DONTWAIT)``, retried each time the socket may be ready for
        ``event``, until it completes or the socket's timeout for ``event`` passes."""
        flags = int(flags)
        # The call's checkpoint, before anything is taken or given: cancelled here, nothing
        # happened; past it, the operation itself never yields until it is done.
        await anyio.lowlevel.checkpoint()
        if flags & _NOBLOCK:
            return operation(flags)
        core = self._core
        option = Opt.RCVTIMEO if event == _POLLIN else Opt.SNDTIMEO
        timeout_ms = core.options.int(option)
        deadline = math.inf if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        while True:
            try:
                return operation(flags | _NOBLOCK)
            except Again:
                pass
            # (events() lets the I/O thread read for us and clears the wake-up flag, so that a
            # change from now on makes the descriptor readable.)
            if core.events() & event:
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await _wait_readable(self._wakeup(), remaining):
                raise Again()

    def _wakeup(self) -> Any:
        """The socket's wake-up descriptor, as a socket object (what anyio waits on)."""
        return self._core.signal.readable_end()

    # -- receiving ------------------------------------------------------------------------------

    async def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        return await self._operate(_POLLIN, flags, lambda f: _sync.recv(self, f, copy, track))

    async def recv_multipart(  # type: ignore[override]
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list[Any]:
        return await self._operate(
            _POLLIN, flags, lambda f: _sync.recv_multipart(self, f, copy, track)
        )

    async def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:  # type: ignore[override]
        return (await self.recv(flags)).decode(encoding)

    async def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        return json.loads((await self.recv(flags)).decode("utf-8"), **kwargs)

    async def recv_pyobj(self, flags: int = 0) -> Any:
        return pickle.loads(await self.recv(flags))

    # -- sending --------------------------------------------------------------------------------

    async def send(  # type: ignore[override]
        self, data: Any, flags: int = 0, copy: bool = True, track: bool = False, **kwargs: Any
    ) -> Any:
        return await self._operate(
            _POLLOUT, flags, lambda f: _sync.send(self, data, f, copy, track, **kwargs)
        )

    async def send_multipart(  # type: ignore[override]
        self,
        msg_parts: Sequence[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs: Any,
    ) -> Any:
        parts = list(msg_parts)  # (An iterator is read once, whatever the retries.)
        return await self._operate(
            _POLLOUT, flags, lambda f: _sync.send_multipart(self, parts, f, copy, track, **kwargs)
        )

    async def send_string(  # type: ignore[override]
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8", **kwargs: Any
    ) -> Any:
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return await self.send(u.encode(encoding), flags, copy, **kwargs)

    async def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> Any:  # type: ignore[override]
        return await self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags)

    async def send_pyobj(  # type: ignore[override]
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL, **kwargs: Any
    ) -> Any:
        return await self.send(pickle.dumps(obj, protocol), flags, **kwargs)

    # -- polling --------------------------------------------------------------------------------

    async def poll(self, timeout: float | None = None, flags: int = _POLLIN) -> int:  # type: ignore[override]
        """The events of ``flags`` the socket is ready for, waiting up to ``timeout`` ms
        (None or a negative number: for ever); 0 when none came in time."""
        await anyio.lowlevel.checkpoint()
        deadline = math.inf if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
        while True:
            ready = self._core.events() & int(flags)
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready
            await _wait_readable(self._wakeup(), remaining)


class Context(_context.Context):
    """A Context whose sockets are purezmq.anyio sockets."""

    _socket_class = Socket


__all__ = ["Context", "Socket"]

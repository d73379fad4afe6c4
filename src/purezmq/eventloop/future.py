"""purezmq.eventloop.future: pyzmq's ``zmq.eventloop.future``, sockets whose calls return futures
for tornado code.

Tornado 6 runs on asyncio, so these are ``purezmq.asyncio``'s sockets in the loop of
``IOLoop.current()``; what differs is the future they return, as in pyzmq: cancelling it (with
``cancel()``, which takes no message) finishes it with this module's ``CancelledError``, an
ordinary ``Exception`` (tornado's old convention), and withdraws the operation (a cancelled recv
takes no message, a cancelled send sends nothing).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, ClassVar

from tornado.ioloop import IOLoop

from .. import asyncio as _asyncio

#: The class of the futures tornado code awaits (asyncio's, since tornado 5).
Future = asyncio.Future


class CancelledError(Exception):
    """What a cancelled future of this module finishes with (not asyncio's CancelledError)."""


class _TornadoFuture(asyncio.Future):
    """A future that a ``cancel()`` finishes with :class:`CancelledError`, and that follows the
    asyncio future of the operation (``_inner``), cancelling it when cancelled itself."""

    _inner: asyncio.Future[Any] | None = None
    _tornado_cancelled = False

    def cancel(self, msg: Any = None) -> bool:
        # (pyzmq's takes no message; a Task awaiting this future passes one when cancelled.)
        if self.done():
            return False
        self._tornado_cancelled = True
        inner = self._inner
        if inner is not None:
            inner.cancel()  # Withdraws the parked operation.
        if not self.done():
            self.set_exception(CancelledError())
        return True

    def cancelled(self) -> bool:
        return self._tornado_cancelled or super().cancelled()


def _follow(outer: _TornadoFuture, inner: asyncio.Future[Any]) -> None:
    if outer.done():
        return
    if inner.cancelled():
        outer._tornado_cancelled = True
        outer.set_exception(CancelledError())
        return
    exc = inner.exception()
    if exc is not None:
        outer.set_exception(exc)
    else:
        outer.set_result(inner.result())


def _tornado_future(inner: Any) -> Any:
    """``inner`` (an asyncio future) as a :class:`_TornadoFuture` that follows it."""
    if isinstance(inner, _TornadoFuture) or not isinstance(inner, asyncio.Future):
        return inner
    outer = _TornadoFuture(loop=inner.get_loop())
    outer._inner = inner
    if inner.done():
        _follow(outer, inner)
    else:
        inner.add_done_callback(functools.partial(_follow, outer))
    return outer


def _returning_tornado_futures(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _tornado_future(method(*args, **kwargs))

    return wrapper


_FUTURE_METHODS = (
    "recv",
    "recv_multipart",
    "recv_string",
    "recv_unicode",
    "recv_json",
    "recv_pyobj",
    "recv_serialized",
    "recv_into",
    "send",
    "send_multipart",
    "send_string",
    "send_unicode",
    "send_json",
    "send_pyobj",
    "send_serialized",
    "poll",
)


class Poller(_asyncio.Poller):
    """A Poller whose ``poll()`` returns a tornado-compatible future."""

    def poll(self, timeout: float | None = -1) -> Any:
        return _tornado_future(super().poll(timeout))


class Socket(_asyncio.Socket):
    """A socket whose send/recv/poll (and variants) return tornado-compatible futures, in the
    loop of ``IOLoop.current()``."""

    _poller_class = Poller


for _name in _FUTURE_METHODS:
    setattr(Socket, _name, _returning_tornado_futures(getattr(_asyncio.Socket, _name)))
del _name


class Context(_asyncio.Context):
    """A Context whose sockets are this module's. ``io_loop`` is accepted, and ignored, as in
    pyzmq: the sockets use the loop that runs them."""

    _instance: ClassVar[Any] = None
    io_loop: ClassVar[Any] = None
    _socket_class = Socket

    def __init__(self, *args: Any, io_loop: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


__all__ = ["CancelledError", "Context", "Future", "IOLoop", "Poller", "Socket"]

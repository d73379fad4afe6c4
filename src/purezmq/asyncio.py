"""purezmq.asyncio: sockets whose send/recv/poll return awaitables, a drop-in for zmq.asyncio.

The engine runs inside the event loop (asyncio transports, no helper thread). Operations return
futures like pyzmq's; one that cannot complete at once waits without holding any message, so a
cancelled recv loses nothing and a cancelled send sends nothing.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import pickle
from collections.abc import Callable, Sequence
from typing import Any

from . import context as _context
from . import poll as _poll
from . import socket as _socket
from .constants import Flag, PollEvent
from .constants import SocketOption as Opt
from .engine.asyncio_core import AsyncSocketCore
from .error import Again, ZMQError

_NOBLOCK = int(Flag.DONTWAIT)
_SNDMORE = int(Flag.SNDMORE)


def _done(
    loop: asyncio.AbstractEventLoop, result: Any = None, exc: BaseException | None = None
) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = loop.create_future()
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
    return future


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


class Socket(_socket.Socket):
    """zmq.asyncio.Socket: send/recv/poll return futures to await."""

    _core_class = AsyncSocketCore
    _core: AsyncSocketCore

    def _attempt(
        self, queue: str, operation: Callable[[], Any], flags: int, timeout_option: int
    ) -> asyncio.Future[Any]:
        core = self._core
        loop = core.ensure_loop()
        try:
            return _done(loop, operation())
        except Again as exc:
            if int(flags) & _NOBLOCK:
                return _done(loop, exc=exc)
        except Exception as exc:  # noqa: BLE001 - delivered through the future, as in pyzmq
            return _done(loop, exc=exc)
        return core.park(queue, operation, core.options.int(timeout_option))

    # -- receiving ----------------------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> asyncio.Future[Any]:
        sync = super().recv
        return self._attempt("recv", lambda: sync(int(flags) | _NOBLOCK, copy), flags, Opt.RCVTIMEO)

    def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> asyncio.Future[Any]:
        sync = super().recv_multipart
        return self._attempt("recv", lambda: sync(int(flags) | _NOBLOCK, copy), flags, Opt.RCVTIMEO)

    async def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        return (await self.recv(flags)).decode(encoding)

    async def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        return json.loads((await self.recv(flags)).decode("utf-8"), **kwargs)

    async def recv_pyobj(self, flags: int = 0) -> Any:
        return pickle.loads(await self.recv(flags))

    async def recv_serialized(
        self, deserialize: Callable[[list[Any]], Any], flags: int = 0, copy: bool = True
    ) -> Any:
        return deserialize(await self.recv_multipart(flags, copy))

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> asyncio.Future[int]:
        sync = super().recv_into
        return self._attempt(
            "recv",
            lambda: sync(buffer, nbytes=nbytes, flags=int(flags) | _NOBLOCK),
            flags,
            Opt.RCVTIMEO,
        )

    # -- sending ------------------------------------------------------------------------------

    def send_multipart(
        self,
        msg_parts: Sequence[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs: Any,
    ) -> asyncio.Future[Any]:
        frames = [_socket._as_bytes(part) for part in msg_parts]
        if not frames:
            raise ValueError("a message needs at least one part")
        if self._send_frames:
            frames = self._send_frames + frames
            object.__setattr__(self, "_send_frames", [])
        core = self._core

        def operation() -> Any:
            core.send_message(frames, _NOBLOCK)
            return _socket._DONE if track else None

        return self._attempt("send", operation, flags, Opt.SNDTIMEO)

    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | None = None,
    ) -> asyncio.Future[Any]:
        if int(flags) & _SNDMORE:  # (int: an IntFlag's & is a Python call.)
            # Frames wait in the socket until the last one; only the whole message is sent.
            self._send_frames.append(_socket._as_bytes(data))
            return _done(self._core.ensure_loop(), _socket._DONE if track else None)
        return self.send_multipart([data], flags, copy, track)

    def send_string(
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8", **kw: Any
    ) -> asyncio.Future[Any]:
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags, copy, **kw)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> asyncio.Future[Any]:
        send_kwargs = {k: kwargs.pop(k) for k in ("copy", "track") if k in kwargs}
        return self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags, **send_kwargs)

    def send_pyobj(
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL, **kw: Any
    ) -> asyncio.Future[Any]:
        return self.send(pickle.dumps(obj, protocol), flags, **kw)

    def send_serialized(
        self,
        msg: Any,
        serialize: Callable[[Any], Sequence[Any]],
        flags: int = 0,
        copy: bool = True,
        **kwargs: Any,
    ) -> asyncio.Future[Any]:
        return self.send_multipart(serialize(msg), flags, copy, **kwargs)

    # -- polling ------------------------------------------------------------------------------

    def poll(
        self, timeout: int | None = None, flags: int = PollEvent.POLLIN
    ) -> asyncio.Future[int]:
        if self.closed:
            raise ZMQError(errno.ENOTSUP)
        core = self._core
        loop = core.ensure_loop()
        future: asyncio.Future[int] = loop.create_future()
        try:
            events = core.events() & flags
        except Exception as exc:  # noqa: BLE001
            future.set_exception(exc)
            return future
        if events or timeout == 0:
            future.set_result(events)
            return future

        def check() -> None:
            if future.done():
                return
            if core.closed:
                future.cancel()
                return
            try:
                ready = core.events() & flags
            except Exception as exc:  # noqa: BLE001
                future.set_exception(exc)
                return
            if ready:
                future.set_result(ready)

        stop = core.watch(check)
        timer = None
        if timeout is not None and timeout > 0:
            timer = loop.call_later(timeout / 1000, _resolve, future, 0)

        def cleanup(_: Any) -> None:
            stop()
            if timer is not None:
                timer.cancel()

        future.add_done_callback(cleanup)
        return future


class Poller(_poll.Poller):
    """zmq.asyncio.Poller: ``await poller.poll(timeout_ms)``."""

    def poll(self, timeout: float | None = None) -> asyncio.Future[list[tuple[Any, int]]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[tuple[Any, int]]] = loop.create_future()
        items = list(self.sockets)

        def check() -> None:
            if future.done():
                return
            try:
                ready = _poll.zmq_poll(items, 0)
            except Exception as exc:  # noqa: BLE001
                future.set_exception(exc)
                return
            if ready:
                future.set_result(ready)

        check()
        if future.done() or timeout == 0:
            if not future.done():
                future.set_result([])
            return future
        stops: list[Callable[[], Any]] = []
        for item, mask in items:
            core = getattr(item, "_core", None)
            if isinstance(core, AsyncSocketCore):
                stops.append(core.watch(check))
            elif core is not None:
                raise TypeError("an asyncio Poller can only watch asyncio sockets and fds")
            else:
                fd = item if isinstance(item, int) else item.fileno()
                if mask & PollEvent.POLLIN:
                    loop.add_reader(fd, check)
                    stops.append(functools.partial(loop.remove_reader, fd))
                if mask & PollEvent.POLLOUT:
                    loop.add_writer(fd, check)
                    stops.append(functools.partial(loop.remove_writer, fd))
        timer = None
        if timeout is not None and timeout > 0:
            timer = loop.call_later(timeout / 1000, _resolve, future, [])

        def cleanup(_: Any) -> None:
            for stop in stops:
                stop()
            if timer is not None:
                timer.cancel()

        future.add_done_callback(cleanup)
        return future


class Context(_context.Context):
    """zmq.asyncio.Context: its sockets are asyncio sockets."""

    _socket_class = Socket


__all__ = ["Context", "Poller", "Socket"]

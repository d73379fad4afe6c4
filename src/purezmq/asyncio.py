"""purezmq.asyncio: sockets whose calls return asyncio Futures, a drop-in for zmq.asyncio.

The engine runs inside the event loop (asyncio transports, no helper thread). Every operation
returns an ``asyncio.Future`` as pyzmq's do (already done when it could complete at once); one
that cannot complete at once waits without holding any message, so a cancelled recv loses
nothing and a cancelled send sends nothing.

As in pyzmq:

- ``Socket.from_socket(sock)``, ``Socket.shadow(sock or sock.underlying)`` and
  ``Context(ctx)``/``Context.shadow(ctx)`` wrap a blocking socket or context: the shadow shares
  its core (its connections, its queues). A blocking socket's connections stay in its context's
  I/O thread; the loop watches its signal descriptor, as pyzmq watches ZMQ_FD.
- ``Poller`` polls asyncio sockets, blocking sockets and file descriptors alike.
- A context outlives event loops: ``asyncio.run`` twice with one context (or
  ``Context.instance()``) works, and so does a socket made outside any loop. The sockets of a
  loop that has ended move to the next loop that uses one of them: listeners serve again, and
  connections, which ended with the old loop, are made again (a connecting socket reconnects
  after RECONNECT_IVL and keeps what it had queued; what was in flight in the old loop's
  transports is lost, as with any broken connection).

``Context.term()`` called in a coroutine: pyzmq's blocks the event loop until every socket is
closed and has flushed its messages (LINGER). purezmq's cannot block the loop its own sockets run
in: it returns at once; pending and later calls raise ContextTerminated; closed sockets flush in
their linger tasks, which ``asyncio.run`` waits for (within LINGER, or by the rules of a program's
exit). Sockets of this loop still open are not waited for (pyzmq's term() would hang forever
there); sockets of other threads are, as usual.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import pickle
import select
from collections.abc import Callable, Sequence
from typing import Any

from . import _single_part
from . import context as _context
from . import poll as _poll
from . import socket as _socket
from .constants import PollEvent
from .constants import SocketOption as Opt
from .engine.asyncio_core import (
    AsyncSocketCore,
    ThreadedCoreDriver,
    driver_for,
    terminate_in_loop,
    waiting,
)
from .engine.socketbase import SocketBase
from .error import Again, ZMQError
from .frame import Frame

_NOBLOCK = 1  # zmq.NOBLOCK / DONTWAIT
_SNDMORE = 2  # zmq.SNDMORE
_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
_POLLERR = int(PollEvent.POLLERR)

# The blocking API's operations, called with NOBLOCK: what the futures run.
_recv = _socket.Socket.recv
_recv_multipart = _socket.Socket.recv_multipart
_recv_into = _socket.Socket.recv_into
_as_bytes = _socket._as_bytes
_as_flags = _socket._as_flags
_running_loop = asyncio._get_running_loop


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _send_parked(send_message: Callable[[Any, int], None], message: Any, result: Any) -> Any:
    send_message(message, _NOBLOCK)
    return result


class Socket(_socket.Socket):
    """zmq.asyncio.Socket: send/recv/poll (and their variants) return asyncio Futures."""

    _core_class = AsyncSocketCore
    _driver: AsyncSocketCore | ThreadedCoreDriver

    def __init__(
        self,
        context: Any = None,
        socket_type: int = -1,
        io_loop: Any = None,
        _from_socket: Any = None,
        **kwargs: Any,
    ) -> None:
        # (io_loop, as pyzmq's, is not needed: a socket serves the loop that uses it.)
        if _from_socket is not None:
            kwargs["shadow"] = _from_socket
        super().__init__(context, socket_type, **kwargs)
        object.__setattr__(self, "_driver", driver_for(self._core))

    @classmethod
    def from_socket(cls, socket: Any, io_loop: Any = None) -> Socket:
        """An asyncio socket over ``socket`` (blocking or not): a shadow, sharing its core."""
        if not isinstance(socket, _socket.Socket):
            raise AttributeError(f"{type(socket).__name__!r} object has no attribute 'underlying'")
        return cls(shadow=socket)

    def close(self, linger: int | None = None) -> None:
        driver = self.__dict__.get("_driver")
        if isinstance(driver, ThreadedCoreDriver):
            driver.closing()
        super().close(linger)

    # -- receiving ----------------------------------------------------------------------------

    def _gone(self, exc: ZMQError) -> None:
        """pyzmq raises (rather than fails the future) a receive on a socket that is closed, or
        whose context was terminated."""
        core = self._core
        runtime = core.runtime
        if core.closed or runtime.terminated or getattr(runtime, "inherited", False):
            raise exc

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> asyncio.Future[Any]:
        return self._receive(flags, functools.partial(_recv, self, copy=copy))

    def _receive(self, flags: Any, operation: Callable[[int], Any]) -> asyncio.Future[Any]:
        """A future for ``operation(flags)`` (which receives, then maybe decodes)."""
        if type(flags) is not int:
            flags = _as_flags(flags)
        driver = self._driver
        future = driver.ensure_loop().create_future()
        # (Behind receives already waiting, it waits its turn: futures complete in call order.)
        if flags & _NOBLOCK or not (driver.recv_waiters and waiting(driver.recv_waiters)):
            try:
                future.set_result(operation(flags | _NOBLOCK))
                return future
            except Again as exc:
                if flags & _NOBLOCK:
                    future.set_exception(exc)
                    return future
            except ZMQError as exc:
                self._gone(exc)
                future.set_exception(exc)
                return future
            except Exception as exc:  # noqa: BLE001 - delivered through the future, as pyzmq
                future.set_exception(exc)
                return future
        parked = functools.partial(operation, _NOBLOCK)
        return driver.park(future, "recv", parked, self._core.options.int(Opt.RCVTIMEO))

    def recv_multipart(
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> asyncio.Future[Any]:
        return self._receive(flags, lambda f: _recv_multipart(self, f, copy))

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> asyncio.Future[Any]:
        return self._receive(flags, lambda f: _recv(self, f).decode(encoding))

    recv_unicode = recv_string

    def recv_json(self, flags: int = 0, **kwargs: Any) -> asyncio.Future[Any]:
        return self._receive(flags, lambda f: json.loads(_recv(self, f).decode("utf-8"), **kwargs))

    def recv_pyobj(self, flags: int = 0) -> asyncio.Future[Any]:
        return self._receive(flags, lambda f: pickle.loads(_recv(self, f)))

    def recv_serialized(
        self, deserialize: Callable[[list[Any]], Any], flags: int = 0, copy: bool = True
    ) -> asyncio.Future[Any]:
        return self._receive(flags, lambda f: deserialize(_recv_multipart(self, f, copy)))

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> asyncio.Future[Any]:
        return self._receive(flags, lambda f: _recv_into(self, buffer, nbytes=nbytes, flags=f))

    # -- sending ------------------------------------------------------------------------------

    def _send_now(
        self, future: asyncio.Future[Any], message: Any, flags: int, result: Any
    ) -> asyncio.Future[Any]:
        send_message = self._send_message
        driver = self._driver
        # (Behind sends already waiting, it waits its turn: messages go in call order.)
        if flags & _NOBLOCK or not (driver.send_waiters and waiting(driver.send_waiters)):
            try:
                send_message(message, flags | _NOBLOCK)
                future.set_result(result)
                return future
            except Again as exc:
                if flags & _NOBLOCK:
                    future.set_exception(exc)
                    return future
            except Exception as exc:  # noqa: BLE001 - delivered through the future, as pyzmq
                future.set_exception(exc)
                return future
        operation = functools.partial(_send_parked, send_message, message, result)
        return driver.park(future, "send", operation, self._core.options.int(Opt.SNDTIMEO))

    def _first_frame(self, frame: bytes) -> None:
        """The first frame of a message (SNDMORE): what pyzmq's send would refuse at once."""
        core = self._core
        core.check_open()
        if not core.routing.sends:
            raise ZMQError(errno.ENOTSUP)
        core.routing.check_send_state()
        judge = getattr(core.routing, "first_frame", None)
        if judge is not None:  # A STREAM's peer id: EHOSTUNREACH when no connection has it.
            if core.mailbox:
                core.process_mailbox()
            judge(frame)  # (A full peer: the whole message waits, when it is sent.)

    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | bytes | None = None,
    ) -> asyncio.Future[Any]:
        if type(flags) is not int:
            flags = _as_flags(flags)
        future = self._driver.ensure_loop().create_future()
        try:
            if type(data) is bytes:
                frame = data
                result = None if copy else self._result(data, frame, copy, track)
            else:
                frame = _as_bytes(data)
                result = self._result(data, frame, copy, track)
                if self._tag and isinstance(data, Frame):
                    routing_id, group = _single_part.addressed(data, routing_id, group)
            if self._tag is not None:
                single = _single_part.outgoing(self._tag, frame, flags, routing_id, group)
                return self._send_now(future, single, flags, result)
            frames = self._send_frames
            if flags & _SNDMORE:
                # Frames wait in the socket until the last one; the whole message is sent then.
                if not frames:
                    self._first_frame(frame)
                frames.append(frame)
                future.set_result(result)
                return future
            if frames:
                frames.append(frame)
                object.__setattr__(self, "_send_frames", [])
                message: Any = frames
            else:
                message = frame if self._sends_bodies else [frame]
        except Exception as exc:  # noqa: BLE001 - delivered through the future, as in pyzmq
            future.set_exception(exc)
            return future
        return self._send_now(future, message, flags, result)

    def send_multipart(
        self,
        msg_parts: Sequence[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs: Any,
    ) -> asyncio.Future[Any]:
        if type(flags) is not int:
            flags = _as_flags(flags)
        future = self._driver.ensure_loop().create_future()
        try:
            frames, result = self._frames_of(msg_parts, copy, track)
            if self._send_frames:
                frames = self._send_frames + frames
                object.__setattr__(self, "_send_frames", [])
            message: Any = frames
            if self._tag is not None:
                message = _single_part.outgoing_parts(
                    self._tag, msg_parts, frames, 0, kwargs.get("routing_id"), kwargs.get("group")
                )
        except Exception as exc:  # noqa: BLE001 - delivered through the future, as in pyzmq
            future.set_exception(exc)
            return future
        return self._send_now(future, message, flags & ~_SNDMORE, result)

    def send_string(
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8", **kw: Any
    ) -> asyncio.Future[Any]:
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags, copy, **kw)

    send_unicode = send_string

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> asyncio.Future[Any]:
        send_kwargs = {
            k: kwargs.pop(k) for k in ("copy", "track", "routing_id", "group") if k in kwargs
        }
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
        if timeout is not None and not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout must be a number of milliseconds, not {timeout!r}")
        mask = int(flags)
        driver = self._driver
        loop = driver.ensure_loop()
        future: asyncio.Future[int] = loop.create_future()
        core = self._core
        try:
            core.check_open()
        except ZMQError as exc:
            if timeout != 0:
                raise  # (As pyzmq: raised, except for poll(0), whose future fails.)
            future.set_exception(exc)
            return future
        events = core.events() & mask
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
                core.check_open()
                ready = core.events() & mask
            except Exception as exc:  # noqa: BLE001
                future.set_exception(exc)
                return
            if ready:
                future.set_result(ready)

        stop = driver.watch(check)
        timer = None
        if timeout is not None and timeout > 0:
            timer = loop.call_later(timeout / 1000, _resolve, future, 0)

        def cleanup(_: Any) -> None:
            stop()
            if timer is not None:
                timer.cancel()

        future.add_done_callback(cleanup)
        return future


def _fd_of(item: Any) -> int:
    if isinstance(item, int) and not isinstance(item, bool):
        fd = item
    else:
        fileno = getattr(item, "fileno", None)
        fd = fileno() if callable(fileno) else None
        if not isinstance(fd, int):
            raise ValueError(f"Invalid file object: {item!r}")
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    return fd


#: A Poller's item: (what was registered, its mask, its core if a purezmq socket, else its fd).
_Item = tuple[Any, int, "SocketBase | None", int]


def _poll_items(sockets: list[tuple[Any, int]]) -> list[_Item]:
    items: list[_Item] = []
    for item, mask in sockets:
        core = None if isinstance(item, int) else getattr(item, "_core", None)
        if isinstance(core, SocketBase):
            items.append((item, int(mask), core, -1))
        else:
            items.append((item, int(mask), None, _fd_of(item)))
    return items


def _ready(items: list[_Item]) -> list[tuple[Any, int]]:
    """What is ready now, as pyzmq reports it (a file descriptor by its number)."""
    found: list[tuple[Any, int]] = []
    raw: list[tuple[int, int]] = []
    for item, mask, core, fd in items:
        if core is not None:
            core.check_open()
            events = core.events() & mask
            if events:
                found.append((item, events))
        else:
            raw.append((fd, mask))
    if raw:
        poller = select.poll()
        masks: dict[int, int] = {}
        for fd, mask in raw:
            masks[fd] = masks.get(fd, 0) | mask
        for fd, mask in masks.items():
            poller.register(
                fd,
                (select.POLLIN if mask & _POLLIN else 0)
                | (select.POLLOUT if mask & _POLLOUT else 0),
            )
        for fd, revents in poller.poll(0):
            events = 0
            if revents & (select.POLLIN | select.POLLHUP):
                events |= _POLLIN
            if revents & select.POLLOUT:
                events |= _POLLOUT
            if revents & (select.POLLERR | select.POLLNVAL):
                events |= _POLLERR
            events &= masks[fd] | _POLLERR
            if events:
                found.append((fd, events))
    return found


class Poller(_poll.Poller):
    """zmq.asyncio.Poller: ``await poller.poll(timeout_ms)`` -> [(socket or fd, events)], over
    asyncio sockets, blocking sockets and file descriptors (or objects with ``fileno()``)."""

    def poll(self, timeout: float | None = -1) -> asyncio.Future[list[tuple[Any, int]]]:
        if timeout is None:
            timeout = -1
        if not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout must be a number of milliseconds, not {timeout!r}")
        loop = asyncio.get_running_loop()
        items = _poll_items(self.sockets)
        future: asyncio.Future[list[tuple[Any, int]]] = loop.create_future()
        ready = _ready(items)  # (Errors -- a closed socket, a terminated context -- raised.)
        if ready or timeout == 0:
            future.set_result(ready)
            return future

        def check() -> None:
            if future.done():
                return
            try:
                found = _ready(items)
            except Exception as exc:  # noqa: BLE001
                future.set_exception(exc)
                return
            if found:
                future.set_result(found)

        stops: list[Callable[[], Any]] = []
        try:
            for _, mask, core, fd in items:
                if core is not None:
                    driver = driver_for(core)
                    driver.ensure_loop()
                    stops.append(driver.watch(check))
                    continue
                if mask & _POLLIN:
                    loop.add_reader(fd, check)
                    stops.append(functools.partial(loop.remove_reader, fd))
                if mask & _POLLOUT:
                    loop.add_writer(fd, check)
                    stops.append(functools.partial(loop.remove_writer, fd))
        except BaseException:
            for stop in stops:
                stop()
            raise
        timer = None
        if timeout > 0:
            timer = loop.call_later(timeout / 1000, _resolve, future, [])

        def cleanup(_: Any) -> None:
            for stop in stops:
                stop()
            if timer is not None:
                timer.cancel()

        future.add_done_callback(cleanup)
        return future


class Context(_context.Context):
    """zmq.asyncio.Context: its sockets are asyncio sockets. ``Context(ctx)``,
    ``Context(shadow=ctx)`` and ``Context.shadow(ctx or ctx.underlying)`` share ``ctx``'s
    sockets, inproc names and termination (see purezmq.Context)."""

    _socket_class = Socket

    def term(self) -> None:
        """Terminate; in a coroutine, without blocking the loop (see the module's help)."""
        if self.closed:
            return
        loop = _running_loop()
        if loop is None:
            super().term()
            return
        terminate_in_loop(self._runtime, loop)
        object.__setattr__(self, "_closed", True)


__all__ = ["Context", "Poller", "Socket"]

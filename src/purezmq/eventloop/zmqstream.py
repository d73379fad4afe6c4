"""purezmq.eventloop.zmqstream: ``ZMQStream``, pyzmq's callback interface to a socket in a
tornado IOLoop (tornado 6, so any asyncio loop).

Instead of calling ``recv()``, register ``on_recv(callback)``: the loop calls it with each message
(a list of bytes, or of Frames with ``copy=False``). ``send*()`` queue the message; the loop sends
it when the socket can, then calls the ``on_send`` callback with ``(message, status)``.

How the loop learns about the socket: it watches the socket's FD (``getsockopt(FD)``) for reading.
That descriptor, in libzmq and in purezmq, is edge-triggered: it tells that *something changed*,
and reading EVENTS resets it. So each wake-up reads EVENTS and does the work it shows (a message
received, one sent) *while* EVENTS says so; the stream waits on the descriptor again only after
an EVENTS read that showed nothing it wants. Messages that arrived together with a single wake-up
are all delivered. To stay fair to other handlers of the loop, one wake-up handles a bounded
number of messages and schedules the rest as a loop callback.

Callbacks run in the loop's thread. An exception raised by one is logged (``tornado.general``:
"Uncaught exception in ZMQStream callback") and the stream goes on with the next message; a
callback may be a coroutine function (its errors are logged too). Like any ZeroMQ socket, a stream
is not thread-safe: use it from its loop's thread.
"""

from __future__ import annotations

import asyncio
import errno
import pickle
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from inspect import isawaitable
from typing import Any

from tornado.ioloop import IOLoop
from tornado.log import gen_log

from .. import asyncio as _asyncio
from ..constants import Errno, PollEvent
from ..constants import SocketOption as Opt
from ..error import Again, ZMQError
from ..poll import Poller
from ..socket import Socket
from ..utils import jsonapi

POLLIN = int(PollEvent.POLLIN)
POLLOUT = int(PollEvent.POLLOUT)
_NOBLOCK = 1  # zmq.NOBLOCK
_EVENTS = int(Opt.EVENTS)
_FD = int(Opt.FD)

#: Messages (received or sent) handled in one pass before the rest is left to the next
#: iteration of the loop (other handlers run in between).
_BATCH = 16

#: The socket's methods a stream offers itself (pyzmq's: ``stream.bind(...)``...).
_SOCKET_METHODS = (
    "bind",
    "bind_to_random_port",
    "connect",
    "setsockopt",
    "getsockopt",
    "setsockopt_string",
    "getsockopt_string",
    "setsockopt_unicode",
    "getsockopt_unicode",
)

#: Errors of a socket that is gone (closed, or its context terminated).
_GONE = (errno.ENOTSOCK, int(Errno.ETERM))


class ZMQStream:
    """A socket's messages as callbacks in a tornado IOLoop (``IOLoop.current()`` by default).

    ``stream.on_recv(callback)``: ``callback(msg)`` for each message received, ``msg`` a list of
    bytes (of Frames with ``copy=False``). ``stream.send(...)``/``send_multipart(...)``: queued,
    sent from the loop; ``on_send(callback)``: ``callback(msg, status)`` after each send
    (``status``: the MessageTracker or None that the socket's send returned, or the ZMQError it
    raised). ``stream.close()`` closes the socket; ``set_close_callback`` is told.

    The socket must be a blocking socket (``purezmq.Socket``); an asyncio socket is wrapped in a
    blocking shadow of itself, with a warning, as pyzmq does.
    """

    socket: Socket | None
    io_loop: IOLoop
    poller: Poller

    def __init__(self, socket: Socket, io_loop: IOLoop | None = None) -> None:
        if isinstance(socket, _asyncio.Socket):
            warnings.warn(
                "ZMQStream only supports the base zmq.Socket class: use "
                "zmq.Socket(shadow=other_socket), or ctx.socket(zmq.PAIR, socket_class=zmq.Socket) "
                "to make a base zmq.Socket whatever the kind of its Context",
                RuntimeWarning,
                stacklevel=2,
            )
            socket = Socket(shadow=socket)
        self.socket = socket
        self.io_loop = io_loop or IOLoop.current()
        self.poller = Poller()  # (pyzmq's attribute; unused here.)
        self._send_queue: deque[tuple[Any, dict[str, Any]]] = deque()
        self._recv_callback: Callable[[list[Any]], Any] | None = None
        self._send_callback: Callable[..., Any] | None = None
        self._close_callback: Callable[[], Any] | None = None
        self._recv_copy = True
        self._scheduled = False  # A pass is scheduled as a loop callback.
        self._fd: int = socket.getsockopt(_FD)
        for name in _SOCKET_METHODS:
            setattr(self, name, getattr(socket, name))
        # The socket itself is the loop's file object (its fileno() is FD): the loop's
        # close(all_fds=True) closes the socket, as ipykernel's threads expect at exit.
        self.io_loop.add_handler(socket, self._handle_events, IOLoop.READ)
        # Whatever is ready already (the descriptor may have fired before it was watched).
        self._schedule()

    # -- callbacks ------------------------------------------------------------------------------

    def on_recv(self, callback: Callable[[list[Any]], Any] | None, copy: bool = True) -> None:
        """Call ``callback(msg)`` for each message received (None: stop). ``copy=False``: the
        message is a list of Frames rather than of bytes."""
        self._check_closed()
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, not {callback!r}")
        self._recv_callback = callback
        self._recv_copy = copy
        if callback is not None:
            self._schedule()  # Messages that wait already.

    def on_recv_stream(
        self, callback: Callable[[ZMQStream, list[Any]], Any] | None, copy: bool = True
    ) -> None:
        """As ``on_recv``, the callback called as ``callback(stream, msg)``."""
        if callback is None:
            self.stop_on_recv()
            return
        self.on_recv(lambda msg: callback(self, msg), copy=copy)

    def on_send(self, callback: Callable[[Any, Any], Any] | None) -> None:
        """Call ``callback(msg, status)`` after each message sent (None: stop): ``msg`` as it
        was given to ``send_multipart`` (``[msg]`` for ``send``), ``status`` what the socket's
        ``send_multipart`` returned (a MessageTracker or None) or the ZMQError it raised."""
        self._check_closed()
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, not {callback!r}")
        self._send_callback = callback

    def on_send_stream(self, callback: Callable[[ZMQStream, Any, Any], Any] | None) -> None:
        """As ``on_send``, the callback called as ``callback(stream, msg, status)``."""
        if callback is None:
            self.stop_on_send()
            return
        self.on_send(lambda msg, status: callback(self, msg, status))

    def on_err(self, callback: Callable[..., Any]) -> None:
        """Deprecated (as in pyzmq): does nothing but log a warning."""
        gen_log.warning("on_err does nothing, and will be removed")

    def stop_on_recv(self) -> None:
        """Stop calling the receive callback: messages stay in the socket."""
        self.on_recv(None)

    def stop_on_send(self) -> None:
        """Stop calling the send callback (queued messages are still sent)."""
        self.on_send(None)

    def stop_on_err(self) -> None:
        """Deprecated (as in pyzmq): does nothing but log a warning."""
        gen_log.warning("on_err does nothing, and will be removed")

    def set_close_callback(self, callback: Callable[[], Any] | None) -> None:
        """Call ``callback()`` when the stream closes."""
        self._close_callback = callback

    # -- sending --------------------------------------------------------------------------------

    def send(
        self,
        msg: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        callback: Callable[[Any, Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue a one-part message (see ``send_multipart``)."""
        self.send_multipart([msg], flags=flags, copy=copy, track=track, callback=callback, **kwargs)

    def send_multipart(
        self,
        msg: Sequence[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        callback: Callable[[Any, Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue a message, sent from the loop when the socket can send. ``callback`` given, it
        becomes the stream's send callback (as ``on_send``, as in pyzmq)."""
        self._check_closed()
        kwargs.update(flags=flags, copy=copy, track=track)
        self._send_queue.append((msg, kwargs))
        if callback is not None:
            self.on_send(callback)
        self._schedule()

    def send_string(
        self,
        u: str,
        flags: int = 0,
        encoding: str = "utf-8",
        callback: Callable[[Any, Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue ``u`` encoded (utf-8 by default)."""
        if not isinstance(u, str):
            raise TypeError("unicode/str objects only")
        self.send(u.encode(encoding), flags=flags, callback=callback, **kwargs)

    send_unicode = send_string

    def send_json(
        self,
        obj: Any,
        flags: int = 0,
        callback: Callable[[Any, Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue ``obj`` as JSON (``kwargs`` go to the JSON encoder)."""
        self.send(jsonapi.dumps(obj, **kwargs), flags=flags, callback=callback)

    def send_pyobj(
        self,
        obj: Any,
        flags: int = 0,
        protocol: int = -1,
        callback: Callable[[Any, Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue ``obj`` pickled (with ``protocol``, the highest by default)."""
        self.send(pickle.dumps(obj, protocol), flags=flags, callback=callback, **kwargs)

    # -- state ----------------------------------------------------------------------------------

    def receiving(self) -> bool:
        """Whether a receive callback is registered."""
        return self._recv_callback is not None

    def sending(self) -> bool:
        """Whether messages wait in the send queue."""
        return bool(self._send_queue)

    def closed(self) -> bool:
        """Whether the stream is closed (its socket closed, by it or directly)."""
        if self.socket is None:
            return True
        if self.socket.closed:
            self.close()  # Closed under us: unregister, and tell the close callback.
            return True
        return False

    def flush(self, flag: int = POLLIN | POLLOUT, limit: int | None = None) -> int:
        """Handle what is pending now, without waiting for the loop: messages received (given to
        the receive callback, or dropped when there is none) with POLLIN in ``flag``, queued
        messages sent with POLLOUT. Stops when nothing of ``flag`` is ready, or after ``limit``
        messages; returns how many were handled."""
        self._check_closed()
        count = 0
        while limit is None or count < limit:
            sock = self.socket
            if sock is None:
                break
            wanted = flag & POLLIN
            if flag & POLLOUT and self._send_queue:
                wanted |= POLLOUT
            if not wanted:
                break
            ready = self._events(sock) & wanted
            if not ready:
                break
            if ready & POLLIN:
                count += 1
                self._handle_recv(sock)
            if ready & POLLOUT and self.socket is not None and (limit is None or count < limit):
                count += 1
                self._handle_send(self.socket)
        if self.socket is not None:
            self._schedule()  # (An EVENTS read may have taken a wake-up the loop needs.)
        return count

    def close(self, linger: int | None = None) -> None:
        """Stop watching the socket, close it (with ``linger``), call the close callback."""
        sock = self.socket
        if sock is None:
            return
        if sock.closed:
            warnings.warn(
                f"Unregistering FD {self._fd} after its socket was closed: the descriptor may "
                "belong to something else by now. Close the stream (stream.close()) rather than "
                "its socket",
                UserWarning,
                stacklevel=2,
            )
        try:
            # By the descriptor: the socket's fileno() fails once it is closed or its context
            # terminated (the loop knows the handler by the number anyway).
            self.io_loop.remove_handler(self._fd)
        except (OSError, ValueError, KeyError):
            pass  # (The descriptor is gone with the socket.)
        if not sock.closed:
            sock.close(linger)
        self.socket = None
        callback = self._close_callback
        if callback is not None:
            self._run_callback(callback)

    # -- the loop's side ------------------------------------------------------------------------

    def _check_closed(self) -> None:
        if self.socket is None:
            raise OSError("Stream is closed")

    def _wanted(self) -> int:
        wanted = POLLIN if self._recv_callback is not None else 0
        if self._send_queue:
            wanted |= POLLOUT
        return wanted

    def _events(self, sock: Socket) -> int:
        """EVENTS (which resets the descriptor's notification); 0 once the socket is gone."""
        try:
            return int(sock.getsockopt(_EVENTS))
        except ZMQError as exc:
            if sock.closed or exc.errno in _GONE:
                self._socket_gone(exc)
                return 0
            raise

    def _socket_gone(self, exc: ZMQError | None = None) -> None:
        """The socket was closed under the stream, or its context terminated (pyzmq's stream
        only logs the latter, and its term() waits for a close that nobody makes): close."""
        if self.socket is None:
            return
        if exc is not None and exc.errno == Errno.ETERM:
            gen_log.warning("Got events for stream %r after terminating context: closing", self)
        else:
            gen_log.warning(
                "Got events for stream %r attached to closed socket: %s", self, exc or "closed"
            )
        self.close()

    def _schedule(self) -> None:
        """Look at EVENTS again soon, from the loop (a pass as a loop callback)."""
        if not self._scheduled and self.socket is not None:
            self._scheduled = True
            self.io_loop.add_callback(self._scheduled_pass)

    def _scheduled_pass(self) -> None:
        self._scheduled = False
        self._pass()

    def _handle_events(self, fd: Any, events: int) -> None:
        """The socket's descriptor is readable: something changed."""
        self._pass()

    def _pass(self) -> None:
        """Handle what EVENTS shows, until it shows nothing wanted (then the descriptor will tell
        the next change) or the batch is done (then the next pass is scheduled)."""
        budget = _BATCH
        while True:
            sock = self.socket
            if sock is None:
                return
            if sock.closed:
                self._socket_gone()
                return
            wanted = self._wanted()
            if not wanted:
                # Still read EVENTS: the descriptor fires again only after a read of EVENTS.
                self._events(sock)
                return
            ready = self._events(sock) & wanted
            if not ready:
                return
            if budget <= 0:
                self._schedule()
                return
            budget -= 1
            if ready & POLLIN:
                self._handle_recv(sock)
            if ready & POLLOUT and self.socket is not None and self._send_queue:
                self._handle_send(self.socket)

    def _handle_recv(self, sock: Socket) -> None:
        try:
            msg = sock.recv_multipart(_NOBLOCK, copy=self._recv_copy)
        except Again:
            return
        except ZMQError as exc:
            if sock.closed or exc.errno in _GONE:
                self._socket_gone(exc)
                return
            gen_log.error("RECV Error: %s", exc)
            return
        callback = self._recv_callback
        if callback is not None:
            self._run_callback(callback, msg)

    def _handle_send(self, sock: Socket) -> None:
        msg, kwargs = self._send_queue.popleft()
        status: Any
        try:
            status = sock.send_multipart(msg, **kwargs)
        except ZMQError as exc:
            gen_log.error("SEND Error: %s", exc)
            status = exc
            if sock.closed or exc.errno in _GONE:
                self._socket_gone(exc)
        callback = self._send_callback
        if callback is not None:
            self._run_callback(callback, msg, status)

    def _run_callback(self, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback``; an exception is logged and the stream goes on. A coroutine's is
        scheduled in the loop, its exception logged when it ends."""
        try:
            result = callback(*args)
        except Exception:
            gen_log.error("Uncaught exception in ZMQStream callback", exc_info=True)
            return
        if isawaitable(result):
            future = asyncio.ensure_future(result)
            future.add_done_callback(_log_error)


def _log_error(future: Any) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        gen_log.error(
            "Uncaught exception in ZMQStream callback", exc_info=(type(exc), exc, exc.__traceback__)
        )


__all__ = ["ZMQStream"]

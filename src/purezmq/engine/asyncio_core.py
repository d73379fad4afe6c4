"""The socket core for asyncio: sessions run in the event loop itself, with no helper thread.

Waiting is done with futures: an operation that cannot complete now parks a waiter, and the
socket's signal (set by pipes and sessions, possibly from another thread) wakes the loop to retry
the parked operations in order. An operation either completes whole inside one retry or leaves
everything as it was, which is what makes cancellation safe.

Two kinds of core serve ``purezmq.asyncio`` sockets, behind the same three calls (``ensure_loop``,
``park``, ``watch``; see ``driver_for``):

- ``AsyncSocketCore``, the core of a socket made by an asyncio context: its tcp/ipc connections
  are the event loop's own transports, and its signal schedules the retries on the loop;
- ``ThreadedCoreDriver``, for a blocking socket's core (an asyncio shadow of a blocking socket,
  or a blocking socket in an asyncio ``Poller``): its sessions stay in the context's I/O thread,
  and the loop watches the core's signal as a file descriptor (``add_reader``), as pyzmq watches
  ``ZMQ_FD``.

A core belongs to the event loop that uses it. When that loop has ended (``asyncio.run`` returned)
and another uses the socket, the core moves: parked operations of the old loop are forgotten,
its listeners serve again in the new loop, and its connections, cut with the old loop, are
re-established there (a connecter reconnects after RECONNECT_IVL and keeps what was queued).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from ..error import Again, ZMQError
from ..transport import address as addr
from ..transport.aio import AsyncConnecter, AsyncListener
from ..transport.stream import listening_socket
from .lingering import ExitFlush
from .runtime import Runtime
from .signaler import Signaler
from .socketbase import SocketBase

log = logging.getLogger("purezmq")

Operation = Callable[[], Any]

#: How often a closed socket's linger task looks at its sessions.
_LOOK_EVERY = 0.01

#: The running loop of this thread, or None (the C accelerated function, no exception).
_running_loop = asyncio._get_running_loop


class AsyncSignaler(Signaler):
    """A Signaler that also schedules its socket's waiter service on the event loop."""

    def __init__(self, core: AsyncSocketCore) -> None:
        super().__init__()
        self._core = core

    def set(self) -> None:
        if self._set:
            return
        super().set()
        self._core.wake()


class _Waiter:
    __slots__ = ("future", "operation")

    def __init__(self, future: asyncio.Future[Any], operation: Operation) -> None:
        self.future = future
        self.operation = operation


class _Parking:
    """The operations parked until their socket can do them, and the pollers watching it: served
    in order, in the event loop, whenever the socket's signal says that something changed."""

    recv_waiters: deque[_Waiter]
    send_waiters: deque[_Waiter]
    _watchers: list[Callable[[], None]]

    def _init_parking(self) -> None:
        self.recv_waiters = deque()
        self.send_waiters = deque()
        self._watchers = []

    def ensure_loop(self) -> asyncio.AbstractEventLoop:
        raise NotImplementedError

    def _parked(self) -> None:
        """A waiter or a watcher was added: make sure that the next change wakes the loop."""

    def park(
        self, future: asyncio.Future[Any], queue: str, operation: Operation, timeout_ms: int
    ) -> asyncio.Future[Any]:
        """Complete ``future`` with ``operation()`` once it stops raising Again (Again itself
        after ``timeout_ms``, when that is not negative). The caller has just tried it."""
        if timeout_ms >= 0:
            timer = future.get_loop().call_later(timeout_ms / 1000, _expire, future)
            future.add_done_callback(lambda _: timer.cancel())
        (self.recv_waiters if queue == "recv" else self.send_waiters).append(
            _Waiter(future, operation)
        )
        # No wake-up to look again: the failed attempt cleared the signal before it looked, so
        # whatever changed since has set it, and that schedules the retry.
        self._parked()
        return future

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (in the loop) after every change until the returned function is
        called. The caller looks at the state itself first: only later changes are reported."""
        self._watchers.append(callback)
        self._parked()
        watchers = self._watchers

        def stop() -> None:
            if callback in watchers:
                watchers.remove(callback)

        return stop

    def _serve_waiters(self) -> None:
        progress = True
        while progress:
            progress = _run(self.recv_waiters) | _run(self.send_waiters)
        for callback in list(self._watchers):
            callback()

    def _has_waiters(self) -> bool:
        return bool(self.recv_waiters or self.send_waiters or self._watchers)

    def cancel_waiters(self, exc: BaseException | None = None) -> None:
        """Cancel every parked operation (or fail it with ``exc``); pollers look once more."""
        for queue in (self.recv_waiters, self.send_waiters):
            while queue:
                future = queue.popleft().future
                if not future.done():
                    if exc is None:
                        future.cancel()
                    else:
                        future.set_exception(exc)
        for callback in list(self._watchers):
            callback()

    def _forget_waiters(self) -> None:
        """The loop of the parked operations is gone: nobody can await them any more."""
        for queue in (self.recv_waiters, self.send_waiters):
            while queue:
                future = queue.popleft().future
                try:
                    future.cancel()
                except RuntimeError:  # (Its loop is closed: cancelling schedules callbacks.)
                    pass
        self._watchers.clear()


class AsyncSocketCore(SocketBase, _Parking):
    listener_class = AsyncListener
    connecter_class = AsyncConnecter
    linger_in_term = False
    fans_out_in_batches = False  # (Its sessions run in the event loop; a PUB writes its pipes.)

    def __init__(self, runtime: Runtime, socket_type: int) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._pending_starts: list[Any] = []
        self._init_parking()
        self._wake_scheduled = False
        super().__init__(runtime, socket_type)
        self.signal = AsyncSignaler(self)
        _cores.add(self)
        loop = _running_loop()
        if loop is not None:
            self._bind_loop(loop)
        # (Else created outside a running loop: bound at first use inside one.)

    # -- the loop ------------------------------------------------------------------------------

    def _bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        old = self._loop
        self._rebind(loop)
        if old is not None and old is not loop:
            # The sockets that the old loop served move together: a peer in this process that
            # is not used in the new loop yet must still answer (its connections, too, ended).
            for core in list(_cores):
                if core._loop is old:
                    core._rebind(loop)

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        old = self._loop
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._wake_scheduled = False  # (One scheduled on a loop that ended never ran.)
        if old is not None and old is not loop:
            self._forget_waiters()
            if not self.closed:
                self._move_connections()
        pending, self._pending_starts = self._pending_starts, []
        for handle in pending:
            handle.start()
        if self.signal.is_set() or self.mailbox:
            self.wake()

    def ensure_loop(self) -> asyncio.AbstractEventLoop:
        """The loop to serve this call in: the running one (moving there when the socket's
        own loop has ended or is idle), or the socket's loop outside any loop."""
        loop = self._loop
        running = _running_loop()
        if running is loop and loop is not None:
            return loop
        if running is None:
            if loop is None or loop.is_closed():
                raise RuntimeError("no running event loop")
            return loop
        if loop is None or loop.is_closed() or not loop.is_running():
            self._bind_loop(running)
            return running
        return loop  # (Its loop runs in another thread: sockets are not thread-safe anyway.)

    @property
    def io_loop(self) -> Any:
        if self._loop is None:
            return self.ensure_loop()
        return self._loop

    def served_in(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether only ``loop``'s thread can still close this socket (term() must not wait)."""
        own = self._loop
        return not self.closed and (own is None or own is loop or not own.is_running())

    def start_handle(self, handle: Any) -> None:
        if self._loop is None:
            loop = _running_loop()
            if loop is None:
                self._pending_starts.append(handle)
                return
            self._bind_loop(loop)
        handle.start()

    def _move_connections(self) -> None:
        """After a change of loop: the connections made in the old one are cut (nothing runs
        them now); listeners serve again and connecters reconnect in the new one."""
        seen: set[int] = set()
        for handles in list(self.endpoints.values()):
            for handle in handles:
                if id(handle) in seen:
                    continue
                seen.add(id(handle))
                if handle.role == "listener":
                    self._listen_again(handle)
                elif handle.role == "connecter":
                    self._connect_again(handle)

    def _listen_again(self, listener: Any) -> None:
        for session in list(listener.sessions):
            if session.engine is not None:
                _cut(session.engine)
        if listener.closed:
            return
        if listener.sock.fileno() == -1:  # uvloop closes a server's socket with its loop.
            try:
                parsed = addr.parse_endpoint(listener.endpoint)
                sock, _, _ = listening_socket(listener.endpoint, parsed, self.options)
            except ZMQError as exc:
                log.warning("purezmq: cannot listen on %s again: %s", listener.endpoint, exc)
                return
            sock.setblocking(False)
            listener.sock = sock
        listener._server = None  # (The old loop's server: a close now must not touch it.)
        listener.start()

    def _connect_again(self, connecter: Any) -> None:
        session = connecter.session
        if session.engine is not None:
            _cut(session.engine)  # The session reconnects, as after any lost connection.
        elif not (connecter.stopped or session.closing):
            connecter.start()  # Its attempt (or its retry timer) ended with the old loop.

    def _wait_reading(self, deadline: float | None) -> None:
        # Never a direct read here: the event loop reads every connection (and the operations
        # that land here never wait, they raise Again and are parked).
        self._wait(deadline)

    def io_inline(self) -> bool:
        loop = self._loop
        return loop is not None and threading.get_ident() == self._loop_thread and loop.is_running()

    def schedule_io(self, callback: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            loop.call_soon(callback)
        else:
            loop.call_soon_threadsafe(callback)

    def wake(self) -> None:
        """Retry the parked operations soon (from any thread)."""
        if self._wake_scheduled or self._loop is None:
            return
        self._wake_scheduled = True
        try:
            self.schedule_io(self._service)
        except RuntimeError:  # The loop is closed.
            self._wake_scheduled = False

    # -- parked operations ----------------------------------------------------------------------

    def _service(self) -> None:
        self._wake_scheduled = False
        self.signal.clear()
        if self.mailbox:
            self.process_mailbox()
        self._serve_waiters()

    def close(self, linger_ms: int | None = None) -> None:
        if self.closed:
            return
        loop = self._loop
        if loop is not None and (loop.is_closed() or not loop.is_running()):
            running = _running_loop()
            if running is not None:
                self._bind_loop(running)  # Closed in a later loop: flush from there.
                loop = running
            elif loop.is_closed():
                # Its connections ended with its loop, and no loop runs to flush anything.
                _abort_transports(self.sessions)
                linger_ms = 0
        super().close(linger_ms)
        if loop is not None and not loop.is_closed():
            self.cancel_waiters()
            if self.sessions and loop.is_running() and self._loop_thread == threading.get_ident():
                _keep(loop.create_task(_linger(list(self.sessions)), name="purezmq linger"))


class ThreadedCoreDriver(_Parking):
    """asyncio operations on a blocking socket's core (whose sessions run in the I/O thread):
    the loop watches the core's signal descriptor while something is parked or watched."""

    def __init__(self, core: SocketBase) -> None:
        self._core = weakref.ref(core)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fd = -1
        self._init_parking()

    @property
    def core(self) -> SocketBase:
        core = self._core()
        if core is None:  # (The driver lives only as long as its core: see driver_for.)
            raise ZMQError(errno.ENOTSOCK)
        return core

    def ensure_loop(self) -> asyncio.AbstractEventLoop:
        running = _running_loop()
        loop = self._loop
        if running is None:
            if loop is None or loop.is_closed():
                raise RuntimeError("no running event loop")
            return loop
        if running is not loop:
            self._stop_watching()
            self._forget_waiters()
            self._loop = running
        return running

    def served_in(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self._loop is loop

    def _parked(self) -> None:
        core = self.core
        loop = self._loop
        if self._fd < 0 and loop is not None:
            fd = core.fileno()  # (Also takes a borrowed connection back to the I/O thread.)
            loop.add_reader(fd, self._service)
            self._fd = fd
        else:
            core.direct_reader.release()

    def _stop_watching(self) -> None:
        fd, self._fd = self._fd, -1
        loop = self._loop
        if fd >= 0 and loop is not None and not loop.is_closed():
            loop.remove_reader(fd)

    def _service(self) -> None:
        core = self._core()
        if core is None or core.closed:
            self.cancel_waiters()
            self._stop_watching()
            return
        core.signal.clear()
        self._serve_waiters()
        if self._has_waiters():
            # A failed attempt may have borrowed the connection for this thread to read (see
            # direct.py): give it back, the I/O thread reads and signals.
            core.direct_reader.release()
        else:
            self._stop_watching()

    def closing(self) -> None:
        """The socket is being closed from asyncio: its parked operations are cancelled."""
        self.cancel_waiters()
        self._stop_watching()


#: Every asyncio core: those of a loop that ended move together to the next (see _bind_loop).
_cores: weakref.WeakSet[AsyncSocketCore] = weakref.WeakSet()

_drivers: weakref.WeakKeyDictionary[SocketBase, ThreadedCoreDriver] = weakref.WeakKeyDictionary()


def driver_for(core: SocketBase) -> AsyncSocketCore | ThreadedCoreDriver:
    """What parks and watches asyncio operations on ``core`` (one per core)."""
    if isinstance(core, AsyncSocketCore):
        return core
    driver = _drivers.get(core)
    if driver is None:
        driver = _drivers[core] = ThreadedCoreDriver(core)
    return driver


def terminate_in_loop(runtime: Runtime, loop: asyncio.AbstractEventLoop) -> None:
    """Context.term() called in a running event loop. Like term(), every pending and later call
    of the context's sockets raises ContextTerminated; but while sockets that only this loop's
    code can close are open, waiting for them would stop the loop for good (pyzmq's term() hangs
    there): they are not waited for, and the I/O thread, if any, runs on until the process ends.
    Otherwise term() as usual (it does not wait for asyncio sockets' lingering: their linger
    tasks flush, and asyncio.run waits for those)."""
    if not any(_served_in(sock, loop) for sock in runtime.sockets()):
        runtime.terminate()
        return
    runtime.terminated = True
    for sock in runtime.sockets():
        sock.context_terminated()


def _served_in(sock: Any, loop: asyncio.AbstractEventLoop) -> bool:
    if isinstance(sock, AsyncSocketCore):
        return sock.served_in(loop)
    driver = _drivers.get(sock)
    return driver is not None and not sock.closed and driver.served_in(loop)


def _cut(engine: Any) -> None:
    """A connection whose loop ended (or was left): dropped as lost, its session reacts as to
    any lost connection (a connecter's reconnects, a listener's ends)."""
    transport = engine.transport
    if transport is not None:
        _abort(transport)
    if not engine.closed:
        engine.connection_lost(None)


def _abort(transport: Any) -> None:
    try:
        transport.abort()
    except RuntimeError:
        # Its loop is closed (asyncio's own loop; uvloop closed it with the loop). The socket
        # is closed here: collected, the transport would close it with a ResourceWarning.
        sock = getattr(transport, "_sock", None)
        if isinstance(sock, socket.socket):
            sock.close()
            transport._sock = None


def _abort_transports(sessions: set[Any]) -> None:
    for session in list(sessions):
        engine = session.engine
        if engine is not None and engine.transport is not None:
            _abort(engine.transport)


#: The lingering tasks (the loop keeps only weak references to tasks).
_lingering: set[asyncio.Task[None]] = set()


def _keep(task: asyncio.Task[None]) -> None:
    _lingering.add(task)
    task.add_done_callback(_lingering.discard)


async def _linger(sessions: list[Any]) -> None:
    """A closed socket's sessions flush in the loop that runs them (LINGER): this task keeps
    ``asyncio.run`` from closing that loop under them. Cancelled -- the loop is ending, as
    when asyncio.run() returns -- it carries on once, by the rules of a program's exit
    (``lingering.ExitFlush``), and only a second cancel stops it."""
    loop = asyncio.get_running_loop()
    ending: ExitFlush | None = None
    while True:
        if ending is not None:
            if ending.look(sessions, loop.time()):
                return
        elif all(session.finished for session in sessions):
            return
        try:
            await asyncio.sleep(_LOOK_EVERY)
        except asyncio.CancelledError:
            if ending is not None:
                raise
            ending = ExitFlush(loop.time())


def waiting(queue: deque[_Waiter]) -> bool:
    """Whether an operation still waits in ``queue`` (those done -- cancelled -- at its head
    are dropped): a new one must then wait behind it."""
    while queue:
        if not queue[0].future.done():
            return True
        queue.popleft()
    return False


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(Again())


def _run(queue: deque[_Waiter]) -> bool:
    """Complete parked operations in order until one would block; whether any completed."""
    progress = False
    while queue:
        waiter = queue[0]
        if waiter.future.done():
            queue.popleft()
            continue
        try:
            result = waiter.operation()
        except Again:
            return progress
        except (ZMQError, Exception) as exc:  # noqa: BLE001 - handed to the awaiting task
            queue.popleft()
            waiter.future.set_exception(exc)
            progress = True
            continue
        queue.popleft()
        waiter.future.set_result(result)
        progress = True
    return progress

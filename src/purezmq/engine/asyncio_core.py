"""The socket core for asyncio: sessions run in the event loop itself, with no helper thread.

Waiting is done with futures: an operation that cannot complete now parks a waiter, and the
socket's signal (set by pipes and sessions, possibly from another thread) wakes the loop to retry
the parked operations in order. An operation either completes whole inside one retry or leaves
everything as it was, which is what makes cancellation safe.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ..error import Again, ZMQError
from ..transport.aio import AsyncConnecter, AsyncListener
from .lingering import ExitFlush
from .runtime import Runtime
from .signaler import Signaler
from .socketbase import SocketBase

Operation = Callable[[], Any]

#: How often a closed socket's linger task looks at its sessions.
_LOOK_EVERY = 0.01


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
    __slots__ = ("future", "operation", "timer")

    def __init__(self, future: asyncio.Future[Any], operation: Operation, timer: Any) -> None:
        self.future = future
        self.operation = operation
        self.timer = timer


class AsyncSocketCore(SocketBase):
    listener_class = AsyncListener
    connecter_class = AsyncConnecter
    linger_in_term = False

    def __init__(self, runtime: Runtime, socket_type: int) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._pending_starts: list[Any] = []
        self._recv_waiters: deque[_Waiter] = deque()
        self._send_waiters: deque[_Waiter] = deque()
        self._watchers: list[Callable[[], None]] = []
        self._wake_scheduled = False
        super().__init__(runtime, socket_type)
        self.signal = AsyncSignaler(self)
        try:
            self._bind_loop(asyncio.get_running_loop())
        except RuntimeError:
            pass  # Created outside a running loop: bound at first use inside one.

    # -- the loop ------------------------------------------------------------------------------

    def _bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()
        pending, self._pending_starts = self._pending_starts, []
        for handle in pending:
            handle.start()
        if self.signal.is_set() or self.mailbox:
            self.wake()

    def ensure_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None or loop.is_closed():
            self._bind_loop(asyncio.get_running_loop())
            loop = self._loop
        assert loop is not None
        return loop

    @property
    def io_loop(self) -> Any:
        if self._loop is None:
            return self.ensure_loop()
        return self._loop

    def start_handle(self, handle: Any) -> None:
        if self._loop is None:
            try:
                self._bind_loop(asyncio.get_running_loop())
            except RuntimeError:
                self._pending_starts.append(handle)
                return
        handle.start()

    def _wait_reading(self, deadline: float | None) -> None:
        # Never a direct read here: the event loop reads every connection (and the operations
        # that land here never wait, they raise Again and are parked).
        self._wait(deadline)

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

    def park(self, queue: str, operation: Operation, timeout_ms: int) -> asyncio.Future[Any]:
        loop = self.ensure_loop()
        future: asyncio.Future[Any] = loop.create_future()
        timer = None
        if timeout_ms >= 0:
            timer = loop.call_later(timeout_ms / 1000, _expire, future)
            future.add_done_callback(lambda _: timer.cancel())
        waiter = _Waiter(future, operation, timer)
        (self._recv_waiters if queue == "recv" else self._send_waiters).append(waiter)
        # No wake-up to look again: the failed attempt cleared the signal before it looked, so
        # whatever changed since has set it, and that schedules the retry.
        return future

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` on every wake-up until the returned function is called."""
        self._watchers.append(callback)
        self.wake()
        return lambda: self._watchers.remove(callback) if callback in self._watchers else None

    def _service(self) -> None:
        self._wake_scheduled = False
        self.signal.clear()
        if self.mailbox:
            self.process_mailbox()
        progress = True
        while progress:
            progress = _run(self._recv_waiters) | _run(self._send_waiters)
        for callback in list(self._watchers):
            callback()

    def cancel_waiters(self, exc: BaseException | None = None) -> None:
        for queue in (self._recv_waiters, self._send_waiters):
            while queue:
                future = queue.popleft().future
                if not future.done():
                    if exc is None:
                        future.cancel()
                    else:
                        future.set_exception(exc)
        for callback in list(self._watchers):
            callback()

    def close(self, linger_ms: int | None = None) -> None:
        if self.closed:
            return
        super().close(linger_ms)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            self.cancel_waiters()
            if self.sessions and loop.is_running() and self._loop_thread == threading.get_ident():
                _keep(loop.create_task(_linger(list(self.sessions)), name="purezmq linger"))


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

"""The I/O thread: a selector loop with the small part of asyncio's loop API the engines use.

Engines and transports call ``call_soon_threadsafe``, ``call_later``, ``add_reader`` and friends, so
that the same engine code can later run on an asyncio loop unchanged.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import select
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..transport.selector import report_fault

log = logging.getLogger("purezmq")

#: The heap of timers is rebuilt without its cancelled ones once they are this many, and the
#: majority (cancelled handshake timers of short connections would otherwise pile up).
_CANCELLED_PURGE = 256


def _nothing(*args: Any) -> None:
    pass


class TimerHandle:
    __slots__ = ("when", "callback", "args", "cancelled", "_owner")

    def __init__(
        self,
        when: float,
        callback: Callable[..., Any],
        args: tuple[Any, ...],
        owner: IOThread | None = None,
    ) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False
        self._owner = owner

    def cancel(self) -> None:
        """Never run it; and let go of what it would have run at once: a cancelled timer waits
        in the heap until its time (a handshake timer: 30 s), and must not keep a closed
        socket, its session and its buffers alive that long."""
        if self.cancelled:
            return
        self.cancelled = True  # (First: the loop looks at it last, see _run_timers.)
        self.callback = _nothing
        self.args = ()
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.timer_cancelled()


_EPOLL_READ = (
    getattr(select, "EPOLLIN", 1) | getattr(select, "EPOLLHUP", 0) | getattr(select, "EPOLLERR", 0)
)
_EPOLL_WRITE = (
    getattr(select, "EPOLLOUT", 4) | getattr(select, "EPOLLHUP", 0) | getattr(select, "EPOLLERR", 0)
)


class _Poller:
    """Readiness by descriptor number: epoll directly where there is one (the selectors module
    costs several Python calls per change, and a connection borrowed by its socket's thread
    changes at each receive), any selector elsewhere."""

    def __init__(self) -> None:
        self._epoll = select.epoll() if hasattr(select, "epoll") else None
        self._selector = None if self._epoll is not None else selectors.DefaultSelector()

    def set(self, fd: int, old_mask: int, mask: int) -> None:
        """Watch ``fd`` for ``mask`` (1 read, 2 write, 3 both, 0 no longer)."""
        if self._epoll is not None:
            events = (select.EPOLLIN if mask & 1 else 0) | (select.EPOLLOUT if mask & 2 else 0)
            if not old_mask:
                self._epoll.register(fd, events)
            elif not mask:
                try:
                    self._epoll.unregister(fd)
                except OSError:  # Already closed: the kernel forgot it.
                    pass
            else:
                try:
                    self._epoll.modify(fd, events)
                except FileNotFoundError:  # Closed and reused behind our back.
                    self._epoll.register(fd, events)
            return
        assert self._selector is not None
        if not old_mask:
            self._selector.register(fd, mask)
        elif not mask:
            self._selector.unregister(fd)
        else:
            self._selector.modify(fd, mask)

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        """(fd, mask) pairs that are ready, mask as in ``set`` (errors count as both)."""
        if self._epoll is not None:
            ready = self._epoll.poll(-1 if timeout is None else timeout)
            return [
                (
                    fd,
                    (1 if events & _EPOLL_READ else 0) | (2 if events & _EPOLL_WRITE else 0),
                )
                for fd, events in ready
            ]
        assert self._selector is not None
        return [(key.fd, mask) for key, mask in self._selector.select(timeout)]

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
        else:
            assert self._selector is not None
            self._selector.close()


class IOThread:
    def __init__(self, name: str = "purezmq-io") -> None:
        self._poller = _Poller()
        self._registry_lock = threading.Lock()
        # fd -> (reader, writer) callbacks.
        self._registered: dict[int, tuple[Any, Any]] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._update_locked(self._wake_r.fileno(), 0, self._drain_wakeups)
        self._calls: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._wake_pending = False
        self._timers: list[tuple[float, int, TimerHandle]] = []
        self._cancelled = 0
        self._sequence = itertools.count()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- the asyncio-like surface -----------------------------------------------------------------

    def time(self) -> float:
        return time.monotonic()

    def in_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        self._calls.append((callback, args))
        if not self._wake_pending:
            self._wake_pending = True
            try:
                self._wake_w.send(b"\x00")
            except (BlockingIOError, OSError):
                pass

    call_soon = call_soon_threadsafe

    def wrap(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        return callback

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        handle = TimerHandle(time.monotonic() + delay, callback, args, self)
        if self.in_thread():
            heapq.heappush(self._timers, (handle.when, next(self._sequence), handle))
        else:
            self.call_soon_threadsafe(self._push_timer, handle)
        return handle

    def _push_timer(self, handle: TimerHandle) -> None:
        if not handle.cancelled:
            heapq.heappush(self._timers, (handle.when, next(self._sequence), handle))

    def timer_cancelled(self) -> None:
        """A timer was cancelled (from any thread: the count is only a hint)."""
        self._cancelled += 1

    def _purge_timers(self) -> None:
        """In the loop: drop the cancelled timers from the heap."""
        self._cancelled = 0
        timers = [entry for entry in self._timers if not entry[2].cancelled]
        heapq.heapify(timers)
        self._timers[:] = timers

    def add_reader(self, fd: Any, callback: Callable[[], None]) -> None:
        self._update(fd, 0, callback)

    def remove_reader(self, fd: Any) -> None:
        self._update(fd, 0, None)

    def add_writer(self, fd: Any, callback: Callable[[], None]) -> None:
        self._update(fd, 1, callback)

    def remove_writer(self, fd: Any) -> None:
        self._update(fd, 1, None)

    def _update(self, fd: Any, slot: int, callback: Callable[[], None] | None) -> None:
        # A socket's own thread may change its connection's registrations (see LockedLoop);
        # epoll takes changes while another thread waits on it, the selector's map needs a lock.
        with self._registry_lock:
            self._update_locked(fd, slot, callback)

    def _update_locked(self, fd: Any, slot: int, callback: Callable[[], None] | None) -> None:
        fd = fd if isinstance(fd, int) else fd.fileno()
        if fd < 0:
            return
        old = self._registered.get(fd, (None, None))
        data = (callback, old[1]) if slot == 0 else (old[0], callback)
        old_mask = (1 if old[0] else 0) | (2 if old[1] else 0)
        mask = (1 if data[0] else 0) | (2 if data[1] else 0)
        if mask:
            self._registered[fd] = data
        else:
            self._registered.pop(fd, None)
        if mask != old_mask:
            self._poller.set(fd, old_mask, mask)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the loop and wait for the thread (from any other thread)."""
        if not self._thread.is_alive():
            return
        self.call_soon_threadsafe(self._set_stopping)
        self._thread.join()

    def _set_stopping(self) -> None:
        self._stopping = True

    # -- the loop -------------------------------------------------------------------------------

    def _drain_wakeups(self) -> None:
        # One read is enough: a wake-up byte is sent only while none is pending.
        try:
            self._wake_r.recv(4096)
        except (BlockingIOError, InterruptedError):
            pass

    def _run(self) -> None:
        while True:
            try:
                self._loop()
                break
            except Exception as exc:
                # The loop's own bookkeeping failed (memory ran out between two callbacks):
                # every socket of the context depends on this thread, so it carries on.
                report_fault("the purezmq I/O loop", exc)
                time.sleep(0.001)
        self._poller.close()
        self._wake_r.close()
        self._wake_w.close()

    def _loop(self) -> None:
        calls = self._calls
        timers = self._timers
        poll = self._poller.poll
        registered = self._registered
        while not self._stopping:
            timeout: float | None = None
            if calls:
                timeout = 0
            elif timers:
                timeout = max(0.0, timers[0][0] - time.monotonic())
            for fd, mask in poll(timeout):
                callbacks = registered.get(fd)
                if callbacks is None:
                    continue
                try:
                    if mask & 1 and callbacks[0] is not None:
                        callbacks[0]()
                    if mask & 2 and callbacks[1] is not None:
                        # The reader may have closed the fd and dropped the writer already.
                        current = registered.get(fd)
                        if current is not None and current[1] is callbacks[1]:
                            callbacks[1]()
                except Exception as exc:
                    self._callback_failed(fd, callbacks, exc)
            self._wake_pending = False
            for _ in range(len(calls)):
                callback, args = calls.popleft()
                try:
                    callback(*args)
                except Exception as exc:
                    report_fault("a purezmq I/O call", exc)
            if self._cancelled > _CANCELLED_PURGE and self._cancelled * 2 > len(timers):
                self._purge_timers()
            now = time.monotonic()
            while timers and timers[0][0] <= now:
                handle = heapq.heappop(timers)[2]
                callback, args = handle.callback, handle.args
                if handle.cancelled:  # (Looked at last: cancel() sets it first.)
                    continue
                handle._owner = None
                try:
                    callback(*args)
                except Exception as exc:
                    report_fault("a purezmq timer", exc)

    def _callback_failed(self, fd: int, callbacks: tuple[Any, Any], exc: Exception) -> None:
        """A reader or writer raised (the transports and listeners catch their own failures:
        this is the last line). Stop watching the descriptor if it is still watched with the
        same callbacks: a descriptor left readable would fail again at every turn of the
        loop, forever."""
        report_fault("a purezmq I/O callback", exc)
        try:
            with self._registry_lock:
                if self._registered.get(fd) == callbacks:
                    self._update_locked(fd, 0, None)
                    self._update_locked(fd, 1, None)
                    log.error("purezmq: stopped watching descriptor %d after that failure", fd)
        except Exception:
            pass


class LockedLoop:
    """A socket's view of the I/O thread: every callback runs holding the socket's I/O lock.

    The socket's own thread takes the same lock for the fast paths that skip the I/O thread
    (writing a reply at once, reading while it would otherwise sleep), so the engines, sessions
    and transports of one socket are only ever driven by one thread at a time.
    """

    __slots__ = ("_io", "lock")

    def __init__(self, io: IOThread, lock: Any) -> None:
        self._io = io
        self.lock = lock

    def _locked(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(callback, "holds_lock", None) is self.lock:
            return callback
        lock = self.lock

        def run(*args: Any) -> None:
            with lock:
                callback(*args)

        run.holds_lock = lock  # type: ignore[attr-defined]
        return run

    def wrap(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """``callback`` made to hold the lock, for a caller that registers it again and again."""
        return self._locked(callback)

    def time(self) -> float:
        return time.monotonic()

    def in_thread(self) -> bool:
        return self._io.in_thread()

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        self._io.call_soon_threadsafe(self._locked(callback), *args)

    call_soon = call_soon_threadsafe

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        return self._io.call_later(delay, self._locked(callback), *args)

    def add_reader(self, fd: Any, callback: Callable[[], None]) -> None:
        self._io.add_reader(fd, self._locked(callback))

    def remove_reader(self, fd: Any) -> None:
        self._io.remove_reader(fd)

    def add_writer(self, fd: Any, callback: Callable[[], None]) -> None:
        self._io.add_writer(fd, self._locked(callback))

    def remove_writer(self, fd: Any) -> None:
        self._io.remove_writer(fd)

"""The I/O thread: a selector loop with the small part of asyncio's loop API the engines use.

Engines and transports call ``call_soon_threadsafe``, ``call_later``, ``add_reader`` and friends, so
that the same engine code can later run on an asyncio loop unchanged.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("purezmq")


class TimerHandle:
    __slots__ = ("when", "callback", "args", "cancelled")

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class IOThread:
    def __init__(self, name: str = "purezmq-io") -> None:
        self._selector = selectors.DefaultSelector()
        self._registry_lock = threading.Lock()
        self._registered: dict[int, tuple[Any, Any]] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, (self._drain_wakeups, None))
        self._calls: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._wake_pending = False
        self._timers: list[tuple[float, int, TimerHandle]] = []
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

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        handle = TimerHandle(time.monotonic() + delay, callback, args)
        if self.in_thread():
            heapq.heappush(self._timers, (handle.when, next(self._sequence), handle))
        else:
            self.call_soon_threadsafe(self._push_timer, handle)
        return handle

    def _push_timer(self, handle: TimerHandle) -> None:
        heapq.heappush(self._timers, (handle.when, next(self._sequence), handle))

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
        # Our own map by descriptor number: the selector's lookups format the socket's repr
        # (two system calls) in the KeyError they raise for a descriptor not registered.
        fd = fd if isinstance(fd, int) else fd.fileno()
        if fd < 0:
            return
        old = self._registered.get(fd)
        callbacks = [None, None] if old is None else list(old)
        callbacks[slot] = callback
        mask = (selectors.EVENT_READ if callbacks[0] else 0) | (
            selectors.EVENT_WRITE if callbacks[1] else 0
        )
        data = (callbacks[0], callbacks[1])
        if old is None:
            if mask:
                self._selector.register(fd, mask, data)
                self._registered[fd] = data
        elif not mask:
            self._selector.unregister(fd)
            del self._registered[fd]
        else:
            try:
                self._selector.modify(fd, mask, data)
            except OSError:  # Closed and reused behind our back: register afresh.
                self._selector.unregister(fd)
                self._selector.register(fd, mask, data)
            self._registered[fd] = data

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
        calls = self._calls
        timers = self._timers
        select = self._selector.select
        while not self._stopping:
            timeout: float | None = None
            if calls:
                timeout = 0
            elif timers:
                timeout = max(0.0, timers[0][0] - time.monotonic())
            for key, mask in select(timeout):
                reader, writer = key.data
                try:
                    if mask & selectors.EVENT_READ and reader is not None:
                        reader()
                    if mask & selectors.EVENT_WRITE and writer is not None:
                        # The reader may have closed the fd and dropped the writer already.
                        current = self._registered.get(key.fd)
                        if current is not None and current[1] is writer:
                            writer()
                except Exception:
                    log.exception("purezmq I/O callback failed")
            self._wake_pending = False
            for _ in range(len(calls)):
                callback, args = calls.popleft()
                try:
                    callback(*args)
                except Exception:
                    log.exception("purezmq I/O call failed")
            now = time.monotonic()
            while timers and timers[0][0] <= now:
                handle = heapq.heappop(timers)[2]
                if not handle.cancelled:
                    try:
                        handle.callback(*handle.args)
                    except Exception:
                        log.exception("purezmq timer failed")
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


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
        lock = self.lock

        def run(*args: Any) -> None:
            with lock:
                callback(*args)

        return run

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

"""The thread-safe socket types (the draft ones): several threads may send, receive, poll and
set options on one socket at once, as libzmq's thread-safe sockets allow.

Every call into the core holds the socket's lock, which a blocked call lets go of while it
sleeps; the socket's signal lets any number of threads sleep on it (SharedSignaler). The fast
paths that read or write in the caller's thread stay off: a thread that reads the connection
itself would leave the others asleep. Also: DISH's join and leave, and PEER's connect_peer, for
either engine's core.
"""

from __future__ import annotations

import contextlib
import errno
import threading
import time
from collections.abc import Callable
from typing import Any

from ..constants import SocketOption as Opt
from ..error import Again, ZMQError
from ..routing.draft import THREAD_SAFE_TYPES
from ..routing.pipe import Queued
from .runtime import Runtime
from .signaler import Signaler
from .socketbase import SocketBase

__all__ = ["THREAD_SAFE_TYPES", "SharedSignaler", "ThreadSafeSocketBase", "connect_peer", "join"]


class SharedSignaler(Signaler):
    """A Signaler that any number of threads may wait on. Each change bumps ``generation``: a
    thread that noted it before looking at the socket sleeps only while it is unchanged, so a
    change that another thread's ``clear`` hid still wakes it."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition(threading.Lock())
        self.generation = 0

    def set(self) -> None:
        if self._set:
            return  # (Changed since the last clear: whoever clears next looks after it.)
        with self._changed:
            self._set = True
            self.generation += 1
            self._changed.notify_all()
        if self._pair is not None:
            self._notify_descriptor()

    def wait(self, timeout: float | None) -> bool:
        with self._changed:
            if self._set:
                return True
            self._changed.wait(timeout)
            return self._set

    def wait_past(self, generation: int, timeout: float | None) -> bool:
        """Sleep until the generation is past ``generation``; False when ``timeout`` ran out."""
        with self._changed:
            return self._changed.wait_for(lambda: self.generation != generation, timeout)


class ThreadSafeSocketBase(SocketBase):
    signaler_class = SharedSignaler
    signal: SharedSignaler

    def __init__(self, runtime: Runtime, socket_type: int, register: bool = True) -> None:
        self.lock = threading.RLock()
        super().__init__(runtime, socket_type, register)

    def _sleep(self, seen: int, deadline: float | None) -> None:
        """Let go of the lock until the socket changes after ``seen``; Again past ``deadline``."""
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise Again()
        self.lock.release()
        try:
            changed = self.signal.wait_past(seen, remaining)
        finally:
            self.lock.acquire()
        if not changed:
            raise Again()

    def _retrying(self, attempt: Callable[[], Any], ok: str, flags: int, timeout_ms: int) -> Any:
        """``attempt()`` (under the lock) until it gives something other than None, sleeping
        between tries; ``ok``, the attribute that says the operation may go on (``_send_ok``,
        ``_recv_ok``). Before each try: the generation to sleep past is noted, the wake-up flag
        cleared (for pollers of the descriptor) and the mailbox applied."""
        with self.lock:
            if not getattr(self, ok):
                self.check_open()
                raise ZMQError(errno.ENOTSUP)
            deadline: float | None = None
            first = True
            while True:
                seen = self.signal.generation
                self.signal.clear()
                if not getattr(self, ok):
                    self.check_open()  # (Closed, or the context ended, while we slept.)
                self.process_mailbox()
                result = attempt()
                if result is not None:
                    return result
                if first:  # (The clock is read only when the operation must wait.)
                    deadline = self._deadline(flags, timeout_ms)
                    first = False
                self._sleep(seen, deadline)

    def send_message(self, message: Queued, flags: int = 0) -> None:
        def attempt() -> bool | None:
            return True if self.routing.send(message) else None

        self._retrying(attempt, "_send_ok", flags, self.options.sndtimeo)

    def recv_message(self, flags: int = 0) -> Queued:
        message, self.last_peer = self._retrying(
            self.routing.recv, "_recv_ok", flags, self.options.rcvtimeo
        )
        return message

    def poll(self, timeout_ms: int | None, flags: int) -> int:
        deadline = (
            None if timeout_ms is None or timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        )
        with self.lock:
            while True:
                self.check_open()
                seen = self.signal.generation
                ready = self.events() & flags
                if ready:
                    return ready
                try:
                    self._sleep(seen, deadline)
                except Again:
                    return 0

    def events(self) -> int:
        with self.lock:
            return super().events()

    def wait_writable(self, flags: int, first: bytes | None = None) -> None:
        raise ZMQError(errno.EINVAL)  # (Only a message of several parts asks; these have one.)

    def setsockopt(self, option: int, value: Any) -> None:
        with self.lock:
            super().setsockopt(option, value)

    def getsockopt(self, option: int) -> int | bytes:
        with self.lock:
            return super().getsockopt(option)

    def bind(self, endpoint: str) -> str:
        with self.lock:
            return super().bind(endpoint)

    def connect(self, endpoint: str) -> None:
        with self.lock:
            super().connect(endpoint)

    def unbind(self, endpoint: str) -> None:
        with self.lock:
            super().unbind(endpoint)

    def disconnect(self, endpoint: str) -> None:
        with self.lock:
            super().disconnect(endpoint)

    def close(self, linger_ms: int | None = None) -> None:
        with self.lock:
            super().close(linger_ms)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return super().stats()

    def _wait_reading(self, deadline: float | None) -> None:
        self._wait(deadline)  # (Never reads the connection in the caller's thread.)


def join(core: SocketBase, group: bytes, joining: bool = True) -> None:
    """zmq_join (or, ``joining`` false, zmq_leave): ENOTSUP on anything but a DISH."""
    with getattr(core, "lock", None) or contextlib.nullcontext():
        core.check_open()
        method = getattr(core.routing, "join" if joining else "leave", None)
        if method is None:
            raise ZMQError(errno.ENOTSUP)
        core.process_mailbox()
        method(group)


def connect_peer(core: SocketBase, endpoint: str) -> int:
    """zmq_connect_peer: connect a PEER, and return the routing id its new peer has."""
    with getattr(core, "lock", None) or contextlib.nullcontext():
        core.check_open()
        if core.socket_type_name != "PEER":
            raise ZMQError(errno.ENOTSUP)
        if core.options.int(Opt.IMMEDIATE):
            raise ZMQError(errno.EFAULT, "connect_peer needs IMMEDIATE off")
        routing: Any = core.routing
        before = routing.last_routing_id
        core.connect(endpoint)
        core.process_mailbox()
        if routing.last_routing_id == before:
            raise ZMQError(errno.EFAULT, f"no peer for {endpoint} yet")
        return int(routing.last_routing_id)

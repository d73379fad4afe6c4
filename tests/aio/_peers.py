"""One script per socket role, run unchanged by an asyncio socket or by a blocking one in a thread.

A role is an ``async def`` over a small peer interface (send/recv/poll/pause). ``AioPeer`` wraps a
purezmq.asyncio socket and really awaits. ``BlockingPeer`` wraps a blocking socket (pyzmq, or
purezmq's blocking API): its methods are coroutines that never suspend, they simply block with
bounded socket timeouts, and ``drive`` runs such a coroutine to completion in the calling thread,
with no event loop. So both ends of a pair follow the very same script.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from ._aio import OP_TIMEOUT, op

T = TypeVar("T")

#: Bound (s) on a synchronisation loop (e.g. waiting for a subscription to take effect).
SYNC_DEADLINE = 10.0


class AioPeer:
    def __init__(self, sock: Any) -> None:
        self.sock = sock

    async def send(self, frames: Sequence[bytes]) -> None:
        await op(self.sock.send_multipart(list(frames)), what=f"send on {self.sock!r}")

    async def recv(self) -> list[bytes]:
        got = await op(self.sock.recv_multipart(), what=f"recv on {self.sock!r}")
        return [bytes(f) for f in got]

    async def poll(self, timeout_ms: int) -> int:
        return await op(self.sock.poll(timeout_ms), OP_TIMEOUT + timeout_ms / 1000, "poll")

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def subscribe(self, topic: bytes) -> None:
        self.sock.subscribe(topic)


class BlockingPeer:
    """A blocking socket behind the same interface; stops at the next call once ``abort`` is set."""

    def __init__(self, sock: Any, abort: threading.Event) -> None:
        self.sock = sock
        self.abort = abort

    def _check(self) -> None:
        if self.abort.is_set():
            raise RuntimeError("aborted: the asyncio side failed")

    async def send(self, frames: Sequence[bytes]) -> None:
        self._check()
        self.sock.send_multipart(list(frames))

    async def recv(self) -> list[bytes]:
        # Poll in slices so that an abort is noticed quickly.
        deadline = time.monotonic() + OP_TIMEOUT
        while True:
            self._check()
            if self.sock.poll(50):
                return [bytes(f) for f in self.sock.recv_multipart()]
            if time.monotonic() > deadline:
                raise AssertionError(f"no message within {OP_TIMEOUT} s on {self.sock!r}")

    async def poll(self, timeout_ms: int) -> int:
        self._check()
        return self.sock.poll(timeout_ms)

    async def pause(self, seconds: float) -> None:
        self._check()
        time.sleep(seconds)

    def subscribe(self, topic: bytes) -> None:
        self.sock.subscribe(topic)


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine whose awaits never suspend (a BlockingPeer script) to its end."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a blocking peer's script suspended; it must not await real futures")


class Shared:
    """Cross-side flags for the subscription handshake (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[bytes, threading.Event] = {}

    def event(self, topic: bytes) -> threading.Event:
        with self._lock:
            return self._events.setdefault(topic, threading.Event())


async def pub_sync(pub: Any, shared: Shared, topic: bytes) -> None:
    """Publisher half of the slow-joiner guard: probe until the subscriber saw one, then mark."""
    seen = shared.event(topic)
    deadline = time.monotonic() + SYNC_DEADLINE
    while not seen.is_set():
        if time.monotonic() > deadline:
            raise AssertionError(f"subscription {topic!r} never took effect at the publisher")
        await pub.send([topic + b"-probe"])
        await pub.pause(0.01)
    await pub.send([topic + b"-sync-end"])


async def sub_sync(sub: Any, shared: Shared, topic: bytes) -> None:
    """Subscriber half: the first probe proves the subscription is in effect; drain to the mark."""
    probe, marker = topic + b"-probe", topic + b"-sync-end"
    first = await sub.recv()
    assert first == [probe], f"unexpected message while syncing subscriber: {first!r}"
    shared.event(topic).set()
    while (msg := await sub.recv()) != [marker]:
        assert msg == [probe], f"unexpected message while syncing subscriber: {msg!r}"

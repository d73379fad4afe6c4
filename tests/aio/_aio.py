"""Helpers for the purezmq.asyncio tests: fresh loops (asyncio or uvloop), bounded awaits, blocking
peers in threads. The fixtures built on them are in conftest.py.

The purezmq.asyncio engine runs inside the loop: a blocking call in a coroutine would stall it, so
blocking peers (pyzmq, or purezmq's blocking sockets) run in threads, see ``run_with_blocking``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a test dependency on POSIX
    uvloop = None

T = TypeVar("T")

#: Bound (s) on one send/recv/poll in these tests: far above loopback latency.
OP_TIMEOUT = 5.0
#: Default bound (s) on a whole test coroutine.
RUN_TIMEOUT = 30.0

LOOPS = ["asyncio", "uvloop"]


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if name == "asyncio":
        return asyncio.new_event_loop
    if name == "uvloop":
        if uvloop is None:
            pytest.skip("uvloop is not installed")
        return uvloop.new_event_loop
    raise ValueError(name)


def run_on(name: str, coro: Coroutine[Any, Any, T], timeout: float = RUN_TIMEOUT) -> T:
    """Run ``coro`` on a fresh loop of kind ``name``, bounded by ``timeout`` seconds."""
    bounded = asyncio.wait_for(coro, timeout)
    runner_class = getattr(asyncio, "Runner", None)
    if runner_class is not None:  # Python >= 3.11
        with runner_class(loop_factory=loop_factory(name)) as runner:
            return runner.run(bounded)
    loop = loop_factory(name)()  # Python 3.10: what asyncio.Runner does, by hand
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(bounded)
    finally:
        try:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def op(awaitable: Awaitable[T], timeout: float = OP_TIMEOUT, what: str = "operation") -> T:
    """Await one socket operation with a bound; a timeout fails with a readable message."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"{what} did not complete within {timeout} s") from None


async def run_with_blocking(
    aio_side: Coroutine[Any, Any, T],
    blocking_side: Callable[[threading.Event], Any],
    cleanup_timeout: float = OP_TIMEOUT + 2,
) -> tuple[T, Any]:
    """Run ``aio_side`` in the loop and ``blocking_side(abort)`` in a thread, concurrently.

    Returns both results; raises the first failure of either. When one side fails, ``abort`` is set
    so the blocking side stops at its next operation (each is bounded by its socket timeouts), and
    the thread is waited for before returning, so the caller may close the blocking socket.
    """
    abort = threading.Event()
    loop = asyncio.get_running_loop()
    thread_future = loop.run_in_executor(None, blocking_side, abort)
    aio_task = asyncio.ensure_future(aio_side)
    try:
        await asyncio.wait({aio_task, thread_future}, return_when=asyncio.FIRST_EXCEPTION)
        for future in (aio_task, thread_future):
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return aio_task.result(), thread_future.result()
    finally:
        abort.set()
        if not aio_task.done():
            aio_task.cancel()
        await asyncio.wait({aio_task, thread_future}, timeout=cleanup_timeout)
        for future in (aio_task, thread_future):  # mark every outcome as retrieved
            if future.done() and not future.cancelled():
                future.exception()

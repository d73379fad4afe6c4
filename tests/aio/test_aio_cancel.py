"""Cancellation, timeouts, back-pressure and closing with purezmq.asyncio; no helper thread.

The guarantee under test: an operation that has not completed holds no message, so cancelling it
(directly, through its task, or by asyncio.wait_for timing out) loses nothing and sends nothing.

One asyncio race is not the library's to solve: a task cancelled *after* its recv future completed
but before the task resumed gets CancelledError although the future holds a message. Receivers
below rescue that message from the future (``fut.done() and not fut.cancelled()``), so "exactly
once" measures the library alone.
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import random
import threading
import time
from typing import Any

import pytest
import zmq
from interop._util import bind_any, make_socket

import purezmq
import purezmq.asyncio

from ._aio import OP_TIMEOUT, op, run_with_blocking

pytestmark = pytest.mark.timeout(60)

POLLOUT = purezmq.POLLOUT


async def push_pull(
    ctx: Any, transport: str, ipc_endpoint: str = "", name: str = "cancel", hwm: int | None = None
) -> tuple[Any, Any]:
    """A connected asyncio PUSH -> PULL pair (the PULL binds), linger 0.

    ``hwm`` sets the PUSH's SNDHWM and the PULL's RCVHWM before bind/connect (as in libzmq, an HWM
    set later does not apply to existing connections).
    """
    push = ctx.socket(purezmq.PUSH)
    pull = ctx.socket(purezmq.PULL)
    push.linger = pull.linger = 0
    if hwm is not None:
        push.sndhwm = pull.rcvhwm = hwm
    if transport == "inproc":
        pull.bind(f"inproc://{name}")
        push.connect(f"inproc://{name}")
    else:
        push.connect(bind_any(pull, transport, ipc_endpoint))
    return push, pull


async def nothing_more(sock: Any) -> bool:
    return await op(sock.poll(100)) == 0


# --------------------------------------------------------------------------------------------------
# a cancelled recv loses nothing


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_cancelled_recv_loses_no_message(run, transport: str) -> None:
    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            push, pull = await push_pull(ctx, transport)

            # The future itself, cancelled before anything arrives.
            fut = pull.recv()
            assert not fut.done()
            fut.cancel()
            await op(push.send(b"m1"))
            assert await op(pull.recv()) == b"m1"
            assert await nothing_more(pull), "m1 received twice"

            # A task parked in recv, cancelled.
            started = asyncio.Event()

            async def receiver() -> bytes:
                started.set()
                return await pull.recv_multipart()

            task = asyncio.ensure_future(receiver())
            await op(started.wait())  # the task is now suspended inside recv
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await op(push.send_multipart([b"m2", b"second frame"]))
            assert await op(pull.recv_multipart()) == [b"m2", b"second frame"]
            assert await nothing_more(pull), "m2 received twice"

            # Several cancelled recvs queued before one live one: the live one gets the message.
            cancelled = [pull.recv() for _ in range(5)]
            live = pull.recv()
            for f in cancelled:
                f.cancel()
            await op(push.send(b"m3"))
            assert await op(live) == b"m3"
            assert all(f.cancelled() for f in cancelled)
            assert await nothing_more(pull), "m3 received twice"
        finally:
            ctx.destroy(linger=0)

    run(scenario())


N_FLOW = 2000
N_RECEIVERS = 8


@pytest.mark.parametrize("sender", ["aio_inproc", "pyzmq_tcp"])
def test_random_cancellation_while_messages_flow(run, pyctx, sender: str) -> None:
    """Receivers are cancelled at random (their task or their pending future) and replaced while a
    sender streams N_FLOW messages; every message must be received exactly once."""
    rng = random.Random(1234)

    async def scenario() -> dict[str, int]:
        ctx = purezmq.asyncio.Context()
        py_push = None
        got: list[bytes] = []
        stats = collections.Counter()
        try:
            pull = ctx.socket(purezmq.PULL)
            pull.linger = 0
            if sender == "aio_inproc":
                pull.bind("inproc://flow")
                push = ctx.socket(purezmq.PUSH)
                push.linger = 0
                push.connect("inproc://flow")
            else:
                py_push = make_socket(pyctx, zmq.PUSH)
                py_push.connect(bind_any(pull, "tcp"))

            class Receiver:
                def __init__(self) -> None:
                    self.fut: asyncio.Future[Any] | None = None
                    self.stopping = False
                    self.task = asyncio.ensure_future(self.loop())

                async def loop(self) -> None:
                    while True:
                        fut = self.fut = pull.recv()
                        try:
                            msg = await fut
                        except asyncio.CancelledError:
                            if fut.done() and not fut.cancelled():
                                got.append(fut.result())  # see the module docstring
                                stats["rescued"] += 1
                            if self.stopping:
                                raise
                            continue
                        got.append(msg)

            receivers = [Receiver() for _ in range(N_RECEIVERS)]

            async def aio_send() -> None:
                for i in range(N_FLOW):
                    await op(push.send(b"%d" % i))
                    if i % 7 == 0:
                        await asyncio.sleep(0)

            def py_send(abort: threading.Event) -> None:
                for i in range(N_FLOW):
                    if abort.is_set():
                        return
                    py_push.send(b"%d" % i)
                    if i % 50 == 0:
                        time.sleep(0.0005)

            async def chaos() -> None:
                deadline = time.monotonic() + 20
                while len(got) < N_FLOW:
                    assert time.monotonic() < deadline, f"only {len(got)} of {N_FLOW} received"
                    await asyncio.sleep(rng.choice([0, 0, 0, 0.0002, 0.001]))
                    idx = rng.randrange(len(receivers))
                    victim = receivers[idx]
                    if rng.random() < 0.5:
                        if victim.fut is not None and victim.fut.cancel():
                            stats["futures_cancelled"] += 1
                    else:
                        victim.stopping = True
                        if victim.task.cancel():
                            stats["tasks_cancelled"] += 1
                        receivers[idx] = Receiver()

            try:
                if sender == "aio_inproc":
                    await asyncio.gather(aio_send(), chaos())
                else:
                    await run_with_blocking(chaos(), py_send)
            finally:
                for r in receivers:
                    r.stopping = True
                    r.task.cancel()
                await asyncio.gather(*(r.task for r in receivers), return_exceptions=True)

            counts = collections.Counter(got)
            dupes = {m: c for m, c in counts.items() if c > 1}
            assert not dupes, f"received more than once: {sorted(dupes)[:10]}"
            missing = {b"%d" % i for i in range(N_FLOW)} - set(counts)
            assert not missing, f"never received: {sorted(missing)[:10]}"
            assert await nothing_more(pull)
            return dict(stats)
        finally:
            if py_push is not None:
                py_push.close(linger=0)
            ctx.destroy(linger=0)

    stats = run(scenario())
    assert stats.get("futures_cancelled", 0) > 0 and stats.get("tasks_cancelled", 0) > 0, stats


def test_wait_for_timeout_loses_nothing(run) -> None:
    async def scenario() -> int:
        ctx = purezmq.asyncio.Context()
        try:
            push, pull = await push_pull(ctx, "tcp")
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(pull.recv(), 0.05)
            await op(push.send(b"first"))
            assert await op(pull.recv()) == b"first"

            # Many short timeouts while a sender pauses now and then (5 ms > the 1 ms timeout).
            n = 300

            async def send_all() -> None:
                for i in range(n):
                    await op(push.send(b"%d" % i))
                    if i % 10 == 9:
                        await asyncio.sleep(0.005)

            got: list[bytes] = []
            timeouts = 0
            sending = asyncio.ensure_future(send_all())
            deadline = time.monotonic() + 20
            while len(got) < n:
                assert time.monotonic() < deadline, f"only {len(got)} of {n} received"
                try:
                    got.append(await asyncio.wait_for(pull.recv(), 0.001))
                except asyncio.TimeoutError:
                    timeouts += 1
            await op(sending)
            assert got == [b"%d" % i for i in range(n)]  # each once, in order
            assert await nothing_more(pull)
            return timeouts
        finally:
            ctx.destroy(linger=0)

    timeouts = run(scenario())
    assert timeouts > 0


def test_rcvtimeo_and_sndtimeo_raise_again(run) -> None:
    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            push, pull = await push_pull(ctx, "tcp")
            pull.rcvtimeo = 200
            for recv in (pull.recv, pull.recv_multipart, pull.recv_string):
                t0 = time.monotonic()
                with pytest.raises(purezmq.Again):
                    await op(recv())
                elapsed = time.monotonic() - t0
                assert 0.18 <= elapsed < 2.0, f"{recv.__name__} timed out after {elapsed:.3f} s"
            # The socket is fine afterwards.
            await op(push.send(b"after timeout"))
            assert await op(pull.recv()) == b"after timeout"

            # SNDTIMEO: no peer, so the send times out; it must not be sent later either.
            lonely = ctx.socket(purezmq.PUSH)
            lonely.linger = 0
            lonely.sndtimeo = 150
            t0 = time.monotonic()
            with pytest.raises(purezmq.Again):
                await op(lonely.send(b"timed out"))
            assert 0.13 <= time.monotonic() - t0 < 2.0
            late = ctx.socket(purezmq.PULL)
            late.linger = 0
            lonely.connect(bind_any(late, "tcp"))
            await op(lonely.send(b"sent later"))
            assert await op(late.recv()) == b"sent later"
            assert await nothing_more(late)
        finally:
            ctx.destroy(linger=0)

    run(scenario())


# --------------------------------------------------------------------------------------------------
# a cancelled multipart send: all or nothing


@pytest.mark.parametrize("how", ["future", "task"])
@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_cancelled_multipart_send_is_all_or_nothing(run, transport: str, how: str) -> None:
    big = b"b" * (16 * 1024 if transport == "tcp" else 64)

    def fill_message(i: int) -> list[bytes]:
        return [b"fill", b"%d" % i, big]

    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        try:
            push, pull = await push_pull(ctx, transport, hwm=10)
            assert await op(push.poll(OP_TIMEOUT * 1000, POLLOUT)) == POLLOUT  # connected

            # Fill every buffer between the two sockets; nobody reads.
            filled = 0
            while True:
                try:
                    await push.send_multipart(fill_message(filled), purezmq.NOBLOCK)
                    filled += 1
                    assert filled < 100_000, "the PUSH never reached its high-water mark"
                    continue
                except purezmq.Again:
                    pass
                if await op(push.poll(200, POLLOUT)) == 0:
                    break  # stayed full for 200 ms
            assert filled >= 10

            cancelled_msg = [b"cancel-me", b"x" * len(big), b"end"]
            if how == "future":
                fut = push.send_multipart(cancelled_msg)
                await asyncio.sleep(0.05)  # give the engine chances to (wrongly) start on it
                assert not fut.done(), "a send completed although the PUSH was at its HWM"
                assert fut.cancel()
            else:
                started = asyncio.Event()

                async def sender() -> None:
                    started.set()
                    await push.send_multipart(cancelled_msg)

                task = asyncio.ensure_future(sender())
                await op(started.wait())
                await asyncio.sleep(0.05)
                assert not task.done(), "a send completed although the PUSH was at its HWM"
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task

            # A normal message after it, sent while the reader drains.
            after = asyncio.ensure_future(op(push.send_multipart([b"after", b"1", b"2"])))
            received = []
            while True:
                msg = await op(pull.recv_multipart())
                received.append(msg)
                if msg[0] == b"after":
                    break
            await op(after)
            assert await nothing_more(pull)

            assert received[-1] == [b"after", b"1", b"2"]
            assert all(m[0] != b"cancel-me" for m in received), "the cancelled message was sent"
            fills = received[:-1]
            assert fills == [fill_message(i) for i in range(filled)], "a message was cut or lost"
        finally:
            ctx.destroy(linger=0)

    run(scenario())


# --------------------------------------------------------------------------------------------------
# back-pressure


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_send_waits_at_sndhwm(run, transport: str) -> None:
    """With a slow reader, ``await send`` waits instead of queueing without limit."""
    n = 400
    hwm = 10
    payload = b"p" * (16 * 1024 if transport == "tcp" else 100)
    # What may be in flight: the PUSH's and the PULL's queues (libzmq: SNDHWM + RCVHWM), plus on
    # tcp the kernel buffers (SNDBUF/RCVBUF 64 KiB, doubled by Linux) and the asyncio transport's
    # write buffer (64 KiB): about 2 * hwm + 26 here. Without back-pressure it would approach n.
    bound = 2 * hwm if transport == "inproc" else 2 * hwm + 80

    async def scenario() -> tuple[int, int]:
        ctx = purezmq.asyncio.Context()
        try:
            ctx.sndbuf = ctx.rcvbuf = 64 * 1024  # defaults for the sockets below
            push, pull = await push_pull(ctx, transport, hwm=hwm)
            sent = received = max_ahead = 0

            async def slow_reader() -> None:
                nonlocal received
                while received < n:
                    msg = await op(pull.recv())
                    assert msg == payload
                    received += 1
                    await asyncio.sleep(0.001)

            reading = asyncio.ensure_future(slow_reader())
            try:
                for _ in range(n):
                    await op(push.send(payload))
                    sent += 1
                    max_ahead = max(max_ahead, sent - received)
                await op(reading, 30)
            finally:
                reading.cancel()
            return max_ahead, received
        finally:
            ctx.destroy(linger=0)

    max_ahead, received = run(scenario())
    assert received == n
    assert hwm <= max_ahead <= bound, f"{max_ahead} messages ahead of the reader (bound {bound})"


# --------------------------------------------------------------------------------------------------
# closing, and no helper thread


@pytest.mark.parametrize("impl", ["purezmq", "zmq"])
def test_close_cancels_pending_futures(run, impl: str) -> None:
    """Closing a socket cancels its pending recv (and send) futures, as pyzmq's zmq.asyncio does
    (run against zmq.asyncio too, to keep the expectation honest)."""
    lib = importlib.import_module(impl)
    aio = importlib.import_module(f"{impl}.asyncio")

    async def scenario() -> None:
        ctx = aio.Context()
        try:
            pull = ctx.socket(lib.PULL)
            pull.bind(f"inproc://close-{impl}")
            fut = pull.recv()
            fut_multi = pull.recv_multipart()

            async def in_task() -> bytes:
                return await pull.recv()

            task = asyncio.ensure_future(in_task())
            await asyncio.sleep(0)  # the task starts and parks in recv

            push = ctx.socket(lib.PUSH)  # no peer: a send waits
            sending = push.send(b"never")
            assert not sending.done()

            pull.close(linger=0)
            push.close(linger=0)
            for f in (fut, fut_multi, task, sending):
                with pytest.raises(asyncio.CancelledError):
                    await op(f)
            assert fut.cancelled() and task.cancelled() and sending.cancelled()
        finally:
            ctx.destroy(linger=0)

    run(scenario())


def test_no_helper_thread(run, ipc_endpoint: str) -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        before = threading.active_count()
        ctx = purezmq.asyncio.Context()
        try:
            for transport in ("tcp", "ipc", "inproc"):
                push, pull = await push_pull(ctx, transport, ipc_endpoint, name="threads")
                req = ctx.socket(purezmq.REQ)
                rep = ctx.socket(purezmq.REP)
                req.linger = rep.linger = 0
                if transport == "inproc":
                    rep.bind("inproc://threads-rr")
                    req.connect("inproc://threads-rr")
                else:
                    req.connect(bind_any(rep, "tcp"))
                for i in range(20):
                    await op(push.send_multipart([b"%d" % i, b"x" * 1000]))
                    assert await op(pull.recv_multipart()) == [b"%d" % i, b"x" * 1000]
                    await op(req.send(b"ping"))
                    assert await op(rep.recv()) == b"ping"
                    await op(rep.send(b"pong"))
                    assert await op(req.recv()) == b"pong"
                during = threading.active_count()
                names = [t.name for t in threading.enumerate()]
                for sock in (push, pull, req, rep):
                    sock.close(linger=0)
                if during != before:
                    return before, during, names
        finally:
            ctx.destroy(linger=0)
        return before, threading.active_count(), [t.name for t in threading.enumerate()]

    before, after, names = run(scenario())
    assert after == before, f"threads: {names}"

    # Control: the count does see an engine thread, e.g. the I/O thread of a blocking socket.
    baseline = threading.active_count()
    blocking_ctx = purezmq.Context()
    try:
        blocking = blocking_ctx.socket(purezmq.PULL)
        bind_any(blocking, "tcp")
        assert threading.active_count() == baseline + 1
    finally:
        blocking_ctx.destroy(linger=0)

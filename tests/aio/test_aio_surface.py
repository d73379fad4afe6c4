"""purezmq.asyncio as pyzmq's zmq.asyncio: the same test bodies run against both libraries.

What is checked: every call returns an ``asyncio.Future`` (done when it could complete at once),
cancellable without losing a message; results and errors as pyzmq's (which ones raise at once,
which ones fail the future); shadows of blocking sockets and contexts; the Poller over asyncio
sockets, blocking sockets and file descriptors; one context (and one socket) used from one event
loop after another; Context.term() and the context manager in a coroutine; bad input.

The deliberate differences are tested at the end, on purezmq alone (``test_purezmq_*``).
Every test runs on the default asyncio loop and on uvloop (the ``run`` fixture).
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import json
import pickle
import socket
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from ._aio import OP_TIMEOUT, op, run_on

pytestmark = pytest.mark.timeout(60)

MSG = b"0123456789abcdef"


@pytest.fixture(params=["zmq", "purezmq"])
def lib(request: pytest.FixtureRequest) -> SimpleNamespace:
    """``lib.zmq`` (the blocking API) and ``lib.aio`` (its asyncio module) of one library."""
    return SimpleNamespace(
        name=request.param,
        zmq=importlib.import_module(request.param),
        aio=importlib.import_module(request.param + ".asyncio"),
    )


def unique(prefix: str) -> str:
    return f"inproc://{prefix}-{time.monotonic_ns()}"


def pair(ctx: Any, zmq: Any, name: str = "surface") -> tuple[Any, Any]:
    """Two connected PAIR sockets over inproc, linger 0."""
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.linger = b.linger = 0
    endpoint = unique(name)
    a.bind(endpoint)
    b.connect(endpoint)
    return a, b


async def outcome(call: Any) -> tuple[str, Any]:
    """How a call ended: ("raised", exc) at once, or through its future ("result", value) or
    ("failed", exc), or ("pending", None) after a short wait."""
    try:
        future = call()
    except Exception as exc:  # noqa: BLE001
        return "raised", exc
    assert asyncio.isfuture(future), f"{call} returned {type(future).__name__}, not a Future"
    try:
        return "result", await asyncio.wait_for(asyncio.shield(future), 0.3)
    except asyncio.TimeoutError:
        future.cancel()
        return "pending", None
    except Exception as exc:  # noqa: BLE001
        return "failed", exc


def drain(sock: Any, zmq: Any) -> None:
    while True:
        try:
            sock.recv(zmq.NOBLOCK).result()
        except zmq.Again:
            return


# --------------------------------------------------------------------------------------------------
# futures


def test_every_call_returns_a_future(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        a, b = pair(ctx, zmq)
        sends = [
            lambda: a.send(MSG),
            lambda: a.send_multipart([b"x", b"y"]),
            lambda: a.send_string("text"),
            lambda: a.send_json({"k": [1, 2]}),
            lambda: a.send_pyobj({"p": 1}),
            lambda: a.send_serialized({"s": 2}, lambda m: [json.dumps(m).encode()]),
        ]
        for call in sends:
            future = call()
            assert isinstance(future, asyncio.Future) and asyncio.isfuture(future)
            assert not asyncio.iscoroutine(future)
            # A send that can complete at once returns a done future, as pyzmq's.
            assert future.done() and future.result() is None
            seen: list[Any] = []
            future.add_done_callback(seen.append)
            await asyncio.sleep(0)
            assert seen == [future]
            assert await future is None

        recvs = [
            (lambda: b.recv(), MSG),
            (lambda: b.recv_multipart(), [b"x", b"y"]),
            (lambda: b.recv_string(), "text"),
            (lambda: b.recv_json(), {"k": [1, 2]}),
            (lambda: b.recv_pyobj(), {"p": 1}),
            (lambda: b.recv_serialized(lambda frames: json.loads(frames[0])), {"s": 2}),
        ]
        for call, expected in recvs:
            future = call()
            assert asyncio.isfuture(future) and not asyncio.iscoroutine(future)
            seen = []
            future.add_done_callback(seen.append)
            assert await op(future) == expected
            await asyncio.sleep(0)
            assert seen == [future]

        # Pending futures complete when the message comes.
        for call, expected in recvs:
            future = call()
            assert asyncio.isfuture(future)
            assert not future.done()
            await asyncio.sleep(0.01)
            assert not future.done()
            index = recvs.index((call, expected))
            assert (await op(sends[index]())) is None
            assert await op(future) == expected

        polling = b.poll(0)
        assert asyncio.isfuture(polling)
        assert await polling == 0
        assert type(polling.result()) is int
        polling = b.poll(OP_TIMEOUT * 1000)
        assert not polling.done()
        await op(a.send(MSG))
        assert await op(polling) == zmq.POLLIN
        assert type(polling.result()) is int
        assert await op(a.poll(0, zmq.POLLOUT)) == zmq.POLLOUT
        assert await op(b.recv()) == MSG
        a.close()
        b.close()
        ctx.term()

    run(scenario())


@pytest.mark.parametrize(
    "variant", ["recv", "recv_multipart", "recv_string", "recv_json", "recv_pyobj", "recv_ser"]
)
def test_cancelled_recv_variant_loses_no_message(run, lib, variant: str) -> None:
    zmq, aio = lib.zmq, lib.aio
    calls = {
        "recv": (lambda s: s.recv(), lambda s: s.send(b"one"), b"one"),
        "recv_multipart": (lambda s: s.recv_multipart(), lambda s: s.send(b"one"), [b"one"]),
        "recv_string": (lambda s: s.recv_string(), lambda s: s.send_string("one"), "one"),
        "recv_json": (lambda s: s.recv_json(), lambda s: s.send_json([1]), [1]),
        "recv_pyobj": (lambda s: s.recv_pyobj(), lambda s: s.send_pyobj((1,)), (1,)),
        "recv_ser": (
            lambda s: s.recv_serialized(lambda f: f[0].decode()),
            lambda s: s.send(b"one"),
            "one",
        ),
    }
    receive, send, expected = calls[variant]

    async def scenario() -> None:
        ctx = aio.Context()
        a, b = pair(ctx, zmq)
        pending = receive(b)
        await asyncio.sleep(0.01)
        assert pending.cancel()
        assert pending.cancelled()
        # Cancelled through a task and through wait_for, too.
        task = asyncio.ensure_future(receive(b))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(receive(b), 0.02)
        await op(send(a))
        assert await op(receive(b)) == expected
        assert await op(b.poll(50)) == 0
        a.close()
        b.close()
        ctx.term()

    run(scenario())


def test_cancelled_send_sends_nothing(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        endpoint = unique("cancel-send")
        push.bind(endpoint)
        sending = push.send(b"never")  # No peer: it waits.
        await asyncio.sleep(0.01)
        assert not sending.done()
        sending.cancel()
        pull = ctx.socket(zmq.PULL)
        pull.linger = 0
        pull.connect(endpoint)
        await op(push.send(b"first"))
        assert await op(pull.recv()) == b"first"
        assert await op(pull.poll(50)) == 0
        push.close()
        pull.close()
        ctx.term()

    run(scenario())


def test_concurrent_calls_complete_in_call_order(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        a, b = pair(ctx, zmq)
        receiving = [b.recv() for _ in range(5)]
        for number in range(5):
            await op(a.send(b"m%d" % number))
        assert [await op(future) for future in receiving] == [b"m%d" % n for n in range(5)]
        # A receive made while an earlier one waits does not overtake it, even when a message
        # is already there.
        first = b.recv()
        await asyncio.sleep(0.01)
        await op(a.send(b"one"))
        second = b.recv_string()
        await op(a.send(b"two"))
        assert await op(first) == b"one"
        assert await op(second) == "two"
        # Sends that must wait go out in the order they were made.
        push = ctx.socket(zmq.PUSH)
        pull = ctx.socket(zmq.PULL)
        push.linger = pull.linger = 0
        push.sndhwm = pull.rcvhwm = 1
        endpoint = unique("order")
        pull.bind(endpoint)
        push.connect(endpoint)
        sending = [push.send(b"s%d" % number) for number in range(20)]
        got = [await op(pull.recv()) for _ in range(20)]
        assert got == [b"s%d" % number for number in range(20)]
        await op(asyncio.gather(*sending))
        for sock in (a, b, push, pull):
            sock.close()
        ctx.term()

    run(scenario())


def test_timeouts_and_dontwait(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        pull = ctx.socket(zmq.PULL)
        pull.linger = 0
        pull.rcvtimeo = 30
        pull.bind(unique("timeouts"))
        for name in ("recv", "recv_multipart", "recv_string", "recv_json", "recv_pyobj"):
            future = getattr(pull, name)()
            assert not future.done()
            with pytest.raises(zmq.Again) as info:
                await op(future)
            assert info.value.errno == errno.EAGAIN
        push = ctx.socket(zmq.PUSH)
        push.linger = 0
        push.sndtimeo = 30
        push.bind(unique("timeouts-push"))
        with pytest.raises(zmq.Again):
            await op(push.send(b"x"))
        # DONTWAIT: a done future holding Again.
        for future in (push.send(b"x", zmq.DONTWAIT), pull.recv(zmq.NOBLOCK)):
            assert future.done()
            assert isinstance(future.exception(), zmq.Again)
        push.close()
        pull.close()
        ctx.term()

    run(scenario())


def test_track_and_frames(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        a, b = pair(ctx, zmq)
        assert await a.send(MSG, track=True) is None  # (copy=True: nothing to track.)
        tracker = await a.send(MSG, copy=False, track=True)
        assert isinstance(tracker, zmq.MessageTracker)
        assert await a.send_multipart([MSG], track=True) is None
        frame = await op(b.recv(copy=False))
        assert isinstance(frame, zmq.Frame) and frame.bytes == MSG
        assert await op(b.recv()) == MSG
        assert await op(b.recv_multipart()) == [MSG]
        buffer = bytearray(4)
        await a.send(MSG)
        assert await op(b.recv_into(buffer)) == len(MSG)
        assert bytes(buffer) == MSG[:4]
        a.close()
        b.close()
        ctx.term()

    run(scenario())


# --------------------------------------------------------------------------------------------------
# errors


def test_closed_socket(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        a, b = pair(ctx, zmq)
        receiving, polling = b.recv(), b.poll()
        await asyncio.sleep(0.01)
        b.close()
        await asyncio.sleep(0.01)
        assert receiving.cancelled() and polling.cancelled()  # Closing cancels what waits.
        for name in ("recv", "recv_multipart", "recv_string", "recv_json", "recv_pyobj"):
            how, exc = await outcome(getattr(b, name))
            assert how == "raised", name  # (pyzmq raises these at once.)
            assert isinstance(exc, zmq.ZMQError) and exc.errno == errno.ENOTSOCK
        for call in (
            lambda: b.send(b"x"),
            lambda: b.send(b"x", zmq.SNDMORE),
            lambda: b.send_multipart([b"x"]),
            lambda: b.send_string("x"),
            lambda: b.send_json(1),
        ):
            how, exc = await outcome(call)
            assert how == "failed"
            assert isinstance(exc, zmq.ZMQError) and exc.errno == errno.ENOTSOCK
        with pytest.raises(zmq.ZMQError) as info:
            b.poll()
        assert info.value.errno == errno.ENOTSUP
        a.close()
        ctx.term()

    run(scenario())


def test_terminated_context(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        a, b = pair(ctx, zmq)
        # term() from a thread (pyzmq's blocks until the sockets are closed).
        ending = threading.Thread(target=ctx.term, daemon=True)
        ending.start()
        await asyncio.sleep(0.1)
        for name in ("recv", "recv_multipart", "recv_string"):
            how, exc = await outcome(getattr(b, name))
            assert how == "raised" and isinstance(exc, zmq.ContextTerminated), (name, how, exc)
            assert exc.errno == zmq.ETERM
        for call in (lambda: b.send(b"x"), lambda: b.send_multipart([b"x"])):
            how, exc = await outcome(call)
            assert how == "failed" and isinstance(exc, zmq.ContextTerminated)
        with pytest.raises(zmq.ContextTerminated):
            b.poll(10)
        how, exc = await outcome(lambda: b.poll(0))
        assert how == "failed" and isinstance(exc, zmq.ContextTerminated)
        poller = aio.Poller()
        poller.register(b, zmq.POLLIN)
        with pytest.raises(zmq.ContextTerminated):
            poller.poll(10)
        a.close()
        b.close()
        await asyncio.get_running_loop().run_in_executor(None, ending.join, OP_TIMEOUT)
        assert not ending.is_alive()
        with pytest.raises(zmq.ZMQError) as info:
            ctx.socket(zmq.PAIR)
        assert info.value.errno == errno.ENOTSUP

    run(scenario())


def test_bad_input(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        ctx = aio.Context()
        a, b = pair(ctx, zmq)
        # Bad data: the future fails (pyzmq converts inside the send).
        for call, kind in (
            (lambda: a.send(5), TypeError),
            (lambda: a.send("text"), TypeError),
            (lambda: a.send(None), TypeError),
            (lambda: a.send_multipart(["text"]), TypeError),
            (lambda: a.send_multipart([b"x", 1]), TypeError),
            (lambda: a.send_multipart(b"abc"), TypeError),
            (lambda: a.send_multipart([]), IndexError),
        ):
            how, exc = await outcome(call)
            assert how == "failed" and isinstance(exc, kind), (how, exc)
        # Bad flags, bad arguments, serialisation: raised at once.
        for call, kind in (
            (lambda: a.send(b"x", "x"), TypeError),
            (lambda: b.recv("x"), TypeError),
            (lambda: b.recv(None), TypeError),
            (lambda: a.send_string(b"bytes"), TypeError),
            (lambda: a.send_json(object()), TypeError),
            (lambda: a.send_serialized(1, lambda m: 1 / 0), ZeroDivisionError),
            (lambda: b.poll("x"), TypeError),
        ):
            how, exc = await outcome(call)
            assert how == "raised" and isinstance(exc, kind), (how, exc)
        # What cannot be decoded: the future fails; the message is consumed.
        for payload, call, kind in (
            (b"not json", b.recv_json, json.JSONDecodeError),
            (b"\xff\xfe", b.recv_string, UnicodeDecodeError),
            (b"garbage", b.recv_pyobj, pickle.UnpicklingError),
            (b"m", lambda: b.recv_serialized(lambda frames: 1 / 0), ZeroDivisionError),
        ):
            await op(a.send(payload))
            how, exc = await outcome(call)
            assert how == "failed" and isinstance(exc, kind), (how, exc)
        assert await op(b.poll(20)) == 0
        # Endpoints, options, socket types: ZMQError at once.
        for call, number in (
            (lambda: a.bind("bogus://x"), errno.EPROTONOSUPPORT),
            (lambda: a.connect("tcp://"), errno.EINVAL),
            (lambda: a.setsockopt(9999, 1), errno.EINVAL),
            (lambda: ctx.socket(999), errno.EINVAL),
        ):
            with pytest.raises(zmq.ZMQError) as info:
                call()
            assert info.value.errno == number
        with pytest.raises(TypeError):
            a.linger = "x"
        # Wrong direction for the socket type, wrong state: the future fails.
        sub = ctx.socket(zmq.SUB)
        how, exc = await outcome(lambda: sub.send(b"x"))
        assert how == "failed" and exc.errno == errno.ENOTSUP
        req = ctx.socket(zmq.REQ)
        req.linger = 0
        req.connect(unique("nobody"))
        assert req.send(b"x").done()
        how, exc = await outcome(lambda: req.send(b"x"))
        assert how == "failed" and exc.errno == zmq.EFSM
        for sock in (a, b, sub, req):
            sock.close()
        ctx.term()

    run(scenario())


# --------------------------------------------------------------------------------------------------
# shadows


def test_from_socket_shares_the_blocking_socket(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio
    sync_ctx = zmq.Context()
    blocking_push = sync_ctx.socket(zmq.PUSH)
    blocking_pull = sync_ctx.socket(zmq.PULL)
    for sock in (blocking_push, blocking_pull):
        sock.linger = 0
        sock.rcvtimeo = sock.sndtimeo = int(OP_TIMEOUT * 1000)
    port = blocking_pull.bind_to_random_port("tcp://127.0.0.1")
    blocking_push.connect(f"tcp://127.0.0.1:{port}")

    async def scenario() -> None:
        push = aio.Socket.from_socket(blocking_push)
        pull = aio.Socket.from_socket(blocking_pull)
        assert isinstance(push, aio.Socket) and isinstance(pull, aio.Socket)
        assert push.underlying == blocking_push.underlying
        # Sent on the shadow or on the blocking socket: one connection, one queue.
        await op(push.send(b"from the shadow"))
        blocking_push.send(b"from the blocking socket")
        assert blocking_pull.recv() == b"from the shadow"
        assert await op(pull.recv()) == b"from the blocking socket"
        # A receive on the shadow waits in the loop for what the I/O thread delivers.
        receiving = pull.recv_multipart()
        await asyncio.sleep(0.02)
        assert not receiving.done()
        blocking_push.send_multipart([b"a", b"b"])
        assert await op(receiving) == [b"a", b"b"]
        polling = pull.poll(int(OP_TIMEOUT * 1000))
        await asyncio.sleep(0.02)
        assert not polling.done()
        await op(push.send(b"polled"))
        assert await op(polling) == zmq.POLLIN
        assert await op(pull.recv()) == b"polled"
        # The other spellings: Socket.shadow(socket), Socket.shadow(address), Socket(socket).
        for shadow in (
            aio.Socket.shadow(blocking_push),
            aio.Socket.shadow(blocking_push.underlying),
            aio.Socket(blocking_push),
        ):
            assert isinstance(shadow, aio.Socket)
            await op(shadow.send(b"again"))
            assert await op(pull.recv()) == b"again"
        # Closing a shadow closes the socket (they are one).
        push.close()
        assert blocking_push.closed
        pull.close()

    try:
        run(scenario())
    finally:
        for sock in (blocking_push, blocking_pull):
            sock.close(0)
        sync_ctx.term()


def test_shadow_of_a_blocking_context(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio
    sync_ctx = zmq.Context()

    async def scenario() -> None:
        shadows = [
            aio.Context(sync_ctx),
            aio.Context(shadow=sync_ctx),
            aio.Context.shadow(sync_ctx),
        ]
        shadows.append(aio.Context.shadow(shadows[0].underlying))
        for number, shadow in enumerate(shadows):
            assert isinstance(shadow, aio.Context) and not shadow.closed
            sock = shadow.socket(zmq.PAIR)
            assert isinstance(sock, aio.Socket)
            endpoint = unique(f"shared-{number}")
            sock.bind(endpoint)
            peer = sync_ctx.socket(zmq.PAIR)  # One context: the inproc names are shared.
            peer.connect(endpoint)
            peer.send(b"blocking -> asyncio")
            assert await op(sock.recv()) == b"blocking -> asyncio"
            await op(sock.send(b"asyncio -> blocking"))
            assert await asyncio.get_running_loop().run_in_executor(None, peer.recv) == (
                b"asyncio -> blocking"
            )
            sock.close(0)
            peer.close(0)
        # An asyncio socket of a blocking context.
        sock = aio.Socket(sync_ctx, zmq.PAIR)
        assert isinstance(sock, aio.Socket)
        sock.close()
        with pytest.raises(ValueError):
            aio.Context.shadow("x")
        with pytest.raises(ValueError):
            aio.Socket.shadow("x")
        with pytest.raises(AttributeError):
            aio.Socket.from_socket(42)

    try:
        run(scenario())
    finally:
        sync_ctx.term()


# --------------------------------------------------------------------------------------------------
# Poller


def test_poller_over_asyncio_and_blocking_sockets_and_fds(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio
    sync_ctx = zmq.Context()
    sync_pull = sync_ctx.socket(zmq.PULL)
    sync_push = sync_ctx.socket(zmq.PUSH)
    for sock in (sync_pull, sync_push):
        sock.linger = 0
    port = sync_pull.bind_to_random_port("tcp://127.0.0.1")
    sync_push.connect(f"tcp://127.0.0.1:{port}")
    reader, writer = socket.socketpair()

    async def scenario() -> None:
        ctx = aio.Context()
        pull = ctx.socket(zmq.PULL)
        push = ctx.socket(zmq.PUSH)
        pull.linger = push.linger = 0
        endpoint = unique("poller")
        pull.bind(endpoint)
        push.connect(endpoint)
        poller = aio.Poller()
        poller.register(pull, zmq.POLLIN)
        poller.register(sync_pull, zmq.POLLIN)
        poller.register(reader, zmq.POLLIN)
        poller.register(writer.fileno(), zmq.POLLOUT)
        # Ready at once: the writable fd, reported by its number.
        first = poller.poll(0)
        assert asyncio.isfuture(first)
        assert await first == [(writer.fileno(), zmq.POLLOUT)]
        poller.unregister(writer.fileno())
        assert await poller.poll(0) == []

        polling = poller.poll(int(OP_TIMEOUT * 1000))
        assert asyncio.isfuture(polling)
        await asyncio.sleep(0.02)
        assert not polling.done()
        sync_push.send(b"to the blocking socket")
        assert await op(polling) == [(sync_pull, zmq.POLLIN)]
        assert sync_pull.recv() == b"to the blocking socket"

        polling = poller.poll(int(OP_TIMEOUT * 1000))
        await asyncio.sleep(0.02)
        writer.send(b"!")
        assert await op(polling) == [(reader.fileno(), zmq.POLLIN)]
        reader.recv(1)

        polling = poller.poll(int(OP_TIMEOUT * 1000))
        await asyncio.sleep(0.02)
        await op(push.send(b"to the asyncio socket"))
        assert await op(polling) == [(pull, zmq.POLLIN)]
        assert await op(pull.recv()) == b"to the asyncio socket"

        started = time.monotonic()
        assert await op(poller.poll(50)) == []
        assert time.monotonic() - started >= 0.04
        polling = poller.poll()
        await asyncio.sleep(0.01)
        polling.cancel()
        assert polling.cancelled()

        # Bad items and closed sockets: raised at once.
        for item in ("x", 3.5, object(), -1):
            bad = aio.Poller()
            bad.register(item, zmq.POLLIN)
            with pytest.raises(ValueError):
                bad.poll(10)
        closed = ctx.socket(zmq.PULL)
        closed.close()
        bad = aio.Poller()
        bad.register(closed, zmq.POLLIN)
        with pytest.raises(zmq.ZMQError) as info:
            bad.poll(10)
        assert info.value.errno == errno.ENOTSOCK
        with pytest.raises(TypeError):
            poller.poll("x")
        pull.close()
        push.close()
        ctx.term()

    try:
        run(scenario())
    finally:
        reader.close()
        writer.close()
        sync_pull.close()
        sync_push.close()
        sync_ctx.term()


# --------------------------------------------------------------------------------------------------
# event loops


async def exchange(ctx: Any, zmq: Any, transport: str) -> None:
    """Sockets made, used and closed in one loop."""
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.linger = b.linger = 0
    if transport == "tcp":
        port = a.bind_to_random_port("tcp://127.0.0.1")
        b.connect(f"tcp://127.0.0.1:{port}")
    else:
        endpoint = unique("loops")
        a.bind(endpoint)
        b.connect(endpoint)
    await op(b.send(b"ping"))
    assert await op(a.recv()) == b"ping"
    await op(a.send_multipart([b"po", b"ng"]))
    assert await op(b.recv_multipart()) == [b"po", b"ng"]
    a.close()
    b.close()


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_one_context_from_one_loop_after_another(loop_name: str, lib, transport: str) -> None:
    zmq, aio = lib.zmq, lib.aio
    ctx = aio.Context()
    for _ in range(3):
        run_on(loop_name, exchange(ctx, zmq, transport), 20)
    instance = aio.Context.instance()
    assert isinstance(instance, aio.Context)
    for _ in range(2):
        run_on(loop_name, exchange(instance, zmq, transport), 20)
        assert aio.Context.instance() is instance
    ctx.term()


@pytest.mark.parametrize("transport", ["inproc", "tcp", "ipc"])
def test_socket_made_outside_a_loop_and_kept_across_loops(
    loop_name: str, lib, transport: str, ipc_endpoint: str
) -> None:
    """pyzmq's sockets do not depend on a loop; purezmq's move to the next loop that uses them
    (or a peer of theirs), reconnecting what the ended loop's transports carried."""
    zmq, aio = lib.zmq, lib.aio
    ctx = aio.Context()
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.linger = b.linger = 0
    if transport == "tcp":
        port = a.bind_to_random_port("tcp://127.0.0.1")
        b.connect(f"tcp://127.0.0.1:{port}")
    elif transport == "ipc":
        a.bind(ipc_endpoint)
        b.connect(ipc_endpoint)
    else:
        endpoint = unique("outside")
        a.bind(endpoint)
        b.connect(endpoint)

    async def talk(number: int) -> None:
        await op(b.send(b"ping %d" % number))
        assert await op(a.recv()) == b"ping %d" % number
        await op(a.send(b"pong %d" % number))
        assert await op(b.recv()) == b"pong %d" % number

    try:
        for number in range(3):  # The first loop, then loops after it ended.
            run_on(loop_name, talk(number), 20)
    finally:
        a.close()
        b.close()
        ctx.term()


def test_term_in_a_coroutine_delivers_what_was_sent(loop_name: str, lib) -> None:
    """Closed sockets, term() in the coroutine: every message reaches the peer (pyzmq's term
    blocks the loop while they go; purezmq's returns and asyncio.run waits for the flush)."""
    zmq, aio = lib.zmq, lib.aio
    count = 2000
    receiver_ctx = zmq.Context()
    receiver = receiver_ctx.socket(zmq.PULL)
    receiver.linger = 0
    receiver.rcvtimeo = int(OP_TIMEOUT * 1000)
    port = receiver.bind_to_random_port("tcp://127.0.0.1")

    async def sender() -> float:
        ctx = aio.Context()
        push = ctx.socket(zmq.PUSH)
        push.linger = 5000
        push.connect(f"tcp://127.0.0.1:{port}")
        for number in range(count):
            await push.send(b"%d" % number)
        push.close()
        started = time.monotonic()
        ctx.term()
        assert ctx.closed
        return time.monotonic() - started

    try:
        took = run_on(loop_name, sender(), 30)
        if lib.name == "purezmq":
            assert took < 0.5  # It does not block the loop (see the module's help).
        got = [receiver.recv() for _ in range(count)]
        assert got == [b"%d" % number for number in range(count)]
    finally:
        receiver.close()
        receiver_ctx.term()


def test_context_manager_destroys_with_a_warning(run, lib) -> None:
    zmq, aio = lib.zmq, lib.aio

    async def scenario() -> None:
        with pytest.warns(ResourceWarning), aio.Context() as ctx:
            left_open = ctx.socket(zmq.PULL)
            left_open.bind(unique("left-open"))
        assert left_open.closed and ctx.closed

    run(scenario())


# --------------------------------------------------------------------------------------------------
# purezmq's deliberate differences (documented in the README and in purezmq.asyncio's help)


def test_purezmq_term_in_a_coroutine_with_open_sockets_does_not_hang(run) -> None:
    """pyzmq's term() would block the loop forever (its sockets can only close in that loop):
    purezmq's returns, and what waits on those sockets fails with ContextTerminated."""
    import purezmq
    import purezmq.asyncio

    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        a, b = pair(ctx, purezmq)
        receiving, polling = b.recv(), b.poll()
        await asyncio.sleep(0.01)
        started = time.monotonic()
        ctx.term()
        assert time.monotonic() - started < 1
        for future in (receiving, polling):
            with pytest.raises(purezmq.ContextTerminated):
                await op(future)
        with pytest.raises(purezmq.ContextTerminated):
            await op(a.send(b"x"))
        a.close()
        b.close()

    run(scenario())


def test_purezmq_receive_that_can_never_succeed_fails_at_once(run) -> None:
    """pyzmq's recv() on a PUB, or on a REQ before its request, stays pending forever (it waits
    for POLLIN); purezmq's fails as the blocking call does (ENOTSUP, EFSM)."""
    import purezmq
    import purezmq.asyncio

    async def scenario() -> None:
        ctx = purezmq.asyncio.Context()
        pub = ctx.socket(purezmq.PUB)
        req = ctx.socket(purezmq.REQ)
        with pytest.raises(purezmq.ZMQError) as info:
            await op(pub.recv())
        assert info.value.errno == errno.ENOTSUP
        with pytest.raises(purezmq.ZMQError) as info:
            await op(req.recv())
        assert info.value.errno == purezmq.EFSM
        pub.close()
        req.close()
        ctx.term()

    run(scenario())

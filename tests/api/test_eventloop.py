"""zmq.eventloop on tornado 6: ``ioloop``, ``zmqstream.ZMQStream`` and ``future``. Each test body
runs against pyzmq and purezmq (the ``lib`` fixture), the stream's peer over tcp being a socket
of the *other* library where the test is about the wire; purezmq-only tests say so in their
names.

The trap these tests set: a socket's FD is edge-triggered (it fires when something changes, and
reading EVENTS resets it), so a stream must keep handling messages while EVENTS shows them, not
one message per wake-up; messages that arrived before the stream (or its on_recv) existed, or
while it was not receiving, must be delivered without a new wake-up.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import pickle
import threading
import time
import warnings
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any, TypeVar

import pytest

tornado_ioloop = pytest.importorskip("tornado.ioloop")

import zmq as _pyzmq  # noqa: E402

import purezmq  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # (Importing ioloop warns, as pyzmq's.)
    for _name in ("zmq", "purezmq"):
        for _module in ("ioloop", "zmqstream", "future"):
            importlib.import_module(f"{_name}.eventloop.{_module}")

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.filterwarnings("ignore:zmq.eventloop.ioloop is deprecated:DeprecationWarning"),
]

T = TypeVar("T")
WAIT = 5.0  # Seconds any one expected event may take.


@pytest.fixture(params=["zmq", "purezmq"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


def other(lib: ModuleType) -> ModuleType:
    """The library at the other end of the wire."""
    return purezmq if lib is _pyzmq else _pyzmq


def stream_class(lib: ModuleType) -> Any:
    return importlib.import_module(f"{lib.__name__}.eventloop.zmqstream").ZMQStream


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the stream")
        await asyncio.sleep(0.005)


async def recv_soon(sock: Any, timeout: float = WAIT) -> list[bytes]:
    """A multipart message from a blocking socket, without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while not sock.poll(0):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the peer")
        await asyncio.sleep(0.005)
    return sock.recv_multipart()


def tcp_pair(ctx: Any, peer_ctx: Any, lib: ModuleType, stream_type: int, peer_type: int) -> Any:
    """(the stream's socket bound, the peer connected), with linger 0."""
    sock = ctx.socket(stream_type)
    sock.linger = 0
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    peer = peer_ctx.socket(peer_type)
    peer.linger = 0
    peer.connect(f"tcp://127.0.0.1:{port}")
    return sock, peer


def inproc_pair(ctx: Any, lib: ModuleType, name: str) -> tuple[Any, Any]:
    a = ctx.socket(lib.PAIR)
    b = ctx.socket(lib.PAIR)
    a.linger = b.linger = 0
    address = f"inproc://eventloop-{name}-{time.monotonic_ns()}"
    a.bind(address)
    b.connect(address)
    return a, b


# --------------------------------------------------------------------------------------------------
# ZMQStream


def test_echo_server_with_a_peer_of_the_other_library(lib: ModuleType) -> None:
    async def main() -> list[list[bytes]]:
        ctx, peer_ctx = lib.Context(), other(lib).Context()
        sock, peer = tcp_pair(ctx, peer_ctx, lib, lib.ROUTER, other(lib).DEALER)
        stream = stream_class(lib)(sock)
        stream.on_recv(stream.send_multipart)  # [identity, *frames] back where it came from
        try:
            replies = []
            for i in range(20):
                peer.send_multipart([b"echo", str(i).encode()])
                replies.append(await recv_soon(peer))
            return replies
        finally:
            stream.close(linger=0)
            peer.close()
            ctx.term()
            peer_ctx.term()

    assert run(main()) == [[b"echo", str(i).encode()] for i in range(20)]


def test_on_recv_stream_and_copy_false(lib: ModuleType) -> None:
    async def main() -> None:
        ctx, peer_ctx = lib.Context(), other(lib).Context()
        sock, peer = tcp_pair(ctx, peer_ctx, lib, lib.PULL, other(lib).PUSH)
        stream = stream_class(lib)(sock)
        got: list[Any] = []
        stream.on_recv_stream(lambda s, msg: got.append((s, msg)), copy=False)
        try:
            peer.send_multipart([b"a", b"bc"])
            await eventually(lambda: len(got) == 1)
            who, msg = got[0]
            assert who is stream
            assert all(isinstance(frame, lib.Frame) for frame in msg)
            assert [frame.bytes for frame in msg] == [b"a", b"bc"]
            stream.on_recv(got.append)  # copy=True: bytes
            peer.send(b"d")
            await eventually(lambda: len(got) == 2)
            assert got[1] == [b"d"]
        finally:
            stream.close(linger=0)
            peer.close()
            ctx.term()
            peer_ctx.term()

    run(main())


def test_send_variants_are_queued_and_call_on_send(lib: ModuleType) -> None:
    async def main() -> None:
        ctx, peer_ctx = lib.Context(), other(lib).Context()
        sock, peer = tcp_pair(ctx, peer_ctx, lib, lib.PUSH, other(lib).PULL)
        stream = stream_class(lib)(sock)
        sent: list[tuple[Any, Any]] = []
        stream.on_send(lambda msg, status: sent.append((msg, status)))
        try:
            stream.send(b"a")
            stream.send_multipart([b"b", b"c"])
            stream.send_string("d")
            stream.send_json({"e": 1})
            stream.send_pyobj(("f", 2))
            # Queued: nothing is sent before the loop runs.
            assert stream.sending() and sent == []
            received = [await recv_soon(peer) for _ in range(5)]
            await eventually(lambda: len(sent) == 5)
            assert not stream.sending()
            assert [status for _, status in sent] == [None] * 5
            assert [msg for msg, _ in sent] == [
                [b"a"],
                [b"b", b"c"],
                [b"d"],
                [json.dumps({"e": 1}).encode()],
                [pickle.dumps(("f", 2), -1)],
            ]
            assert received[:3] == [[b"a"], [b"b", b"c"], [b"d"]]
            assert json.loads(received[3][0]) == {"e": 1}
            assert pickle.loads(received[4][0]) == ("f", 2)

            # A send's own callback becomes the stream's send callback (pyzmq's behaviour).
            own: list[Any] = []
            stream.send(b"g", callback=lambda msg, status: own.append(msg))
            stream.send(b"h")
            assert [await recv_soon(peer) for _ in range(2)] == [[b"g"], [b"h"]]
            await eventually(lambda: len(own) == 2)
            assert own == [[b"g"], [b"h"]] and len(sent) == 5

            stream.on_send_stream(lambda s, msg, status: own.append((s is stream, msg)))
            stream.send(b"i")
            await eventually(lambda: len(own) == 3)
            assert own[2] == (True, [b"i"])
            stream.stop_on_send()
            stream.send(b"j")
            assert await recv_soon(peer) == [b"i"]
            assert await recv_soon(peer) == [b"j"]
            assert len(own) == 3
        finally:
            stream.close(linger=0)
            peer.close()
            ctx.term()
            peer_ctx.term()

    run(main())


def test_flush(lib: ModuleType) -> None:
    async def main() -> None:
        ctx = lib.Context()
        a, b = inproc_pair(ctx, lib, "flush")
        stream = stream_class(lib)(a)
        got: list[Any] = []
        try:
            # Nothing registered, nothing queued: nothing to flush.
            assert stream.flush() == 0
            for i in range(5):
                b.send(str(i).encode())
            assert a.poll(int(WAIT * 1000))
            stream.on_recv(got.append)
            # Handled now, in this call, without the loop: up to the limit, then the rest.
            assert stream.flush(lib.POLLIN, limit=2) == 2
            assert got == [[b"0"], [b"1"]]
            assert stream.flush(lib.POLLOUT) == 0  # (Nothing queued to send.)
            assert stream.flush() == 3
            assert got == [[b"0"], [b"1"], [b"2"], [b"3"], [b"4"]]

            # Without a receive callback, flush(POLLIN) takes the messages and drops them.
            stream.stop_on_recv()
            b.send(b"dropped")
            b.send(b"dropped too")
            assert a.poll(int(WAIT * 1000))
            assert stream.flush(lib.POLLIN) == 2
            assert not a.poll(0)

            # Queued sends go out in flush(POLLOUT), their callbacks called.
            sent: list[Any] = []
            stream.on_send(lambda msg, status: sent.append(msg))
            stream.send(b"x")
            stream.send(b"y")
            assert stream.flush(lib.POLLOUT) == 2
            assert sent == [[b"x"], [b"y"]] and not stream.sending()
            assert [b.recv(), b.recv()] == [b"x", b"y"]
        finally:
            stream.close(linger=0)
            b.close()
            ctx.term()

    run(main())


def test_stop_on_recv_then_resume(lib: ModuleType) -> None:
    """Messages that arrive while the stream is not receiving wait in the socket, and are all
    delivered when on_recv is registered again (no new wake-up of the FD is needed)."""

    async def main() -> None:
        ctx, peer_ctx = lib.Context(), other(lib).Context()
        sock, peer = tcp_pair(ctx, peer_ctx, lib, lib.PULL, other(lib).PUSH)
        stream = stream_class(lib)(sock)
        got: list[Any] = []
        stream.on_recv(got.append)
        try:
            assert stream.receiving()
            peer.send(b"first")
            await eventually(lambda: got == [[b"first"]])
            stream.stop_on_recv()
            assert not stream.receiving()
            for i in range(3):
                peer.send(str(i).encode())
            await asyncio.sleep(0.3)
            assert got == [[b"first"]]
            stream.on_recv(got.append)
            await eventually(lambda: len(got) == 4)
            assert got == [[b"first"], [b"0"], [b"1"], [b"2"]]
        finally:
            stream.close(linger=0)
            peer.close()
            ctx.term()
            peer_ctx.term()

    run(main())


def test_close_and_the_close_callback(lib: ModuleType) -> None:
    async def main() -> None:
        ctx = lib.Context()
        a, b = inproc_pair(ctx, lib, "close")
        stream = stream_class(lib)(a)
        calls: list[tuple[Any, ...]] = []
        stream.set_close_callback(lambda *args: calls.append(args))
        assert not stream.closed()
        stream.close(linger=0)
        assert calls == [()]
        assert stream.closed() and a.closed and stream.socket is None
        stream.close()  # A second close does nothing.
        assert calls == [()]
        for call in (
            lambda: stream.send(b"x"),
            lambda: stream.on_recv(print),
            lambda: stream.flush(),
        ):
            with pytest.raises(OSError, match="Stream is closed"):
                call()

        # A socket closed directly: the stream notices, and tells its close callback.
        c, d = inproc_pair(ctx, lib, "close-socket")
        other_stream = stream_class(lib)(c)
        other_calls: list[int] = []
        other_stream.set_close_callback(lambda: other_calls.append(1))
        c.close(linger=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # (Both warn about the old FD.)
            assert other_stream.closed()
        assert other_calls == [1] and other_stream.socket is None
        b.close()
        d.close()
        ctx.term()

    run(main())


def test_purezmq_term_in_another_thread_closes_the_stream() -> None:
    """purezmq-only: Context.term() wakes an open stream, which closes its socket (and tells
    its close callback), so term() returns. pyzmq's stream only logs, and term() waits for
    a close that nobody makes."""

    async def main() -> None:
        ctx = purezmq.Context()
        sock = ctx.socket(purezmq.PULL)
        sock.bind("tcp://127.0.0.1:*")
        stream = purezmq.eventloop.zmqstream.ZMQStream(sock)
        stream.on_recv(print)
        closed: list[int] = []
        stream.set_close_callback(lambda: closed.append(1))
        terminating = threading.Thread(target=ctx.term, daemon=True)
        terminating.start()
        await eventually(lambda: not terminating.is_alive())
        assert closed == [1] and stream.closed() and sock.closed

    run(main())


@pytest.mark.parametrize("count", [1000])
def test_many_messages_in_one_wakeup_are_all_delivered(lib: ModuleType, count: int) -> None:
    """The edge-trigger trap: a burst that arrives while the loop is busy wakes the FD once."""

    async def main() -> list[Any]:
        ctx, peer_ctx = lib.Context(), other(lib).Context()
        sock, peer = tcp_pair(ctx, peer_ctx, lib, lib.PULL, other(lib).PUSH)
        stream = stream_class(lib)(sock)
        got: list[Any] = []
        stream.on_recv(got.append)
        try:
            peer.send(b"hello")
            await eventually(lambda: len(got) == 1)
            for i in range(count):
                peer.send(b"%d" % i)
            time.sleep(0.5)  # The loop is blocked: the burst arrives meanwhile, in one go.
            await eventually(lambda: len(got) == count + 1)
            await asyncio.sleep(0.05)
            return got
        finally:
            stream.close(linger=0)
            peer.close()
            ctx.term()
            peer_ctx.term()

    got = run(main())
    assert got == [[b"hello"]] + [[b"%d" % i] for i in range(count)]


def test_messages_waiting_before_the_stream_existed(lib: ModuleType) -> None:
    async def main() -> list[Any]:
        ctx, peer_ctx = lib.Context(), other(lib).Context()
        sock, peer = tcp_pair(ctx, peer_ctx, lib, lib.PULL, other(lib).PUSH)
        try:
            for i in range(10):
                peer.send(b"%d" % i)
            assert sock.poll(int(WAIT * 1000))
            time.sleep(0.2)  # (All of them in.)
            stream = stream_class(lib)(sock)
            got: list[Any] = []
            stream.on_recv(got.append)
            await eventually(lambda: len(got) == 10)
            stream.close(linger=0)
            return got
        finally:
            peer.close()
            ctx.destroy(linger=0)
            peer_ctx.term()

    assert run(main()) == [[b"%d" % i] for i in range(10)]


def test_reply_sent_from_the_receive_callback_over_many_requests(lib: ModuleType) -> None:
    """A REP stream answering in its callback: each reply makes POLLIN possible again, which
    only EVENTS tells (no new edge when the next request is already in)."""

    async def main() -> int:
        ctx, peer_ctx = lib.Context(), other(lib).Context()
        sock, peer = tcp_pair(ctx, peer_ctx, lib, lib.ROUTER, other(lib).DEALER)
        stream = stream_class(lib)(sock)
        stream.on_recv(lambda msg: stream.send_multipart([msg[0], b"re:" + msg[-1]]))
        try:
            for i in range(200):
                peer.send_multipart([b"", b"%d" % i])
            replies = [await recv_soon(peer) for _ in range(200)]
            assert replies == [[b"re:%d" % i] for i in range(200)]
            return len(replies)
        finally:
            stream.close(linger=0)
            peer.close()
            ctx.term()
            peer_ctx.term()

    assert run(main()) == 200


def test_purezmq_callback_errors_are_logged_and_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """purezmq-only: pyzmq's stream logs the error too, then re-raises it into the loop and
    leaves the socket's FD reset with nothing watching EVENTS: it stalls (even later messages
    wait). purezmq's logs it and goes on with the next message."""
    lib = purezmq

    async def main() -> list[Any]:
        ctx = lib.Context()
        a, b = inproc_pair(ctx, lib, "errors")
        stream = stream_class(lib)(a)
        got: list[Any] = []

        def callback(msg: list[bytes]) -> None:
            got.append(msg)
            if msg == [b"bad"]:
                raise ValueError("boom")

        stream.on_recv(callback)
        try:
            b.send(b"bad")
            await eventually(lambda: len(got) == 1)
            await asyncio.sleep(0.05)
            b.send(b"good")
            await eventually(lambda: len(got) == 2)
            return got
        finally:
            stream.close(linger=0)
            b.close()
            ctx.term()

    with caplog.at_level(logging.ERROR, logger="tornado.general"):
        assert run(main()) == [[b"bad"], [b"good"]]
    assert any("Uncaught exception in ZMQStream callback" in r.message for r in caplog.records)


def test_coroutine_callbacks(lib: ModuleType) -> None:
    async def main() -> list[Any]:
        ctx = lib.Context()
        a, b = inproc_pair(ctx, lib, "coroutines")
        stream = stream_class(lib)(a)
        got: list[Any] = []

        async def callback(msg: list[bytes]) -> None:
            await asyncio.sleep(0)
            got.append(msg)

        stream.on_recv(callback)
        try:
            b.send(b"x")
            b.send(b"y")
            await eventually(lambda: len(got) == 2)
            return got
        finally:
            stream.close(linger=0)
            b.close()
            ctx.term()

    assert run(main()) == [[b"x"], [b"y"]]


def test_stream_attributes(lib: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        ctx = lib.Context()
        sock = ctx.socket(lib.DEALER)
        stream = stream_class(lib)(sock)
        assert stream.socket is sock
        assert stream.io_loop is tornado_ioloop.IOLoop.current()
        port = stream.bind_to_random_port("tcp://127.0.0.1")
        assert stream.getsockopt(lib.LAST_ENDPOINT) == f"tcp://127.0.0.1:{port}".encode()
        stream.setsockopt(lib.LINGER, 0)
        assert sock.linger == 0
        assert not stream.receiving() and not stream.sending()
        with caplog.at_level(logging.WARNING, logger="tornado.general"):
            stream.on_err(print)  # Deprecated: a warning in the log, nothing else.
        assert any("on_err does nothing" in r.message for r in caplog.records)
        stream.close()
        ctx.term()

    run(main())


def test_an_asyncio_socket_is_wrapped_with_a_warning(lib: ModuleType) -> None:
    async def main() -> None:
        asyncio_lib = importlib.import_module(f"{lib.__name__}.asyncio")
        ctx = asyncio_lib.Context()
        sock = ctx.socket(lib.PAIR)
        with pytest.warns(RuntimeWarning, match="only supports the base zmq.Socket"):
            stream = stream_class(lib)(sock)
        assert type(stream.socket) is lib.Socket
        stream.close(linger=0)
        ctx.destroy(linger=0)

    run(main())


def test_zmqstream_has_pyzmq_public_methods() -> None:
    ours = purezmq.eventloop.zmqstream.ZMQStream
    theirs = _pyzmq.eventloop.zmqstream.ZMQStream
    public = {n for n in vars(theirs) if not n.startswith("_")}
    assert sorted(public - set(dir(ours))) == []


# --------------------------------------------------------------------------------------------------
# ioloop


def test_ioloop_module(lib: ModuleType) -> None:
    ioloop = importlib.import_module(f"{lib.__name__}.eventloop.ioloop")
    assert ioloop.IOLoop is tornado_ioloop.IOLoop
    assert ioloop.ZMQIOLoop is tornado_ioloop.IOLoop
    assert ioloop.PeriodicCallback is tornado_ioloop.PeriodicCallback
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert ioloop.install() is None
    eventloop = importlib.import_module(f"{lib.__name__}.eventloop")
    assert eventloop.IOLoop is tornado_ioloop.IOLoop
    assert eventloop.__all__ == ["IOLoop"]


def test_ioloop_has_pyzmq_public_names() -> None:
    theirs = {n for n in dir(_pyzmq.eventloop.ioloop) if not n.startswith("_")}
    ours = set(dir(purezmq.eventloop.ioloop))
    assert sorted(theirs - ours) == []


def test_importing_ioloop_warns_purezmq() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import purezmq.eventloop.ioloop"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "DeprecationWarning" in result.stderr and "<string>:1" in result.stderr


# --------------------------------------------------------------------------------------------------
# future


def test_future_sockets(lib: ModuleType) -> None:
    future = importlib.import_module(f"{lib.__name__}.eventloop.future")

    async def main() -> None:
        ctx = future.Context()
        assert isinstance(ctx, lib.Context)
        a, b = ctx.socket(lib.PAIR), ctx.socket(lib.PAIR)
        assert isinstance(a, future.Socket) and isinstance(a, lib.Socket)
        a.linger = b.linger = 0
        address = f"inproc://eventloop-future-{time.monotonic_ns()}"
        a.bind(address)
        b.connect(address)
        try:
            receiving = a.recv_multipart()
            assert isinstance(receiving, asyncio.Future) and not receiving.done()
            sent = b.send_multipart([b"x", b"y"])
            assert isinstance(sent, asyncio.Future)
            await sent
            assert await asyncio.wait_for(receiving, WAIT) == [b"x", b"y"]
            await b.send_string("s")
            assert await asyncio.wait_for(a.recv_string(), WAIT) == "s"
            await b.send_json({"j": 1})
            assert await asyncio.wait_for(a.recv_json(), WAIT) == {"j": 1}

            # cancel(): finished with the module's CancelledError (an Exception, not asyncio's),
            # and the receive is withdrawn: the next message goes to the next recv.
            cancelled = a.recv()
            assert cancelled.cancel() is True
            assert cancelled.done() and cancelled.cancelled()
            assert isinstance(cancelled.exception(), future.CancelledError)
            assert not issubclass(future.CancelledError, asyncio.CancelledError)
            assert cancelled.cancel() is False
            await b.send(b"after")
            assert await asyncio.wait_for(a.recv(), WAIT) == b"after"

            poller = future.Poller()
            poller.register(a, lib.POLLIN)
            polling = poller.poll(int(WAIT * 1000))
            assert isinstance(polling, asyncio.Future)
            await b.send(b"p")
            assert await asyncio.wait_for(polling, WAIT) == [(a, lib.POLLIN)]
            assert await a.recv() == b"p"
            assert await asyncio.wait_for(a.poll(0), WAIT) == 0
        finally:
            a.close()
            b.close()
            ctx.term()

    run(main())
    assert future.Future is asyncio.Future
    assert future.IOLoop is tornado_ioloop.IOLoop
    assert future.Context.instance() is future.Context.instance()
    assert future.Context.instance() is not lib.Context.instance()
    future.Context.instance().term()


def test_future_module_has_pyzmq_public_names() -> None:
    theirs = {n for n in dir(_pyzmq.eventloop.future) if not n.startswith("_")}
    theirs -= {"Any", "annotations", "asyncio", "warnings"}  # pyzmq's own imports
    assert sorted(theirs - set(dir(purezmq.eventloop.future))) == []

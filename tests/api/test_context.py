"""Context API: socket(), term(), destroy(), instance(), with-block, ETERM, defaults, LINGER."""

from __future__ import annotations

import errno
import threading
import time

import pytest
from interop._util import free_tcp_port, make_socket

from ._helpers import Worker, connected_pair

pytestmark = pytest.mark.timeout(30)


# --------------------------------------------------------------------------------------------------
# socket(), term(), destroy(), closed


def test_socket_returns_socket_of_the_context(zmq_impl, ctx) -> None:
    s = ctx.socket(zmq_impl.PUSH)
    try:
        assert isinstance(s, zmq_impl.Socket)
        assert s.type == zmq_impl.PUSH
        assert s.context is ctx
        assert not s.closed
    finally:
        s.close(linger=0)


def test_term_returns_once_sockets_are_closed(zmq_impl) -> None:
    c = zmq_impl.Context()
    a = c.socket(zmq_impl.PUSH)
    b = c.socket(zmq_impl.PULL)
    b.bind("inproc://term-once-closed")
    a.connect("inproc://term-once-closed")
    a.close(linger=0)
    b.close(linger=0)
    worker = Worker(c.term, "term")
    worker.start()
    worker.finish(5)
    assert c.closed


def test_term_blocks_until_the_last_socket_is_closed(zmq_impl) -> None:
    c = zmq_impl.Context()
    s = c.socket(zmq_impl.PULL)
    s.linger = 0
    worker = Worker(c.term, "term")
    worker.start()
    # term must still be waiting for the open socket.
    assert not worker.done.wait(0.3)
    assert not c.closed
    s.close()
    worker.finish(5)
    assert c.closed


def test_destroy_closes_all_sockets(zmq_impl) -> None:
    c = zmq_impl.Context()
    sockets = [c.socket(t) for t in (zmq_impl.PUSH, zmq_impl.PULL, zmq_impl.PUB, zmq_impl.ROUTER)]
    sockets[0].connect(f"tcp://127.0.0.1:{free_tcp_port()}")
    sockets[0].send(b"queued but never delivered")
    sockets[1].bind_to_random_port("tcp://127.0.0.1")
    t0 = time.monotonic()
    c.destroy(linger=0)
    assert time.monotonic() - t0 < 2.0
    assert all(s.closed for s in sockets)
    assert c.closed


def test_closed_property(zmq_impl) -> None:
    c = zmq_impl.Context()
    assert c.closed is False
    c.term()
    assert c.closed is True
    c.term()  # a second term is harmless
    assert c.closed is True


def test_context_manager_terminates(zmq_impl) -> None:
    with zmq_impl.Context() as c:
        assert isinstance(c, zmq_impl.Context)
        assert not c.closed
        s = c.socket(zmq_impl.PAIR)
        s.close()
    assert c.closed


def test_instance_is_shared_until_terminated(zmq_impl) -> None:
    first = zmq_impl.Context.instance()
    try:
        assert isinstance(first, zmq_impl.Context)
        assert zmq_impl.Context.instance() is first
        seen = []
        worker = Worker(lambda: seen.append(zmq_impl.Context.instance()), "instance")
        worker.start()
        worker.finish(5)
        assert seen == [first]
    finally:
        first.term()
    second = zmq_impl.Context.instance()
    try:
        assert second is not first
        assert not second.closed
        assert zmq_impl.Context.instance() is second
    finally:
        second.term()


# --------------------------------------------------------------------------------------------------
# ETERM


def test_blocked_recv_gets_context_terminated(zmq_impl) -> None:
    c = zmq_impl.Context()
    ready = threading.Event()
    outcome: dict[str, object] = {}

    def blocked_recv() -> None:
        s = c.socket(zmq_impl.PULL)
        s.bind("inproc://blocked-recv")
        ready.set()
        try:
            s.recv()
        except zmq_impl.ZMQError as exc:
            outcome["error"] = exc
        finally:
            s.close()

    receiver = Worker(blocked_recv, "blocked-recv")
    receiver.start()
    assert ready.wait(5)
    terminator = Worker(c.term, "term")
    terminator.start()
    receiver.finish(5)
    terminator.finish(5)
    exc = outcome.get("error")
    assert isinstance(exc, zmq_impl.ContextTerminated), exc
    assert isinstance(exc, zmq_impl.ZMQError)
    assert exc.errno == zmq_impl.ETERM
    assert c.closed


def test_recv_blocked_in_owner_thread_gets_context_terminated(zmq_impl) -> None:
    c = zmq_impl.Context()
    s = c.socket(zmq_impl.PULL)
    terminator = Worker(c.term, "term")
    terminator.start()
    try:
        with pytest.raises(zmq_impl.ContextTerminated) as info:
            s.recv()  # no message will ever come: only term can end this
        assert info.value.errno == zmq_impl.ETERM
    finally:
        s.close()
    terminator.finish(5)


def test_send_after_term_raises_context_terminated(zmq_impl) -> None:
    c = zmq_impl.Context()
    s = c.socket(zmq_impl.PUB)
    s.linger = 0
    terminator = Worker(c.term, "term")
    terminator.start()
    error = None
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            try:
                s.send(b"x")  # a PUB never blocks: it succeeds until term begins
            except zmq_impl.ZMQError as exc:
                error = exc
                break
            time.sleep(0.005)
    finally:
        s.close()
    terminator.finish(5)
    assert isinstance(error, zmq_impl.ContextTerminated), error
    assert error.errno == zmq_impl.ETERM


def test_socket_after_term_raises_zmqerror(zmq_impl) -> None:
    c = zmq_impl.Context()
    c.term()
    with pytest.raises(zmq_impl.ZMQError):
        c.socket(zmq_impl.PUSH)


def test_socket_after_term_errno_is_pyzmqs(zmq_impl, pyzmq) -> None:
    """pyzmq refuses a socket on a closed context with ENOTSUP."""
    c = zmq_impl.Context()
    c.term()
    with pytest.raises(zmq_impl.ZMQError) as info:
        c.socket(zmq_impl.PUSH)
    assert info.value.errno == errno.ENOTSUP == pyzmq.ENOTSUP


def test_socket_after_destroy_raises_zmqerror(zmq_impl) -> None:
    c = zmq_impl.Context()
    c.socket(zmq_impl.PUSH)
    c.destroy(linger=0)
    with pytest.raises(zmq_impl.ZMQError):
        c.socket(zmq_impl.PULL)


# --------------------------------------------------------------------------------------------------
# context-level socket defaults


def test_context_linger_attribute_applies_to_new_sockets(zmq_impl, ctx) -> None:
    before = ctx.socket(zmq_impl.PUSH)
    ctx.linger = 0
    assert ctx.linger == 0
    assert ctx.getsockopt(zmq_impl.LINGER) == 0
    after = ctx.socket(zmq_impl.PUSH)
    try:
        assert after.linger == 0
        assert after.getsockopt(zmq_impl.LINGER) == 0
        assert before.linger == -1  # existing sockets keep their value
    finally:
        before.close(linger=0)
        after.close()


def test_context_setsockopt_applies_to_new_sockets(zmq_impl, ctx) -> None:
    ctx.setsockopt(zmq_impl.SNDHWM, 7)
    ctx.setsockopt(zmq_impl.RCVTIMEO, 250)
    ctx.setsockopt(zmq_impl.LINGER, 0)
    assert ctx.getsockopt(zmq_impl.SNDHWM) == 7
    s = ctx.socket(zmq_impl.DEALER)
    try:
        assert s.getsockopt(zmq_impl.SNDHWM) == 7
        assert s.rcvtimeo == 250
        assert s.linger == 0
        # and the default really is in effect: recv times out after ~250 ms
        t0 = time.monotonic()
        with pytest.raises(zmq_impl.Again):
            s.recv()
        assert 0.15 < time.monotonic() - t0 < 2.0
    finally:
        s.close()


def test_context_linger_zero_makes_term_prompt(zmq_impl) -> None:
    c = zmq_impl.Context()
    c.linger = 0
    push = c.socket(zmq_impl.PUSH)
    push.connect(f"tcp://127.0.0.1:{free_tcp_port()}")
    push.send(b"never delivered")
    push.close()
    t0 = time.monotonic()
    worker = Worker(c.term, "term")
    worker.start()
    worker.finish(5)
    assert time.monotonic() - t0 < 1.0


# --------------------------------------------------------------------------------------------------
# LINGER and term


def _queue_three(zmq_impl, c, endpoint: str, linger: int | None):
    push = c.socket(zmq_impl.PUSH)
    if linger is not None:
        push.linger = linger
    push.connect(endpoint)
    for i in range(3):
        push.send(b"lingering-%d" % i, zmq_impl.NOBLOCK)
    return push


def test_term_waits_for_queued_messages_with_default_linger(zmq_impl, pyctx, pyzmq) -> None:
    endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    c = zmq_impl.Context()
    push = _queue_three(zmq_impl, c, endpoint, None)
    assert push.linger == -1

    def close_and_term() -> None:
        push.close()
        c.term()

    worker = Worker(close_and_term, "close-and-term")
    worker.start()
    # Nothing listens: the messages cannot go anywhere, so term must keep waiting.
    assert not worker.done.wait(0.5), "term returned with undelivered messages and linger -1"

    pull = make_socket(pyctx, pyzmq.PULL)
    pull.bind(endpoint)
    got = [pull.recv() for _ in range(3)]
    assert got == [b"lingering-0", b"lingering-1", b"lingering-2"]
    worker.finish(10)
    assert c.closed


def test_term_with_linger_zero_is_prompt_and_drops(zmq_impl, pyctx, pyzmq) -> None:
    endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    c = zmq_impl.Context()
    push = _queue_three(zmq_impl, c, endpoint, 0)

    def close_and_term() -> None:
        push.close()
        c.term()

    t0 = time.monotonic()
    worker = Worker(close_and_term, "close-and-term")
    worker.start()
    worker.finish(5)
    assert time.monotonic() - t0 < 1.0

    pull = make_socket(pyctx, pyzmq.PULL)
    pull.bind(endpoint)
    assert pull.poll(300) == 0, "a message was delivered after term with linger 0"


def test_close_linger_argument_overrides_option(zmq_impl, pyctx, pyzmq) -> None:
    endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    c = zmq_impl.Context()
    push = _queue_three(zmq_impl, c, endpoint, None)  # option says -1 (forever)
    push.close(linger=0)
    t0 = time.monotonic()
    worker = Worker(c.term, "term")
    worker.start()
    worker.finish(5)
    assert time.monotonic() - t0 < 1.0


def test_term_with_linger_200ms_returns_after_about_200ms(zmq_impl) -> None:
    endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    c = zmq_impl.Context()
    push = _queue_three(zmq_impl, c, endpoint, 200)
    assert push.getsockopt(zmq_impl.LINGER) == 200
    t0 = time.monotonic()

    def close_and_term() -> None:
        push.close()
        c.term()

    worker = Worker(close_and_term, "close-and-term")
    worker.start()
    worker.finish(5)
    elapsed = time.monotonic() - t0
    assert 0.1 <= elapsed <= 2.0, elapsed


def test_term_with_delivered_messages_returns_promptly(zmq_impl) -> None:
    """With a connected peer that received everything, default linger does not delay term."""
    c = zmq_impl.Context()
    push, pull = connected_pair(c, zmq_impl, zmq_impl.PUSH, zmq_impl.PULL)
    push.linger = -1
    for i in range(3):
        push.send(b"%d" % i)
    assert [pull.recv() for _ in range(3)] == [b"0", b"1", b"2"]
    push.close()
    pull.close()
    worker = Worker(c.term, "term")
    worker.start()
    worker.finish(5)

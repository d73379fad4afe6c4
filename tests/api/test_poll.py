"""Poller (register/modify/unregister/poll over sockets and raw fds) and zmq.select."""

from __future__ import annotations

import os
import socket
import time

import pytest
from interop._util import make_socket

from ._helpers import Worker, connected_pair

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def pipe_fds():
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


def _poll_until(poller, expected: dict, timeout_s: float = 5.0) -> dict:
    """Poll until every (item, event) of ``expected`` has been reported at once; return the last
    result as a dict."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
        got = dict(poller.poll(min(remaining_ms, 500)))
        if all(got.get(k, 0) & v == v for k, v in expected.items()):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {expected}, last poll gave {got}")


# --------------------------------------------------------------------------------------------------
# register / modify / unregister


def test_register_modify_unregister(zmq_impl, ctx) -> None:
    POLLIN, POLLOUT = zmq_impl.POLLIN, zmq_impl.POLLOUT
    a = make_socket(ctx, zmq_impl.PULL)
    b = make_socket(ctx, zmq_impl.PUSH)
    poller = zmq_impl.Poller()
    assert poller.sockets == []
    assert a not in poller
    poller.register(a, POLLIN)
    poller.register(b)  # default: POLLIN | POLLOUT
    assert a in poller and b in poller
    assert poller.sockets == [(a, POLLIN), (b, POLLIN | POLLOUT)]
    poller.modify(b, POLLOUT)
    assert poller.sockets == [(a, POLLIN), (b, POLLOUT)]
    poller.register(a, POLLIN | POLLOUT)  # registering again modifies
    assert poller.sockets == [(a, POLLIN | POLLOUT), (b, POLLOUT)]
    poller.unregister(a)
    assert a not in poller
    assert poller.sockets == [(b, POLLOUT)]
    poller.register(b, 0)  # flags 0 unregisters
    assert b not in poller
    assert poller.sockets == []
    with pytest.raises(KeyError):
        poller.unregister(a)


def test_poll_sockets_and_raw_fd(zmq_impl, ctx, pipe_fds) -> None:
    POLLIN, POLLOUT = zmq_impl.POLLIN, zmq_impl.POLLOUT
    push1, pull1 = connected_pair(ctx, zmq_impl, zmq_impl.PUSH, zmq_impl.PULL)
    push2, pull2 = connected_pair(ctx, zmq_impl, zmq_impl.PUSH, zmq_impl.PULL)
    rfd, wfd = pipe_fds
    poller = zmq_impl.Poller()
    poller.register(pull1, POLLIN)
    poller.register(pull2, POLLIN)
    poller.register(rfd, POLLIN)
    assert poller.poll(0) == []

    push1.send(b"one")
    got = _poll_until(poller, {pull1: POLLIN})
    assert got == {pull1: POLLIN}
    result = poller.poll(0)
    assert isinstance(result, list)
    assert all(isinstance(item, tuple) and len(item) == 2 for item in result)
    assert result == [(pull1, POLLIN)]

    os.write(wfd, b"!")
    push2.send(b"two")
    got = _poll_until(poller, {pull1: POLLIN, pull2: POLLIN, rfd: POLLIN})
    assert got == {pull1: POLLIN, pull2: POLLIN, rfd: POLLIN}
    assert type(next(k for k in got if not isinstance(k, zmq_impl.Socket))) is int

    assert pull1.recv() == b"one"
    assert pull2.recv() == b"two"
    assert os.read(rfd, 1) == b"!"
    assert poller.poll(0) == []

    # POLLOUT on a connected PUSH
    poller.register(push1, POLLOUT)
    assert _poll_until(poller, {push1: POLLOUT}) == {push1: POLLOUT}
    poller.unregister(push1)

    # unregistered sockets are no longer reported
    push1.send(b"again")
    poller.unregister(pull1)
    assert pull1.poll(5000) == POLLIN
    assert poller.poll(100) == []


def test_poll_object_with_fileno(zmq_impl, ctx) -> None:
    """An object with fileno() can be registered; pyzmq reports it by its integer fd."""
    left, right = socket.socketpair()
    try:
        poller = zmq_impl.Poller()
        poller.register(left, zmq_impl.POLLIN)
        assert poller.poll(0) == []
        right.send(b"x")
        assert poller.poll(5000) == [(left.fileno(), zmq_impl.POLLIN)]
    finally:
        left.close()
        right.close()


def test_poll_zero_returns_immediately(zmq_impl, ctx) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    pull.bind_to_random_port("tcp://127.0.0.1")
    poller = zmq_impl.Poller()
    poller.register(pull, zmq_impl.POLLIN)
    t0 = time.monotonic()
    for _ in range(10):
        assert poller.poll(0) == []
    assert time.monotonic() - t0 < 0.5


def test_poll_times_out_after_roughly_timeout(zmq_impl, ctx, pipe_fds) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    pull.bind_to_random_port("tcp://127.0.0.1")
    poller = zmq_impl.Poller()
    poller.register(pull, zmq_impl.POLLIN)
    t0 = time.monotonic()
    assert poller.poll(200) == []
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed <= 2.0, elapsed

    poller.register(pipe_fds[0], zmq_impl.POLLIN)  # with a raw fd in the set too
    t0 = time.monotonic()
    assert poller.poll(200) == []
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed <= 2.0, elapsed


def test_empty_poller_times_out(zmq_impl) -> None:
    poller = zmq_impl.Poller()
    t0 = time.monotonic()
    assert poller.poll(100) == []
    assert time.monotonic() - t0 <= 2.0


def test_poll_without_timeout_wakes_on_message_from_other_thread(zmq_impl, ctx) -> None:
    push, pull = connected_pair(ctx, zmq_impl, zmq_impl.PUSH, zmq_impl.PULL)
    poller = zmq_impl.Poller()
    poller.register(pull, zmq_impl.POLLIN)
    waiter = Worker(poller.poll, "poll-forever")
    waiter.start()
    push.send(b"wake")
    assert waiter.finish(5) == [(pull, zmq_impl.POLLIN)]
    assert pull.recv() == b"wake"


# --------------------------------------------------------------------------------------------------
# zmq.select


def test_select(zmq_impl, ctx, pipe_fds) -> None:
    push, pull = connected_pair(ctx, zmq_impl, zmq_impl.PUSH, zmq_impl.PULL)
    rfd, wfd = pipe_fds

    t0 = time.monotonic()
    assert zmq_impl.select([pull, rfd], [], [], 0.2) == ([], [], [])
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed <= 2.0, elapsed

    rlist, wlist, xlist = zmq_impl.select([pull], [push], [], 5)
    assert (rlist, wlist, xlist) == ([], [push], [])

    push.send(b"x")
    os.write(wfd, b"y")
    deadline = time.monotonic() + 5
    while True:
        rlist, wlist, xlist = zmq_impl.select([pull, rfd], [], [], 1.0)
        if len(rlist) == 2 or time.monotonic() > deadline:
            break
    assert sorted(rlist, key=id) == sorted([pull, rfd], key=id)  # order is unspecified
    assert wlist == [] and xlist == []
    assert pull.recv() == b"x"
    assert os.read(rfd, 1) == b"y"
    assert zmq_impl.select([pull, rfd], [], [], 0) == ([], [], [])

"""Poller, zmq_poll and select against pyzmq: registering twice, flags 0, unregistering what is
not registered, plain fds and objects with fileno(), timeouts in ms (s for select), return types,
closed sockets, bad items.

Each test body runs against purezmq and against pyzmq (the ``lib`` fixture), except where a
comment marks a deliberate difference.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import zmq as pyzmq_module
from interop._util import make_socket

import purezmq

pytestmark = pytest.mark.timeout(30)

LIBS = {"purezmq": purezmq, "pyzmq": pyzmq_module}


@pytest.fixture(params=list(LIBS))
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return LIBS[request.param]


@pytest.fixture
def lctx(lib: ModuleType) -> Iterator[Any]:
    context = lib.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def pair(lib: ModuleType, lctx: Any) -> tuple[Any, Any]:
    a = make_socket(lctx, lib.PAIR)
    b = make_socket(lctx, lib.PAIR)
    a.bind("inproc://poll-surface")
    b.connect("inproc://poll-surface")
    return a, b


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


class HasFileno:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


def _wait_ready(poller: Any, item: Any, timeout_s: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = dict(poller.poll(100))
        if item in got:
            return got
    raise AssertionError(f"{item!r} never ready")


def test_register_twice_keeps_one_entry_with_the_new_flags(lib, pair) -> None:
    a, _ = pair
    p = lib.Poller()
    assert p.register(a) is None
    assert p.sockets == [(a, lib.POLLIN | lib.POLLOUT)]
    assert isinstance(p.sockets[0][1], lib.PollEvent)  # the flags as given
    p.register(a, lib.POLLIN)
    assert p.sockets == [(a, lib.POLLIN)]
    assert a in p
    p.modify(a, lib.POLLOUT)
    assert p.sockets == [(a, lib.POLLOUT)]
    p.register(a, 0)  # flags 0: unregistered
    assert a not in p and p.sockets == []
    p.register(a, 0)  # (not registered: nothing happens)
    assert p.sockets == []


def test_unregister_what_is_not_registered_is_a_keyerror(lib, pair) -> None:
    a, b = pair
    p = lib.Poller()
    p.register(a)
    with pytest.raises(KeyError):
        p.unregister(b)
    with pytest.raises(KeyError):
        p.unregister(99)
    p.unregister(a)
    with pytest.raises(KeyError):
        p.unregister(a)
    p.modify(b, lib.POLLIN)  # modify of an unregistered socket registers it
    assert b in p


def test_poll_returns_a_list_of_socket_and_int_events(lib, pair) -> None:
    a, b = pair
    p = lib.Poller()
    p.register(b, lib.POLLIN | lib.POLLOUT)
    a.send(b"x")
    got = _wait_ready(p, b)
    result = p.poll(0)
    assert isinstance(result, list)
    assert [(s is b, e, type(e)) for s, e in result] == [(True, 3, int)]
    assert got == {b: lib.POLLIN | lib.POLLOUT}


def test_empty_poller_and_empty_lists_return_at_once(lib) -> None:
    # As libzmq's zmq_poll with no items: no wait, whatever the timeout.
    t0 = time.monotonic()
    assert lib.Poller().poll(200) == []
    assert lib.zmq_poll([], 200) == []
    assert lib.select([], [], [], 0.2) == ([], [], [])
    assert time.monotonic() - t0 < 0.15


def test_timeouts_in_ms(lib, pipe) -> None:
    r, _ = pipe
    p = lib.Poller()
    p.register(r, lib.POLLIN)
    t0 = time.monotonic()
    assert p.poll(50) == []
    elapsed = time.monotonic() - t0
    assert 0.04 < elapsed < 1
    assert p.poll(0) == []
    assert p.poll(1.5) == []  # a float is taken
    with pytest.raises(TypeError):
        p.poll("1")
    with pytest.raises(TypeError):
        lib.zmq_poll([(r, lib.POLLIN)], None)  # (zmq_poll wants a number; Poller.poll takes None)


def test_plain_fds_objects_with_fileno_and_python_sockets(lib, pipe) -> None:
    r, w = pipe
    p = lib.Poller()
    p.register(r, lib.POLLIN)
    assert p.poll(0) == []
    os.write(w, b"x")
    assert p.poll(1000) == [(r, lib.POLLIN)]
    assert type(p.poll(0)[0][1]) is int
    p2 = lib.Poller()
    p2.register(HasFileno(r), lib.POLLIN)
    assert p2.poll(0) == [(r, lib.POLLIN)]  # reported by its fd, as pyzmq
    left, right = socket.socketpair()
    try:
        p3 = lib.Poller()
        p3.register(left, lib.POLLIN | lib.POLLOUT)
        assert p3.poll(0) == [(left.fileno(), lib.POLLOUT)]
    finally:
        left.close()
        right.close()


def test_a_closed_fd_is_pollerr(lib, pipe) -> None:
    r, _ = pipe
    fd = os.dup(r)
    os.close(fd)
    assert lib.zmq_poll([(fd, lib.POLLIN)], 0) == [(fd, lib.POLLERR)]


def test_bad_items(lib, pair) -> None:
    a, _ = pair
    p = lib.Poller()
    p.register("x")  # taken here...
    with pytest.raises(TypeError, match="Socket must be a 0MQ socket, an integer fd or have"):
        p.poll(0)  # ... refused here
    with pytest.raises(TypeError, match="Socket must be a 0MQ socket"):
        lib.select(["x"], [], [], 0)
    with pytest.raises(ValueError):
        lib.zmq_poll([(a,)], 0)


def test_zmq_poll(lib, pair, pipe) -> None:
    a, b = pair
    r, w = pipe
    a.send(b"x")
    os.write(w, b"x")
    deadline = time.monotonic() + 5
    while True:
        got = lib.zmq_poll([(b, lib.POLLIN), (r, lib.POLLIN)], 100)
        if len(got) == 2 or time.monotonic() > deadline:
            break
    assert [(s is b if not isinstance(s, int) else s, e) for s, e in got] == [
        (True, lib.POLLIN),
        (r, lib.POLLIN),
    ]
    assert lib.zmq_poll([(b, 0)], 0) == []
    assert lib.zmq_poll([(b, lib.POLLERR)], 0) == []


def test_select(lib, pair, pipe) -> None:
    a, b = pair
    r, w = pipe
    assert lib.select([b, r], [], [], 0) == ([], [], [])
    a.send(b"x")
    os.write(w, b"x")
    deadline = time.monotonic() + 5
    while True:
        rlist, wlist, xlist = lib.select([b, r, HasFileno(r)], [b], [b], 0.1)
        if len(rlist) == 3 or time.monotonic() > deadline:
            break
    # An object with fileno() comes back as its fd; pyzmq's order is that of a set, purezmq
    # keeps the arguments' order: compare as multisets.
    assert sorted(map(repr, rlist)) == sorted(map(repr, [b, r, r]))
    assert wlist == [b] and xlist == []
    assert lib.select([r], [], [], None)[0] == [r]  # timeout None: wait (r is readable)
    result = lib.select([r], [], [], 0)
    assert type(result) is tuple and type(result[0]) is list


def test_closed_socket_in_a_poll(lib, lctx) -> None:
    s = lctx.socket(lib.PULL)
    p = lib.Poller()
    p.register(s, lib.POLLIN)
    s.close()
    if lib is purezmq:
        # Deliberate: libzmq says ENOTSOCK for a closed socket; pyzmq polls its address 0 as
        # the file descriptor 0 (stdin) and may report it ready.
        with pytest.raises(lib.ZMQError):
            p.poll(0)
        with pytest.raises(lib.ZMQError):
            lib.zmq_poll([(s, lib.POLLIN)], 0)
    with pytest.raises(lib.ZMQError):
        s.poll(0)


def test_poll_wakes_for_a_message_from_another_thread(lib, pair) -> None:
    a, b = pair
    p = lib.Poller()
    p.register(b, lib.POLLIN)
    sender = threading.Timer(0.1, lambda: a.send(b"late"))
    sender.start()
    t0 = time.monotonic()
    got = dict(p.poll(5000))
    sender.join()
    assert got == {b: lib.POLLIN}
    assert time.monotonic() - t0 < 4
    assert b.recv() == b"late"

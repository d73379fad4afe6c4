"""Socket surface against pyzmq: shadow/underlying, copy, repr, options and their errors,
strings, subscriptions, endpoints and their errors, bind_to_random_port, the send/recv helpers
(json, pyobj, serialized, string), poll, close, the context manager, and FD with EVENTS (the
edge-triggered contract an event loop relies on).

Each test body runs against purezmq and against pyzmq (the ``lib`` fixture): what is asserted of
purezmq is what pyzmq 27 (libzmq 4.3.5) does, except where a comment marks a deliberate
difference.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import gc
import json
import pickle
import re
import select
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
    """A context of ``lib``, destroyed with linger 0 after the test."""
    context = lib.Context()
    yield context
    context.destroy(linger=0)


def _pair(lctx: Any, lib: ModuleType, kind_a: int, kind_b: int) -> tuple[Any, Any]:
    a = make_socket(lctx, kind_a)
    b = make_socket(lctx, kind_b)
    name = f"inproc://surface-{id(a):x}-{time.monotonic_ns()}"
    a.bind(name)
    b.connect(name)
    return a, b


def _repr_pattern(lib: ModuleType, kind: str, closed: bool = False) -> str:
    cls = "zmq.Socket" if lib is pyzmq_module else "purezmq.Socket"
    tail = " closed" if closed else ""
    return rf"<{re.escape(cls)}\(zmq\.{kind}\) at 0x[0-9a-f]+{tail}>"


# --------------------------------------------------------------------------------------------------
# repr, type, context, copy_threshold


def test_repr_open_and_closed(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    assert re.fullmatch(_repr_pattern(lib, "PUSH"), repr(s)), repr(s)
    assert f"at {id(s):#x}" in repr(s)
    s.close()
    assert re.fullmatch(_repr_pattern(lib, "PUSH", closed=True), repr(s)), repr(s)


def test_repr_of_a_subclass_names_its_module(lib, lctx) -> None:
    class MySocket(lib.Socket):
        pass

    s = lctx.socket(lib.SUB, socket_class=MySocket)
    try:
        assert isinstance(s, MySocket)
        assert repr(s).startswith(f"<{__name__}.MySocket(zmq.SUB) at 0x")
    finally:
        s.close()


def test_type_context_and_copy_threshold(lib, lctx) -> None:
    s = lctx.socket(lib.DEALER)
    try:
        assert s.type == lib.DEALER
        assert isinstance(s.type, lib.SocketType)
        with pytest.warns(DeprecationWarning, match="use Socket.type"):
            assert s.socket_type == lib.DEALER
        assert s.context is lctx
        assert s.copy_threshold == lib.COPY_THRESHOLD == 65536
        t = lctx.socket(lib.PUSH, copy_threshold=10)
        assert t.copy_threshold == 10
        t.close()
    finally:
        s.close()


def test_socket_constructor_errors(lib, lctx) -> None:
    with pytest.raises(TypeError, match="context must be specified"):
        lib.Socket()
    with pytest.raises(TypeError):
        lib.Socket(lib.PUSH)  # a socket type where the context goes
    with pytest.raises(TypeError):
        lctx.socket("PUSH")
    with pytest.raises(TypeError):
        lctx.socket(lib.PUSH, no_such_argument=1)
    with pytest.raises(lib.ZMQError) as info:
        lctx.socket(999)
    assert info.value.errno == errno.EINVAL
    s = lib.Socket(lctx, lib.PAIR)
    assert s.type == lib.PAIR
    s.close()


# --------------------------------------------------------------------------------------------------
# underlying, shadow, copy


def test_underlying_is_an_int_and_zero_once_closed(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    address = s.underlying
    assert isinstance(address, int) and address != 0
    assert s.underlying == address  # stable
    s.close()
    assert s.underlying == 0


def test_shadow_shares_the_socket(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    for shadow in (lib.Socket.shadow(a.underlying), lib.Socket.shadow(a), lib.Socket(shadow=a)):
        assert type(shadow) is lib.Socket
        assert shadow is not a
        assert shadow.underlying == a.underlying
        assert shadow.type == lib.PAIR
        a.linger = 7
        assert shadow.linger == 7
        shadow.send(b"via shadow")
        assert b.recv() == b"via shadow"
    via_ctx = lib.Socket(lctx, shadow=a.underlying)
    assert via_ctx.context is lctx
    assert lib.Socket.shadow(a).context is a.context  # pyzmq 25+: shadowing a Socket object


def test_collected_shadow_leaves_the_socket_open(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    shadow = lib.Socket.shadow(a.underlying)
    del shadow
    gc.collect()
    assert not a.closed
    a.send(b"still open")
    assert b.recv() == b"still open"


def test_closing_a_shadow_closes_the_socket_and_the_other_way(lib, lctx) -> None:
    a = lctx.socket(lib.PUSH)
    shadow = lib.Socket.shadow(a.underlying)
    shadow.close()
    assert shadow.closed and a.closed
    with pytest.raises(lib.ZMQError) as info:
        a.linger  # noqa: B018
    assert info.value.errno == errno.ENOTSOCK
    b = lctx.socket(lib.PULL)
    other = lib.Socket(shadow=b.underlying)
    b.close()
    assert other.closed


def test_shadow_of_a_subclass_is_of_that_class(lib, lctx) -> None:
    class MySocket(lib.Socket):
        pass

    s = lctx.socket(lib.PUSH)
    try:
        assert type(MySocket.shadow(s.underlying)) is MySocket
    finally:
        s.close()


def test_shadow_of_what_is_not_an_address(lib) -> None:
    with pytest.raises(ValueError):
        lib.Socket.shadow("abc")
    with pytest.raises(TypeError):
        lib.Socket.shadow(None)  # (no address: a socket needs a context)


def test_shadow_of_a_dead_address_is_an_error_not_a_crash() -> None:
    # pyzmq would dereference the pointer (and crash); purezmq looks it up: ValueError.
    ctx = purezmq.Context()
    s = ctx.socket(purezmq.PUSH)
    address = s.underlying
    s.close()
    with pytest.raises(ValueError):
        purezmq.Socket.shadow(address)
    with pytest.raises(ValueError):
        purezmq.Socket.shadow(12345)
    ctx.term()


def test_copy_and_deepcopy_give_shadows(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    for twin in (copy.copy(a), copy.deepcopy(a)):
        assert type(twin) is lib.Socket and twin is not a
        assert twin.underlying == a.underlying
        del twin
        gc.collect()
    assert not a.closed  # (a copy collected does not close the original)
    a.send(b"x")
    assert b.recv() == b"x"


def test_shadow_context_is_the_originals_in_purezmq() -> None:
    # Deliberate: pyzmq's shadow of an address has context None (it cannot know it); purezmq
    # knows the socket the address names, hence its context.
    ctx = purezmq.Context()
    s = ctx.socket(purezmq.PUSH)
    try:
        assert purezmq.Socket.shadow(s.underlying).context is ctx
        assert copy.copy(s).context is ctx
    finally:
        s.close()
        ctx.term()


# --------------------------------------------------------------------------------------------------
# options: attributes, hwm, errors


def test_hwm_get_set(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    try:
        assert s.hwm == s.get_hwm() == 1000
        s.set_hwm(5)
        assert (s.sndhwm, s.rcvhwm, s.hwm) == (5, 5, 5)
        s.hwm = 6
        assert (s.sndhwm, s.rcvhwm, s.get_hwm()) == (6, 6, 6)
    finally:
        s.close()


@pytest.mark.parametrize(
    ("option", "value", "error", "text"),
    [
        ("IDENTITY", "abc", TypeError, "unicode not allowed, use setsockopt_string"),
        ("LINGER", "5", TypeError, "unicode not allowed, use setsockopt_string"),
        ("LINGER", 5.0, TypeError, "expected int, got: 5.0"),
        ("LINGER", None, TypeError, "expected int, got: None"),
        ("LINGER", b"5", TypeError, "expected int, got: b'5'"),
        ("IDENTITY", 5, TypeError, "expected bytes, got: 5"),
        ("IDENTITY", bytearray(b"ab"), TypeError, "expected bytes, got: bytearray"),
        ("LINGER", 2**40, OverflowError, "value too large to convert to int"),
        ("MAXMSGSIZE", 2**70, OverflowError, ""),
    ],
)
def test_wrong_option_types_are_typeerrors(lib, lctx, option, value, error, text) -> None:
    s = lctx.socket(lib.PUSH)
    try:
        with pytest.raises(error) as info:
            s.setsockopt(getattr(lib, option), value)
        assert text in str(info.value)
    finally:
        s.close()


def test_refused_options_are_einval(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    try:
        for option, value in ((lib.SNDHWM, -1), (99999, 1), (lib.TYPE, 1), (lib.EVENTS, 1)):
            with pytest.raises(lib.ZMQError) as info:
                s.setsockopt(option, value)
            assert info.value.errno == errno.EINVAL
        with pytest.raises(lib.ZMQError) as info:
            s.events = 1
        assert info.value.errno == errno.EINVAL
        with pytest.raises(lib.ZMQError) as info:
            s.getsockopt(99999)
        assert info.value.errno == errno.EINVAL
        with pytest.raises(lib.ZMQError) as info:
            s.getsockopt(lib.SUBSCRIBE)  # write-only
        assert info.value.errno == errno.EINVAL
        s.setsockopt(lib.LINGER, True)  # a bool is an int
        assert s.linger == 1
    finally:
        s.close()


def test_option_given_as_a_name_is_a_typeerror(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    try:
        with pytest.raises(TypeError, match="an integer is required"):
            s.setsockopt("linger", 1)
        with pytest.raises(TypeError, match="an integer is required"):
            s.getsockopt("linger")
    finally:
        s.close()


def test_option_attributes_and_dir(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    try:
        s.linger = 3
        assert s.linger == s.LINGER == s.getsockopt(lib.LINGER) == 3
        assert isinstance(s.fd, int) and s.events == lib.POLLOUT * 0
        assert s.rcvmore == 0
        assert "LINGER" in dir(s) and "bind" in dir(s) and "hwm" in dir(s)
        with pytest.raises(AttributeError):
            s.no_such_option  # noqa: B018
        with pytest.raises(AttributeError, match="Socket has no such option: NO_SUCH_OPTION"):
            s.no_such_option = 1
    finally:
        s.close()


def test_string_options(lib, lctx) -> None:
    s = lctx.socket(lib.DEALER)
    try:
        s.set_string(lib.IDENTITY, "é")
        assert s.identity == "é".encode()
        assert s.get_string(lib.IDENTITY) == "é"
        assert s.getsockopt_string(lib.IDENTITY, "latin-1") == "é".encode().decode("latin-1")
        s.setsockopt_string(lib.IDENTITY, "x", encoding="ascii")
        assert s.getsockopt_unicode(lib.IDENTITY) == "x"
        s.setsockopt_unicode(lib.IDENTITY, "y")
        assert s.get_string(lib.LAST_ENDPOINT) == ""
        with pytest.raises(TypeError, match="strings only"):
            s.set_string(lib.IDENTITY, b"bytes")
        with pytest.raises(TypeError, match="expected int"):
            s.set_string(lib.LINGER, "5")
        with pytest.raises(TypeError, match="will not return a string"):
            s.get_string(lib.LINGER)
    finally:
        s.close()


# --------------------------------------------------------------------------------------------------
# subscriptions


def test_subscribe_takes_str_as_utf8(lib, lctx) -> None:
    pub, sub = _pair(lctx, lib, lib.PUB, lib.SUB)
    sub.subscribe("é")
    sub.subscribe(b"b")
    sub.setsockopt_string(lib.SUBSCRIBE, "c")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # (the subscriptions reach the PUB asynchronously)
        pub.send("éx".encode())
        if sub.poll(20):
            break
    assert sub.recv() == "éx".encode()
    sub.unsubscribe("é")
    with pytest.raises(TypeError, match="expected bytes, got: 5"):
        sub.subscribe(5)
    with pytest.raises(TypeError, match="unicode not allowed"):
        sub.setsockopt(lib.SUBSCRIBE, "x")


def test_subscribe_on_a_push_is_einval(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    try:
        with pytest.raises(lib.ZMQError) as info:
            s.subscribe("x")
        assert info.value.errno == errno.EINVAL
    finally:
        s.close()


# --------------------------------------------------------------------------------------------------
# endpoints


def test_bind_and_connect_argument_types_and_errors(lib, lctx) -> None:
    s = lctx.socket(lib.PAIR)
    try:
        with pytest.raises(TypeError, match="Expected addr to be str, got addr=5"):
            s.bind(5)
        with pytest.raises(TypeError, match="Expected addr to be str"):
            s.unbind(5)
        bound = s.bind(b"tcp://127.0.0.1:*")  # bytes are taken (utf-8)
        assert re.fullmatch(r"<SocketContext\(bind='tcp://127\.0\.0\.1:\d+'\)>", repr(bound))
        for call, addr, code in (
            (s.bind, "foo", errno.EINVAL),
            (s.bind, "tcp://", errno.EINVAL),
            (s.connect, "foo://x", errno.EPROTONOSUPPORT),
        ):
            with pytest.raises(lib.ZMQError) as info:
                call(addr)
            assert info.value.errno == code
            assert str(info.value).endswith(f"(addr={addr!r})"), str(info.value)
        for call in (s.unbind, s.disconnect):
            with pytest.raises(lib.ZMQError) as info:
                call("tcp://127.0.0.1:1")
            assert info.value.errno == errno.ENOENT
    finally:
        s.close()
    with pytest.raises(lib.ZMQError) as info:
        s.bind("inproc://after-close")
    assert info.value.errno == errno.ENOTSOCK
    assert "(addr='inproc://after-close')" in str(info.value)


def test_bind_to_random_port(lib, lctx) -> None:
    s = lctx.socket(lib.PULL)
    try:
        port = s.bind_to_random_port("tcp://127.0.0.1")
        assert isinstance(port, int) and s.last_endpoint == f"tcp://127.0.0.1:{port}".encode()
        port = s.bind_to_random_port(addr="tcp://127.0.0.1", min_port=41000, max_port=42000)
        assert 41000 <= port < 42000
        with pytest.raises(lib.ZMQBindError, match="Could not bind socket to random port"):
            s.bind_to_random_port("tcp://127.0.0.1", min_port=41000, max_port=42000, max_tries=0)
        # With the default range the system picks the port: max_tries does not count.
        assert isinstance(s.bind_to_random_port("tcp://127.0.0.1", max_tries=0), int)
        assert issubclass(lib.ZMQBindError, lib.ZMQBaseError)
        assert not issubclass(lib.ZMQBindError, lib.ZMQError)
        # An error other than "in use" is raised at once.
        with pytest.raises(lib.ZMQError) as info:
            s.bind_to_random_port("tcp://1.2.3.4", min_port=41000, max_port=42000)
        assert info.value.errno == errno.EADDRNOTAVAIL
        with pytest.raises(ValueError):
            s.bind_to_random_port("tcp://127.0.0.1", min_port=42000, max_port=41000)
    finally:
        s.close()


def test_bind_to_random_port_retries_a_port_in_use(lib, lctx) -> None:
    taken = lctx.socket(lib.PULL)
    s = lctx.socket(lib.PULL)
    try:
        port = taken.bind_to_random_port("tcp://127.0.0.1")
        with pytest.raises(lib.ZMQBindError):
            s.bind_to_random_port("tcp://127.0.0.1", min_port=port, max_port=port + 1, max_tries=3)
    finally:
        taken.close()
        s.close()


# --------------------------------------------------------------------------------------------------
# send/recv helpers


def test_send_errors(lib, lctx) -> None:
    a, _ = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    with pytest.raises(TypeError, match="unicode not allowed, use send_string"):
        a.send("x")
    for bad in (5, None, object()):
        with pytest.raises(TypeError, match="a bytes-like object is required"):
            a.send(bad)
    with pytest.raises(BufferError, match="not contiguous"):
        a.send(memoryview(b"abcdef")[::2])
    with pytest.raises(TypeError, match=r"Frame 0 \('x'\) does not support the buffer"):
        a.send_multipart(["x"])
    with pytest.raises(TypeError, match=r"Frame 1 \(5\) does not support the buffer"):
        a.send_multipart([b"ok", 5])
    with pytest.raises(TypeError, match=r"Frame 0 \(97\) does not support the buffer"):
        a.send_multipart(b"abc")  # (bytes are a sequence of ints)
    with pytest.raises(IndexError):
        a.send_multipart([])
    with pytest.raises(TypeError, match="str objects only"):
        a.send_string(b"x")
    with pytest.raises(TypeError, match="an integer is required"):
        a.send(b"x", flags="x")
    with pytest.raises(TypeError):
        a.send_json({1, 2})


def test_send_on_pull_and_recv_on_push_are_enotsup(lib, lctx) -> None:
    push, pull = _pair(lctx, lib, lib.PUSH, lib.PULL)
    with pytest.raises(lib.ZMQError) as info:
        push.recv(lib.NOBLOCK)
    assert info.value.errno == errno.ENOTSUP
    with pytest.raises(lib.ZMQError) as info:
        pull.send(b"x")
    assert info.value.errno == errno.ENOTSUP


def test_send_and_recv_string_with_encodings(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    a.send_string("é", encoding="latin-1")
    assert b.recv() == b"\xe9"
    a.send(b"\xe9")
    assert b.recv_string(encoding="latin-1") == "é"
    a.send_unicode("ü")
    assert b.recv_unicode() == "ü"
    a.send_string("x", lib.SNDMORE)
    a.send_string("y")
    assert b.recv_string(0, "utf-8") == "x" and b.rcvmore
    assert b.recv_string() == "y"
    with pytest.raises(UnicodeEncodeError):
        a.send_string("é", encoding="ascii")


def test_json(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    doc = {"a": 1, "é": [1, 2.5, None], "b": "x"}
    a.send_json(doc)
    raw = b.recv()
    assert raw == json.dumps(doc).encode("utf-8")  # pyzmq's: json.dumps's defaults
    a.send_json(doc, indent=1)
    assert b.recv() == json.dumps(doc, indent=1).encode()
    a.send(b'{"a": 1.5}')
    import decimal

    assert b.recv_json(parse_float=decimal.Decimal) == {"a": decimal.Decimal("1.5")}
    a.send_json([1], lib.SNDMORE)
    a.send_json([2])
    assert b.recv_json() == [1] and b.recv_json() == [2]


def test_pyobj(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    a.send_pyobj({"x": (1, 2)})
    assert b.recv_pyobj() == {"x": (1, 2)}
    a.send_pyobj([1], protocol=2)
    raw = b.recv()
    assert raw == pickle.dumps([1], 2)
    a.send_pyobj([3])
    assert pickle.loads(b.recv()) == [3]  # default protocol: pickle.DEFAULT_PROTOCOL


def test_serialized(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)

    def serialize(msg: dict) -> list[bytes]:
        return [msg["k"].encode(), json.dumps(msg["v"]).encode()]

    def deserialize(frames: list[Any]) -> dict:
        return {"k": bytes(frames[0]).decode(), "v": json.loads(bytes(frames[1]))}

    msg = {"k": "key", "v": [1, 2]}
    assert a.send_serialized(msg, serialize) is None
    assert b.recv_serialized(deserialize) == msg
    a.send_serialized(msg, serialize, copy=False)
    seen: list[type] = []

    def deserialize_frames(frames: list[Any]) -> dict:
        seen.extend(type(f) for f in frames)
        return deserialize([f.bytes for f in frames])

    assert b.recv_serialized(deserialize_frames, copy=False) == msg
    assert seen and all(issubclass(t, lib.Frame) for t in seen)


# --------------------------------------------------------------------------------------------------
# poll, close, context manager


def test_poll(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    assert b.poll(0) == 0
    assert b.poll(0, lib.POLLOUT) == lib.POLLOUT
    assert b.poll(1.5, lib.POLLIN) == 0  # float ms
    a.send(b"x")
    assert b.poll(1000) == lib.POLLIN
    assert b.poll(flags=lib.POLLIN | lib.POLLOUT) == lib.POLLIN | lib.POLLOUT
    assert b.poll(0, 0) == 0
    with pytest.raises(TypeError):
        b.poll("1")
    with pytest.raises(TypeError):
        b.poll(10, "x")
    b.close()
    with pytest.raises(lib.ZMQError) as info:
        b.poll(0)
    assert info.value.errno == errno.ENOTSUP


def test_close_with_linger_and_twice(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    s.connect("tcp://127.0.0.1:1")
    s.send(b"queued, never delivered")
    t0 = time.monotonic()
    s.close(linger=0)
    assert time.monotonic() - t0 < 1
    assert s.closed
    s.close()  # harmless
    assert s.context is lctx
    for operation in (lambda: s.linger, lambda: s.send(b"x"), s.fileno, lambda: s.FD):
        with pytest.raises(lib.ZMQError) as info:
            operation()
        assert info.value.errno == errno.ENOTSOCK


def test_close_linger_is_used(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    s.connect("tcp://127.0.0.1:1")
    s.send(b"never delivered")
    s.close(linger=200)
    t0 = time.monotonic()
    lctx.term()  # waits for the linger of the queued message
    assert 0.1 < time.monotonic() - t0 < 3


def test_socket_context_manager(lib, lctx) -> None:
    with lctx.socket(lib.PAIR) as s:
        assert isinstance(s, lib.Socket) and not s.closed
    assert s.closed
    with pytest.raises(RuntimeError):
        with lctx.socket(lib.PAIR) as t:
            raise RuntimeError("boom")
    assert t.closed


def test_bind_connect_context_managers(lib, lctx) -> None:
    pull = make_socket(lctx, lib.PULL)
    push = make_socket(lctx, lib.PUSH)
    with pull.bind("inproc://surface-cm") as bound:
        assert bound is pull
        with push.connect("inproc://surface-cm"):
            push.send(b"inside")
            assert pull.recv() == b"inside"
    with pytest.raises(lib.ZMQError):
        pull.unbind("inproc://surface-cm")  # already unbound by the with-block


def test_unclosed_socket_warns_when_collected(lib, lctx) -> None:
    s = lctx.socket(lib.PUSH)
    text = repr(s)
    with pytest.warns(ResourceWarning, match="Unclosed socket"):
        del s
        gc.collect()
    assert text  # (the warning names the socket)


# --------------------------------------------------------------------------------------------------
# FD and EVENTS: the edge-triggered contract


def test_fd_is_a_real_descriptor_that_stays_the_same(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    fd = b.getsockopt(lib.FD)
    assert isinstance(fd, int) and fd >= 0
    assert b.fd == b.FD == fd == b.fileno()
    select.select([fd], [], [], 0)  # a descriptor select takes
    a.send(b"x")
    # Edge-triggered: EVENTS first (the FD may have fired before, for the connection); wait on
    # the FD only while EVENTS says there is nothing.
    deadline = time.monotonic() + 5
    while not b.getsockopt(lib.EVENTS) & lib.POLLIN:
        ready, _, _ = select.select([fd], [], [], 1)
        assert time.monotonic() < deadline
    assert b.recv(lib.NOBLOCK) == b"x"


def _drain(sock: Any, lib: ModuleType, got: list[bytes]) -> None:
    while sock.getsockopt(lib.EVENTS) & lib.POLLIN:
        got.append(sock.recv(lib.NOBLOCK))


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_edge_triggered_loop_misses_no_wakeup(lib, lctx, transport) -> None:
    """The classic loop of an event library (gevent, Tk, asyncio's add_reader): wait for the FD
    to be readable, then drain while EVENTS has POLLIN. A stream from a pyzmq peer (over tcp)
    or from a thread (inproc), in bursts with pauses, must arrive whole with no wait timing
    out: a wake-up missed would leave a message behind an FD that never becomes readable."""
    total = 3000
    pull = make_socket(lctx, lib.PULL)
    if transport == "tcp":
        peer_ctx = pyzmq_module.Context()
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = make_socket(peer_ctx, pyzmq_module.PUSH)
        push.connect(f"tcp://127.0.0.1:{port}")
    else:
        peer_ctx = None
        pull.bind("inproc://edge-triggered")
        push = make_socket(lctx, lib.PUSH)
        push.connect("inproc://edge-triggered")

    def produce() -> None:
        for i in range(total):
            push.send(b"%d" % i)
            if i % 97 == 0:
                time.sleep(0.002)  # the receiver catches up and waits on the FD

    producer = threading.Thread(target=produce, daemon=True)
    fd = pull.getsockopt(lib.FD)
    got: list[bytes] = []
    producer.start()
    try:
        while len(got) < total:
            _drain(pull, lib, got)
            if len(got) >= total:
                break
            ready, _, _ = select.select([fd], [], [], 5)
            assert ready, f"no wake-up with {total - len(got)} messages still to come"
    finally:
        producer.join(10)
        push.close(linger=0)
        if peer_ctx is not None:
            peer_ctx.term()
    assert got == [b"%d" % i for i in range(total)]


def test_fd_readable_again_for_a_message_after_a_drain(lib, lctx) -> None:
    a, b = _pair(lctx, lib, lib.PAIR, lib.PAIR)
    fd = b.fd
    got: list[bytes] = []
    _drain(b, lib, got)  # (what the FD signalled before: EVENTS read, it is armed)
    assert got == []
    for i in range(20):
        a.send(b"%d" % i)
        ready, _, _ = select.select([fd], [], [], 5)
        assert ready, f"message {i}: the FD never became readable"
        _drain(b, lib, got)
        assert got == [b"%d" % i]
        got.clear()


def test_fd_signals_pollout_when_the_peer_makes_room(lib, lctx) -> None:
    push, pull = _pair(lctx, lib, lib.PUSH, lib.PULL)
    push.sndhwm = pull.rcvhwm = 5
    sent = 0
    while push.getsockopt(lib.EVENTS) & lib.POLLOUT:
        push.send(b"x", lib.NOBLOCK)
        sent += 1
        assert sent < 10_000
    fd = push.fd
    for _ in range(sent):
        pull.recv()
    deadline = time.monotonic() + 5
    while not push.getsockopt(lib.EVENTS) & lib.POLLOUT:
        select.select([fd], [], [], 0.5)
        assert time.monotonic() < deadline, "POLLOUT never came back"


def test_asyncio_add_reader_on_the_fd(lib, lctx) -> None:
    total = 500
    pull = make_socket(lctx, lib.PULL)
    push = make_socket(lctx, lib.PUSH)
    pull.bind("inproc://add-reader")
    push.connect("inproc://add-reader")

    async def main() -> list[bytes]:
        loop = asyncio.get_running_loop()
        got: list[bytes] = []
        done = loop.create_future()

        def on_readable() -> None:
            _drain(pull, lib, got)
            if len(got) >= total and not done.done():
                done.set_result(None)

        fd = pull.getsockopt(lib.FD)
        loop.add_reader(fd, on_readable)
        try:

            def produce() -> None:
                for i in range(total):
                    push.send(b"%d" % i)
                    if i % 50 == 0:
                        time.sleep(0.002)

            producer = threading.Thread(target=produce, daemon=True)
            producer.start()
            on_readable()  # (edge-triggered: look once after registering)
            await asyncio.wait_for(done, 10)
            producer.join(5)
        finally:
            loop.remove_reader(fd)
        return got

    assert asyncio.run(main()) == [b"%d" % i for i in range(total)]

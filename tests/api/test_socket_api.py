"""Socket API: flags, multipart, Frames, trackers, serialisation helpers, options, timeouts, poll,
closing, subscriptions, bind/unbind, endpoints, types, EVENTS/FD, and use from threads."""

from __future__ import annotations

import errno
import json
import pickle
import re
import select
import threading
import time

import pytest
from interop._util import make_socket, sync_subscriber

from ._helpers import Worker, connected_pair, wait_until

pytestmark = pytest.mark.timeout(30)

BIG = 100_000


@pytest.fixture
def push_pull(zmq_impl, ctx):
    """(PUSH, PULL) of the library under test over loopback tcp."""
    return connected_pair(ctx, zmq_impl, zmq_impl.PUSH, zmq_impl.PULL)


# --------------------------------------------------------------------------------------------------
# NOBLOCK / DONTWAIT


@pytest.mark.parametrize("flag_name", ["NOBLOCK", "DONTWAIT"])
def test_recv_noblock_raises_again(zmq_impl, push_pull, flag_name: str) -> None:
    _, pull = push_pull
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again) as info:
        pull.recv(getattr(zmq_impl, flag_name))
    assert time.monotonic() - t0 < 0.5
    exc = info.value
    assert isinstance(exc, zmq_impl.ZMQError)
    assert exc.errno == zmq_impl.EAGAIN == errno.EAGAIN
    for method in (pull.recv_multipart, pull.recv_string, pull.recv_json, pull.recv_pyobj):
        with pytest.raises(zmq_impl.Again):
            method(zmq_impl.DONTWAIT)


@pytest.mark.parametrize("socket_type", ["PUSH", "DEALER"])
def test_send_noblock_without_peer_raises_again(zmq_impl, ctx, socket_type: str) -> None:
    s = make_socket(ctx, getattr(zmq_impl, socket_type))
    with pytest.raises(zmq_impl.Again) as info:
        s.send(b"x", zmq_impl.NOBLOCK)
    assert info.value.errno == zmq_impl.EAGAIN
    with pytest.raises(zmq_impl.Again):
        s.send_multipart([b"a", b"b"], flags=zmq_impl.DONTWAIT)


# --------------------------------------------------------------------------------------------------
# multipart


def test_sndmore_and_rcvmore(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    push.send(b"a", zmq_impl.SNDMORE)
    push.send(b"b", zmq_impl.SNDMORE)
    push.send(b"c")
    assert pull.recv() == b"a"
    assert pull.getsockopt(zmq_impl.RCVMORE) == 1
    assert pull.rcvmore
    assert pull.recv() == b"b"
    assert pull.get(zmq_impl.RCVMORE) == 1
    assert pull.recv() == b"c"
    assert pull.getsockopt(zmq_impl.RCVMORE) == 0
    assert not pull.rcvmore


def test_send_recv_multipart(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    parts = [b"", b"one", b"x" * BIG, bytearray(b"ba"), memoryview(b"mv")]
    push.send_multipart(parts)
    got = pull.recv_multipart()
    assert got == [b"", b"one", b"x" * BIG, b"ba", b"mv"]
    assert all(type(p) is bytes for p in got)

    push.send_multipart([b"f1", b"f2", b"f3"])
    frames = pull.recv_multipart(copy=False)
    assert all(isinstance(f, zmq_impl.Frame) for f in frames)
    assert [f.bytes for f in frames] == [b"f1", b"f2", b"f3"]
    assert [f.more for f in frames] == [True, True, False]


def test_send_multipart_after_sndmore_joins_message(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    push.send(b"head", zmq_impl.SNDMORE)
    push.send_multipart([b"body", b"tail"])
    assert pull.recv_multipart() == [b"head", b"body", b"tail"]


def test_recv_multipart_after_partial_recv_returns_the_rest(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    push.send_multipart([b"1", b"2", b"3"])
    assert pull.recv() == b"1"
    assert pull.recv_multipart() == [b"2", b"3"]


# --------------------------------------------------------------------------------------------------
# Frames and metadata


def test_recv_copy_false_returns_frame(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    push.send_multipart([b"hello", b"world!"])
    frame = pull.recv(copy=False)
    assert isinstance(frame, zmq_impl.Frame)
    assert frame.bytes == b"hello"
    assert isinstance(frame.buffer, memoryview)
    assert bytes(frame.buffer) == b"hello"
    assert len(frame) == 5
    assert bytes(frame) == b"hello"
    assert frame.more is True
    assert frame.get(zmq_impl.MORE) == 1
    assert frame.get("Socket-Type") == "PUSH"
    last = pull.recv(copy=False)
    assert last.bytes == b"world!"
    assert last.more is False
    assert last.get(zmq_impl.MORE) == 0


@pytest.mark.parametrize("peer", ["impl", "pyzmq"])
def test_frame_metadata_dealer_router(zmq_impl, ctx, pyctx, pyzmq, peer: str) -> None:
    router = make_socket(ctx, zmq_impl.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    lib, context = (zmq_impl, ctx) if peer == "impl" else (pyzmq, pyctx)
    dealer = make_socket(context, lib.DEALER)
    dealer.routing_id = b"dlr"
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"hi")
    frames = router.recv_multipart(copy=False)
    assert [f.bytes for f in frames] == [b"dlr", b"hi"]
    for f in frames:
        assert f.get("Socket-Type") == "DEALER"
        assert f.get("Identity") == "dlr"
        assert f.get("Peer-Address") == "127.0.0.1"
    with pytest.raises(zmq_impl.ZMQError) as info:
        frames[1].get("No-Such-Property")
    assert info.value.errno == zmq_impl.EINVAL

    router.send_multipart([b"dlr", b"back"])
    reply = dealer.recv(copy=False)
    assert reply.bytes == b"back"
    assert reply.get("Socket-Type") == "ROUTER"


def test_frame_metadata_from_pyzmq_push(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = make_socket(pyctx, pyzmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"x")
    frame = pull.recv(copy=False)
    assert frame.get("Socket-Type") == "PUSH"


def test_send_track_returns_tracker_that_completes(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    tracker = push.send(b"t" * BIG, copy=False, track=True)
    assert isinstance(tracker, zmq_impl.MessageTracker)
    assert pull.recv() == b"t" * BIG
    tracker.wait(5)
    assert tracker.done is True

    tracker = push.send_multipart([b"a", b"b" * BIG], copy=False, track=True)
    assert isinstance(tracker, zmq_impl.MessageTracker)
    assert pull.recv_multipart() == [b"a", b"b" * BIG]
    tracker.wait(5)
    assert tracker.done


def test_send_frame_object(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    push.send(zmq_impl.Frame(b"framed"))
    push.send_multipart([zmq_impl.Frame(b"a"), b"b"])
    assert pull.recv() == b"framed"
    assert pull.recv_multipart() == [b"a", b"b"]


def test_send_str_raises_typeerror(push_pull) -> None:
    push, _ = push_pull
    with pytest.raises(TypeError):
        push.send("text")


# --------------------------------------------------------------------------------------------------
# serialisation helpers


def test_send_recv_string(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    push.send_string("héllo ☃")
    push.send_string("latin é", encoding="latin-1")
    assert pull.recv_string() == "héllo ☃"
    assert pull.recv_string(encoding="latin-1") == "latin é"
    push.send_string("raw é")
    assert pull.recv() == "raw é".encode()
    with pytest.raises(TypeError):
        push.send_string(b"bytes")


def test_send_recv_json(push_pull) -> None:
    push, pull = push_pull
    obj = {"a": [1, 2.5, None, True], "b": {"c": "é"}}
    push.send_json(obj)
    assert pull.recv_json() == obj
    push.send_json([1, 2])
    assert json.loads(pull.recv()) == [1, 2]


def test_send_recv_pyobj(push_pull) -> None:
    push, pull = push_pull
    obj = {"set": {1, 2}, "tuple": (1, "x"), "bytes": b"\x00"}
    push.send_pyobj(obj)
    assert pull.recv_pyobj() == obj
    push.send_pyobj([3], protocol=2)
    assert pickle.loads(pull.recv()) == [3]


def test_send_recv_serialized(zmq_impl, push_pull) -> None:
    push, pull = push_pull

    def serialize(msg: dict) -> list[bytes]:
        return [msg["key"].encode(), json.dumps(msg["value"]).encode()]

    def deserialize(frames: list) -> dict:
        return {"key": bytes(frames[0]).decode(), "value": json.loads(bytes(frames[1]))}

    msg = {"key": "k", "value": [1, 2, 3]}
    push.send_serialized(msg, serialize)
    assert pull.recv_serialized(deserialize) == msg
    push.send_serialized(msg, serialize)
    seen = []

    def deserialize_frames(frames: list) -> dict:
        seen.extend(type(f) for f in frames)
        return deserialize(frames)

    assert pull.recv_serialized(deserialize_frames, copy=False) == msg
    assert seen and all(issubclass(t, zmq_impl.Frame) for t in seen)


def test_recv_into(push_pull) -> None:
    push, pull = push_pull
    push.send(b"0123456789")
    small = bytearray(4)
    assert pull.recv_into(small) == 10
    assert small == b"0123"

    push.send(b"abc")
    large = bytearray(10)
    assert pull.recv_into(large) == 3
    assert large[:3] == b"abc"
    assert large[3:] == bytes(7)

    push.send(b"abcdef")
    buf = bytearray(10)
    assert pull.recv_into(buf, nbytes=2) == 6
    assert buf == b"ab" + bytes(8)

    push.send(b"xyz")
    view = memoryview(bytearray(8))
    assert pull.recv_into(view) == 3
    assert bytes(view[:3]) == b"xyz"


# --------------------------------------------------------------------------------------------------
# options


def test_option_defaults(zmq_impl, ctx) -> None:
    s = ctx.socket(zmq_impl.DEALER)
    try:
        assert s.getsockopt(zmq_impl.LINGER) == -1
        assert s.getsockopt(zmq_impl.SNDHWM) == 1000
        assert s.getsockopt(zmq_impl.RCVHWM) == 1000
        assert s.getsockopt(zmq_impl.RCVTIMEO) == -1
        assert s.getsockopt(zmq_impl.SNDTIMEO) == -1
        assert s.getsockopt(zmq_impl.ROUTING_ID) == b""
        assert s.getsockopt(zmq_impl.LAST_ENDPOINT) == b""
        assert s.getsockopt(zmq_impl.RCVMORE) == 0
    finally:
        s.close(linger=0)


def test_get_set_getsockopt_setsockopt(zmq_impl, ctx) -> None:
    s = make_socket(ctx, zmq_impl.DEALER)
    s.setsockopt(zmq_impl.LINGER, 10)
    assert s.getsockopt(zmq_impl.LINGER) == 10
    s.set(zmq_impl.SNDHWM, 5)
    assert s.get(zmq_impl.SNDHWM) == 5
    s.setsockopt(zmq_impl.ROUTING_ID, b"rid")
    assert s.getsockopt(zmq_impl.ROUTING_ID) == b"rid"
    assert s.getsockopt(zmq_impl.IDENTITY) == b"rid"
    s.setsockopt_string(zmq_impl.ROUTING_ID, "idé")
    assert s.getsockopt_string(zmq_impl.ROUTING_ID) == "idé"
    assert s.getsockopt(zmq_impl.ROUTING_ID) == "idé".encode()
    with pytest.raises(TypeError):
        s.setsockopt(zmq_impl.ROUTING_ID, "str is not bytes")
    with pytest.raises(zmq_impl.ZMQError) as info:
        s.setsockopt(zmq_impl.SNDHWM, -5)
    assert info.value.errno == zmq_impl.EINVAL
    with pytest.raises(zmq_impl.ZMQError) as info:
        s.setsockopt(zmq_impl.TYPE, 1)  # read-only
    assert info.value.errno == zmq_impl.EINVAL


def test_attribute_options(zmq_impl, ctx) -> None:
    s = make_socket(ctx, zmq_impl.DEALER)
    s.linger = 0
    assert s.linger == 0
    s.rcvtimeo = 123
    assert s.rcvtimeo == 123
    assert s.getsockopt(zmq_impl.RCVTIMEO) == 123
    s.sndtimeo = 321
    assert s.getsockopt(zmq_impl.SNDTIMEO) == 321
    s.hwm = 5
    assert s.getsockopt(zmq_impl.SNDHWM) == 5
    assert s.getsockopt(zmq_impl.RCVHWM) == 5
    assert s.sndhwm == 5 and s.rcvhwm == 5
    assert s.hwm == 5
    s.identity = b"who"
    assert s.identity == b"who"
    assert s.routing_id == b"who"
    assert s.getsockopt(zmq_impl.ROUTING_ID) == b"who"
    s.routing_id = b"me"
    assert s.identity == b"me"
    with pytest.raises(AttributeError):
        s.no_such_option = 1
    with pytest.raises(AttributeError):
        s.no_such_option  # noqa: B018


def test_rcvtimeo_raises_again_after_timeout(zmq_impl, ctx) -> None:
    s = ctx.socket(zmq_impl.PULL)
    s.linger = 0
    s.bind_to_random_port("tcp://127.0.0.1")
    s.rcvtimeo = 200
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again) as info:
        s.recv()
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed <= 2.0, elapsed
    assert info.value.errno == zmq_impl.EAGAIN


def test_sndtimeo_raises_again_after_timeout(zmq_impl, ctx) -> None:
    s = ctx.socket(zmq_impl.PUSH)
    s.linger = 0
    s.sndtimeo = 200
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again) as info:
        s.send(b"nobody there")
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed <= 2.0, elapsed
    assert info.value.errno == zmq_impl.EAGAIN


# --------------------------------------------------------------------------------------------------
# Socket.poll


def test_socket_poll_return_values(zmq_impl, ctx, push_pull) -> None:
    push, pull = push_pull
    POLLIN, POLLOUT = zmq_impl.POLLIN, zmq_impl.POLLOUT
    assert pull.poll(0) == 0
    assert pull.poll(0, POLLOUT) == 0  # a PULL never sends
    assert push.poll(0, POLLIN) == 0
    assert push.poll(1000, POLLOUT) == POLLOUT
    assert push.poll(1000, POLLIN | POLLOUT) == POLLOUT
    lone = make_socket(ctx, zmq_impl.PUSH)
    assert lone.poll(0, POLLOUT) == 0
    t0 = time.monotonic()
    assert pull.poll(200) == 0
    assert 0.15 <= time.monotonic() - t0 <= 2.0
    push.send(b"x")
    assert pull.poll(5000) == POLLIN
    assert pull.poll(0, POLLIN | POLLOUT) == POLLIN
    assert pull.poll(None) == POLLIN
    pull.recv()
    assert pull.poll(0) == 0


# --------------------------------------------------------------------------------------------------
# close, closed, context manager


def test_close_and_closed(zmq_impl, ctx) -> None:
    s = ctx.socket(zmq_impl.PUSH)
    assert s.closed is False
    s.close(linger=0)
    assert s.closed is True
    s.close()  # closing twice is harmless
    assert s.closed


def test_socket_context_manager(zmq_impl, ctx) -> None:
    with ctx.socket(zmq_impl.PAIR) as s:
        assert isinstance(s, zmq_impl.Socket)
        s.linger = 0
        assert not s.closed
    assert s.closed


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_messages_queued_before_peer_close_are_still_received(
    zmq_impl, ctx, transport: str
) -> None:
    """What a peer sent before closing stays receivable (libzmq drains a pipe to its end)."""
    peer, pair = connected_pair(ctx, zmq_impl, zmq_impl.PAIR, zmq_impl.PAIR, transport)
    peer.send(b"hello")
    assert pair.recv() == b"hello"
    assert pair.poll(0) == 0  # the receiver has seen its pipe empty
    for i in range(3):
        peer.send(b"%d" % i)
    peer.close(linger=-1)
    assert pair.poll(5000) == zmq_impl.POLLIN
    assert [pair.recv() for _ in range(3)] == [b"0", b"1", b"2"]


@pytest.mark.parametrize(
    "operation",
    [
        "send",
        "recv",
        "send_multipart",
        "recv_multipart",
        "getsockopt",
        "setsockopt",
        "attribute",
        "bind",
        "connect",
        "subscribe",
    ],
)
def test_operations_on_closed_socket_raise_enotsock(zmq_impl, ctx, operation: str) -> None:
    s = ctx.socket(zmq_impl.SUB if operation == "subscribe" else zmq_impl.DEALER)
    s.close(linger=0)
    calls = {
        "send": lambda: s.send(b"x"),
        "recv": lambda: s.recv(),
        "send_multipart": lambda: s.send_multipart([b"a", b"b"]),
        "recv_multipart": lambda: s.recv_multipart(),
        "getsockopt": lambda: s.getsockopt(zmq_impl.LINGER),
        "setsockopt": lambda: s.setsockopt(zmq_impl.LINGER, 0),
        "attribute": lambda: s.rcvtimeo,
        "bind": lambda: s.bind("tcp://127.0.0.1:*"),
        "connect": lambda: s.connect("tcp://127.0.0.1:5555"),
        "subscribe": lambda: s.subscribe(b""),
    }
    with pytest.raises(zmq_impl.ZMQError) as info:
        calls[operation]()
    assert info.value.errno == zmq_impl.ENOTSOCK


def test_poll_on_closed_socket_raises(zmq_impl, ctx) -> None:
    s = ctx.socket(zmq_impl.PULL)
    s.close()
    with pytest.raises(zmq_impl.ZMQError) as info:
        s.poll(0)
    assert info.value.errno == zmq_impl.ENOTSUP  # what pyzmq raises


# --------------------------------------------------------------------------------------------------
# subscriptions


def test_subscribe_unsubscribe_str_and_bytes(zmq_impl, ctx) -> None:
    sub = make_socket(ctx, zmq_impl.SUB)
    port = sub.bind_to_random_port("tcp://127.0.0.1")
    pub = make_socket(ctx, zmq_impl.PUB)
    pub.connect(f"tcp://127.0.0.1:{port}")
    sub.subscribe("alpha")
    sub.subscribe(b"beta")
    sync_subscriber(pub, sub, b"alpha")
    sync_subscriber(pub, sub, b"beta")
    for msg in (b"alpha1", b"gamma1", b"beta1"):
        pub.send(msg)
    assert sub.recv() == b"alpha1"
    assert sub.recv() == b"beta1"

    sub.unsubscribe("alpha")
    sub.unsubscribe(b"beta")
    sub.setsockopt(zmq_impl.SUBSCRIBE, b"zeta")
    sync_subscriber(pub, sub, b"zeta")  # same connection: the unsubscriptions are in effect too
    for msg in (b"alpha2", b"beta2", b"zeta2"):
        pub.send(msg)
    assert sub.recv() == b"zeta2"
    assert sub.poll(200) == 0


def test_subscribe_on_non_sub_socket_raises(zmq_impl, ctx) -> None:
    s = make_socket(ctx, zmq_impl.PULL)
    with pytest.raises(zmq_impl.ZMQError) as info:
        s.subscribe(b"x")
    assert info.value.errno == zmq_impl.EINVAL


# --------------------------------------------------------------------------------------------------
# bind, unbind, endpoints


def test_bind_context_manager_unbinds_random_port(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    with pull.bind("tcp://127.0.0.1:*") as bound:
        assert bound is pull
        endpoint = pull.last_endpoint.decode()
        push = make_socket(pyctx, pyzmq.PUSH)
        push.connect(endpoint)
        push.send(b"inside")
        assert pull.recv() == b"inside"
    with pytest.raises(zmq_impl.ZMQError) as info:
        pull.unbind(endpoint)
    assert info.value.errno == errno.ENOENT
    # the port is free again: another socket can take it
    other = make_socket(pyctx, pyzmq.PULL)

    def rebind() -> bool:
        try:
            other.bind(endpoint)
        except pyzmq.ZMQError as exc:
            assert exc.errno == errno.EADDRINUSE
            return False
        return True

    assert wait_until(rebind, 5.0, 0.01), f"{endpoint} still in use after the with block"


def test_bind_context_manager_unbinds_ipc(zmq_impl, ctx, ipc_endpoint) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    with pull.bind(ipc_endpoint):
        assert pull.last_endpoint.decode() == ipc_endpoint
    with pytest.raises(zmq_impl.ZMQError) as info:
        pull.unbind(ipc_endpoint)
    assert info.value.errno == errno.ENOENT


def test_connect_context_manager_disconnects(zmq_impl, ctx) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = make_socket(ctx, zmq_impl.PUSH)
    endpoint = f"tcp://127.0.0.1:{port}"
    with push.connect(endpoint) as connected:
        assert connected is push
        push.send(b"c")
        assert pull.recv() == b"c"
    with pytest.raises(zmq_impl.ZMQError) as info:
        push.disconnect(endpoint)
    assert info.value.errno == errno.ENOENT


def test_last_endpoint_after_bind_to_wildcard_port(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    pull.bind("tcp://127.0.0.1:*")
    last = pull.getsockopt(zmq_impl.LAST_ENDPOINT)
    assert isinstance(last, bytes)
    m = re.fullmatch(rb"tcp://127\.0\.0\.1:(\d+)", last)
    assert m, last
    assert 0 < int(m.group(1)) < 65536
    assert pull.last_endpoint == last
    assert pull.getsockopt_string(zmq_impl.LAST_ENDPOINT) == last.decode()
    push = make_socket(pyctx, pyzmq.PUSH)
    push.connect(last.decode())
    push.send(b"via last endpoint")
    assert pull.recv() == b"via last endpoint"


@pytest.mark.parametrize("lib", ["impl", "pyzmq"])
def test_last_endpoint_after_inproc_bind_and_connect(zmq_impl, ctx, pyctx, pyzmq, lib) -> None:
    """Like any bind, an inproc bind sets LAST_ENDPOINT (libzmq: the endpoint as given)."""
    zmq, context = (zmq_impl, ctx) if lib == "impl" else (pyzmq, pyctx)
    server = make_socket(context, zmq.PAIR)
    server.bind("inproc://last-endpoint")
    assert server.last_endpoint == b"inproc://last-endpoint"
    assert server.getsockopt(zmq.LAST_ENDPOINT) == b"inproc://last-endpoint"
    client = make_socket(context, zmq.PAIR)
    client.connect("inproc://last-endpoint")
    assert client.last_endpoint == b"inproc://last-endpoint"


def test_bind_to_random_port(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make_socket(ctx, zmq_impl.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    assert type(port) is int
    assert 0 < port < 65536
    assert pull.last_endpoint == f"tcp://127.0.0.1:{port}".encode()
    push = make_socket(pyctx, pyzmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"random")
    assert pull.recv() == b"random"

    ranged = make_socket(ctx, zmq_impl.PULL)
    port2 = ranged.bind_to_random_port("tcp://127.0.0.1", min_port=40000, max_port=40999)
    assert type(port2) is int
    assert 40000 <= port2 < 40999


# --------------------------------------------------------------------------------------------------
# type, EVENTS, FD


@pytest.mark.parametrize(
    "name",
    ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"],
)
def test_socket_type(zmq_impl, ctx, name: str) -> None:
    value = getattr(zmq_impl, name)
    s = ctx.socket(value)
    try:
        assert s.type == value
        assert isinstance(s.type, int)
        assert s.getsockopt(zmq_impl.TYPE) == value
        assert s.get(zmq_impl.TYPE) == int(getattr(zmq_impl.SocketType, name))
    finally:
        s.close(linger=0)


def test_invalid_socket_type_raises(zmq_impl, ctx) -> None:
    with pytest.raises(zmq_impl.ZMQError) as info:
        ctx.socket(9999)
    assert info.value.errno == zmq_impl.EINVAL


def test_events_option(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    POLLIN, POLLOUT = zmq_impl.POLLIN, zmq_impl.POLLOUT
    assert pull.getsockopt(zmq_impl.EVENTS) & POLLIN == 0
    assert wait_until(lambda: push.getsockopt(zmq_impl.EVENTS) & POLLOUT)
    assert push.events & POLLIN == 0
    push.send(b"x")
    assert wait_until(lambda: pull.getsockopt(zmq_impl.EVENTS) & POLLIN)
    assert pull.events == POLLIN
    pull.recv()
    assert pull.getsockopt(zmq_impl.EVENTS) & POLLIN == 0


def test_fd_is_int_and_signals_a_new_message(zmq_impl, push_pull) -> None:
    push, pull = push_pull
    fd = pull.getsockopt(zmq_impl.FD)
    assert isinstance(fd, int)
    assert fd == pull.fd
    # bring the connection up, then leave the PULL with nothing queued
    push.send(b"first")
    assert pull.recv() == b"first"
    assert pull.getsockopt(zmq_impl.EVENTS) & zmq_impl.POLLIN == 0

    sender = Worker(lambda: push.send(b"second"), "sender")
    sender.start()
    readable, _, _ = select.select([fd], [], [], 5.0)
    sender.finish(5)
    assert readable == [fd], "FD did not become readable when a message arrived"
    assert wait_until(lambda: pull.getsockopt(zmq_impl.EVENTS) & zmq_impl.POLLIN, 5.0)
    assert pull.recv(zmq_impl.NOBLOCK) == b"second"


# --------------------------------------------------------------------------------------------------
# threads


def test_two_threads_exchange_1000_messages_each_way_over_inproc(zmq_impl, ctx) -> None:
    n = 1000
    endpoint = "inproc://api-threads"
    bound = threading.Event()

    def side(name: str, peer_name: str, binds: bool) -> int:
        s = make_socket(ctx, zmq_impl.PAIR)
        try:
            if binds:
                s.bind(endpoint)
                bound.set()
            else:
                assert bound.wait(5)
                s.connect(endpoint)
            for i in range(n):
                s.send(b"%s-%d" % (name.encode(), i))
                got = s.recv()
                assert got == b"%s-%d" % (peer_name.encode(), i), got
            return n
        finally:
            s.close()

    a = Worker(lambda: side("a", "b", True), "side-a")
    b = Worker(lambda: side("b", "a", False), "side-b")
    a.start()
    b.start()
    assert a.finish(20) == n
    assert b.finish(20) == n


def test_socket_used_from_another_thread(zmq_impl, ctx) -> None:
    rep = make_socket(ctx, zmq_impl.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = make_socket(ctx, zmq_impl.REQ)
    req.connect(f"tcp://127.0.0.1:{port}")

    def serve() -> int:
        for _ in range(3):
            rep.send(rep.recv().upper())
        return 3

    server = Worker(serve, "rep-thread")
    server.start()
    for word in (b"one", b"two", b"three"):
        req.send(word)
        assert req.recv() == word.upper()
    assert server.finish(10) == 3
    # and back in the creating thread
    req.send(b"four")
    assert rep.recv() == b"four"
    rep.send(b"FOUR")
    assert req.recv() == b"FOUR"

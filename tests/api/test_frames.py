"""Frames and MessageTrackers against pyzmq: the Frame constructor, bytes/buffer/len/buffer
protocol, repr, get()/[] of MORE and of metadata, recv(copy=False) and recv_multipart(copy=False),
send and send_multipart of Frames and of any buffer (memoryview, bytearray, array.array, numpy),
and what send returns with copy/track.

Each test body runs against purezmq and against pyzmq (the ``lib`` fixture), except where a
comment marks a deliberate difference.
"""

from __future__ import annotations

import array
import copy
import errno
import re
import sys
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
def pair(lib: ModuleType) -> Iterator[tuple[Any, Any]]:
    """(a, b): connected PAIR sockets of ``lib`` over inproc."""
    context = lib.Context()
    a = make_socket(context, lib.PAIR)
    b = make_socket(context, lib.PAIR)
    a.bind("inproc://frames")
    b.connect("inproc://frames")
    yield a, b
    context.destroy(linger=0)


def _frame_name(lib: ModuleType) -> str:
    return "zmq.Frame" if lib is pyzmq_module else "purezmq.Frame"


# --------------------------------------------------------------------------------------------------
# the Frame itself


def test_constructor(lib) -> None:
    F = lib.Frame
    assert lib.Message is F
    assert F().bytes == b"" and len(F()) == 0 and F().more is False
    assert F(None).bytes == b""
    assert F(b"abc").bytes == b"abc"
    assert F(data=b"x").bytes == b"x"
    assert F(bytearray(b"ab")).bytes == b"ab"
    assert F(memoryview(b"abcd")[1:3]).bytes == b"bc"
    assert F(array.array("i", [1, 2])).bytes == array.array("i", [1, 2]).tobytes()
    assert F(F(b"inner")).bytes == b"inner"
    assert F(b"x", copy=True).bytes == F(b"x", copy=False).bytes == b"x"
    assert F(b"x", copy_threshold=0).bytes == b"x"
    with pytest.raises(TypeError, match="Str objects not allowed"):
        F("abc")
    with pytest.raises(TypeError):
        F(5)
    with pytest.raises(BufferError):
        F(memoryview(b"abcdef")[::2])


def test_bytes_buffer_len_and_buffer_protocol(lib) -> None:
    f = lib.Frame(b"hello")
    assert f.bytes == b"hello" and type(f.bytes) is bytes
    assert f.bytes is f.bytes  # made once
    assert isinstance(f.buffer, memoryview) and bytes(f.buffer) == b"hello"
    assert len(f) == 5 and bool(f) and not bool(lib.Frame())
    assert bytes(f) == b"hello"
    view = memoryview(f)
    assert bytes(view) == b"hello" and view.format == "B" and view.itemsize == 1
    assert b"".join([f, lib.Frame(b"!")]) == b"hello!"


def test_numpy_frombuffer_of_a_received_frame(lib, pair) -> None:
    np = pytest.importorskip("numpy")
    a, b = pair
    data = np.arange(10, dtype="int32")
    a.send(data, copy=False)
    frame = b.recv(copy=False)
    got = np.frombuffer(frame, dtype="int32")
    assert (got == data).all()
    assert (np.frombuffer(frame.buffer, dtype="int32") == data).all()


def test_frames_compare_and_hash_by_identity(lib) -> None:
    f = lib.Frame(b"hello")
    assert f == f and not (f != f)
    assert not (f == b"hello") and f != b"hello"
    assert not (b"hello" == f)
    assert f != lib.Frame(b"hello")
    assert len({f, lib.Frame(b"hello")}) == 2


def test_repr(lib) -> None:
    name = re.escape(_frame_name(lib))
    assert re.fullmatch(rf"<{name}\(b'hello'\)>", repr(lib.Frame(b"hello")))
    assert str(lib.Frame(b"hello")) == repr(lib.Frame(b"hello"))
    assert repr(lib.Frame(b"a" * 16)).endswith("(b'aaaaaaaaaaaaaaaa')>")
    cases = {17: "17B", 999: "999B", 1000: "1kB", 1_048_575: "1048kB", 1_048_576: "1MB"}
    for size, text in cases.items():
        assert repr(lib.Frame(b"a" * size)).endswith(f"(b'aaaaaaaaaaaa'...{text})>"), size


def test_get_more_and_properties_of_a_frame_not_received(lib) -> None:
    f = lib.Frame(b"x")
    assert f.get(lib.MORE) == 0
    assert f.get(lib.SHARED) == 0
    f.more = True  # (the attribute: get(MORE) reads the flag of a received part)
    assert f.get(lib.MORE) == 0
    for option in (99, lib.SRCFD):
        with pytest.raises(lib.ZMQError) as info:
            f.get(option)
        assert info.value.errno == errno.EINVAL
    for name in ("Socket-Type", "more", "Foo"):
        with pytest.raises(lib.ZMQError) as info:
            f.get(name)
        assert info.value.errno == errno.EINVAL
    with pytest.raises(lib.ZMQError):
        f["Socket-Type"]  # noqa: B018
    with pytest.raises(TypeError):
        f.get(None)
    with pytest.raises(lib.ZMQError) as info:
        f.set(lib.MORE, 1)
    assert info.value.errno == errno.EINVAL


def test_copy_of_a_frame(lib) -> None:
    f = lib.Frame(b"hello")
    twin = copy.copy(f)
    assert twin is not f and twin.bytes == b"hello"


# --------------------------------------------------------------------------------------------------
# receiving Frames


def test_recv_copy_false_gives_frames_with_more(lib, pair) -> None:
    a, b = pair
    a.send_multipart([b"a", b"b"])
    first = b.recv(copy=False)
    assert isinstance(first, lib.Frame) and first.bytes == b"a"
    assert first.more is True and first.get(lib.MORE) == 1 and b.rcvmore == 1
    last = b.recv(copy=False)
    assert last.more is False and last.get(lib.MORE) == 0 and b.rcvmore == 0
    a.send_multipart([b"x", b"y", b"z"])
    frames = b.recv_multipart(copy=False)
    assert [(type(f), f.bytes, f.more) for f in frames] == [
        (lib.Frame, b"x", True),
        (lib.Frame, b"y", True),
        (lib.Frame, b"z", False),
    ]
    a.send(lib.Frame(b"p"))
    assert b.recv(copy=False, track=True).bytes == b"p"  # (track is ignored on receive)


def test_metadata_of_a_frame_received_over_tcp(lib) -> None:
    context = lib.Context()
    peer_context = pyzmq_module.Context()
    router = make_socket(context, lib.ROUTER)
    dealer = make_socket(peer_context, pyzmq_module.DEALER)
    try:
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer.identity = b"me"
        dealer.setsockopt(pyzmq_module.METADATA, b"X-Foo:bar")
        dealer.connect(f"tcp://127.0.0.1:{port}")
        dealer.send(b"hi")
        frames = router.recv_multipart(copy=False)
        for frame in frames:
            assert frame.get("Socket-Type") == frame["Socket-Type"] == "DEALER"
            assert frame.get("Identity") == "me"
            assert frame.get("Peer-Address") == "127.0.0.1"
            assert frame.get("X-Foo") == "bar"
            for name in ("Routing-Id", "User-Id", "socket-type", "x-foo", "Nope"):
                with pytest.raises(lib.ZMQError) as info:
                    frame.get(name)  # (names are case-sensitive, as libzmq's)
                assert info.value.errno == errno.EINVAL, name
    finally:
        router.close()
        dealer.close()
        context.term()
        peer_context.term()


# --------------------------------------------------------------------------------------------------
# sending Frames and buffers


def test_send_any_buffer(lib, pair) -> None:
    a, b = pair
    parts = [
        memoryview(b"mv"),
        bytearray(b"ba"),
        array.array("b", [1, 2]),
        lib.Frame(b"fr"),
        memoryview(bytearray(b"abcdef")).cast("B", (2, 3)),  # multi-dimensional, contiguous
        memoryview(array.array("i", [7])),
    ]
    a.send_multipart(parts)
    expected = [b"mv", b"ba", b"\x01\x02", b"fr", b"abcdef", array.array("i", [7]).tobytes()]
    assert b.recv_multipart() == expected
    for part, want in zip(parts, expected, strict=True):
        a.send(part)
        assert b.recv() == want
        a.send(part, copy=False)
        assert b.recv() == want


def test_send_numpy(lib, pair) -> None:
    np = pytest.importorskip("numpy")
    a, b = pair
    data = np.arange(4, dtype="int32")
    a.send(data)
    assert b.recv() == data.tobytes()
    a.send_multipart([data, data[::-1].copy()], copy=False)
    assert b.recv_multipart() == [data.tobytes(), data[::-1].tobytes()]
    with pytest.raises((ValueError, BufferError)):  # pyzmq: ValueError; purezmq: BufferError
        a.send(np.arange(12, dtype="int32").reshape(3, 4)[:, 1])


def test_a_buffer_changed_after_send_does_not_change_what_was_sent_when_copied(lib, pair) -> None:
    a, b = pair
    buf = bytearray(b"abc")
    a.send(buf)  # copy=True: taken at once
    buf[0] = ord("x")
    assert b.recv() == b"abc"


# --------------------------------------------------------------------------------------------------
# trackers


@pytest.mark.parametrize("copy_", [True, False])
@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("size", [100, 65_535, 65_536])
def test_what_send_returns(lib, pair, copy_, track, size) -> None:
    """pyzmq: None with copy=True; with copy=False a tracker when tracked, and also (a finished
    one) for a part shorter than copy_threshold, which it copies anyway."""
    a, b = pair
    expect_tracker = not copy_ and (track or size < 65_536)
    for data in (b"x" * size, bytearray(b"x" * size)):
        result = a.send(data, copy=copy_, track=track)
        assert isinstance(result, lib.MessageTracker) if expect_tracker else result is None
        result = a.send_multipart([b"y", data], copy=copy_, track=track)
        assert isinstance(result, lib.MessageTracker) if expect_tracker else result is None
    a.copy_threshold = 10
    assert a.send(b"x" * 5, copy=False) is not None
    assert a.send(b"x" * 50, copy=False) is None


@pytest.mark.parametrize("copy_", [True, False])
def test_send_of_frames_and_their_trackers(lib, pair, copy_) -> None:
    a, _ = pair
    F = lib.Frame
    assert a.send(F(b"z"), copy=copy_) is None
    with pytest.raises(ValueError, match="Not a tracked message"):
        a.send(F(b"z"), copy=copy_, track=True)
    tracked = F(b"z", track=True)
    assert isinstance(tracked.tracker, lib.MessageTracker) and tracked.tracker.done
    assert F(b"z").tracker is None and F(b"z").tracker_event is None
    assert a.send(tracked, copy=copy_) is tracked.tracker
    assert a.send(F(b"z", track=True), copy=copy_, track=True) is not None
    assert a.send_multipart([b"a", F(b"b", track=True)], copy=copy_) is not None
    last_small = a.send_multipart([F(b"a", track=True), b"b"], copy=copy_)
    assert last_small is None if copy_ else isinstance(last_small, lib.MessageTracker)
    with pytest.raises(ValueError, match="Not a tracked message"):
        a.send_multipart([F(b"b"), b"a"], copy=copy_, track=True)


def test_tracker_done_and_wait(lib, pair) -> None:
    a, b = pair
    tracker = a.send(b"t" * 100_000, copy=False, track=True)
    assert b.recv() == b"t" * 100_000
    tracker.wait(5)
    assert tracker.done is True
    # Deliberate: purezmq's tracker of a send is done when send returns (the buffer is free at
    # once, see purezmq.frame); pyzmq's is done when libzmq releases the message.
    if lib is purezmq:
        assert a.send(b"u" * 100_000, copy=False, track=True).done
        b.recv()


def test_message_tracker_constructor(lib) -> None:
    MT = lib.MessageTracker
    assert MT().done is True and MT().events == set() and MT().peers == set()
    MT().wait(0.1)
    assert MT(lib.Frame(b"x", track=True)).done
    assert MT(MT()).done
    with pytest.raises(ValueError, match="Not a tracked message"):
        MT(lib.Frame(b"x"))
    with pytest.raises(TypeError, match="Require Events or Message Frames"):
        MT(5)
    event = threading.Event()
    pending = MT(event)
    assert pending.done is False and pending.events == {event}
    t0 = time.monotonic()
    with pytest.raises(lib.NotDone):
        pending.wait(0.05)
    assert time.monotonic() - t0 < 2
    event.set()
    assert pending.done
    pending.wait()
    assert issubclass(lib.NotDone, lib.ZMQBaseError)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="a Frame shares a buffer from 3.12 on")
def test_frame_copy_false_shares_a_mutable_buffer() -> None:
    # On 3.12+ purezmq's Frame(copy=False) wraps the buffer as pyzmq's does; before, it copies
    # (a class written in Python can export a buffer only from 3.12 on: see purezmq.frame).
    data = bytearray(b"abc")
    frame = purezmq.Frame(data, copy=False)
    data[0] = ord("x")
    assert frame.bytes == b"xbc"
    assert bytes(memoryview(frame)) == b"xbc"

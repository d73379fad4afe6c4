"""The traffic-phase fast paths (whole-message decoding, batch encoding, the lock-free pipe)
must agree exactly with the general ones, however the bytes are cut."""

from __future__ import annotations

import struct
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purezmq.protocol import ProtocolError
from purezmq.protocol.frames import (
    COMMAND,
    LONG,
    FrameDecoder,
    SharedBatch,
    encode_command,
    encode_message,
    encode_messages,
)
from purezmq.routing.pipe import Pipe

from ._received import received

FAST = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"", b"x" * 255, b"y" * 256, b"z" * 9000]),
)
messages = st.lists(st.lists(bodies, min_size=1, max_size=4), min_size=1, max_size=12)


def wire(batch: list[list[bytes]]) -> bytes:
    chunks: list[bytes] = []
    for frames in batch:
        encode_message(frames, chunks)
    return b"".join(chunks)


@FAST
@given(batch=messages, cuts=st.lists(st.integers(min_value=0, max_value=40000), max_size=8))
def test_feed_messages_matches_the_sent_messages_however_cut(batch, cuts):
    data = wire(batch)
    points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    decoder = FrameDecoder()
    partial: list[bytes] = []
    got: list[bytes | list[bytes]] = []
    for start, end in zip(points, points[1:], strict=False):
        events, partial, commands = decoder.feed_messages(data[start:end], partial)
        assert not commands
        for event in events:
            # One frame: its body alone; several: the list of their bodies.
            assert type(event) is bytes or (
                type(event) is list and len(event) > 1 and all(type(b) is bytes for b in event)
            )
        got.extend(events)  # type: ignore[arg-type]
    assert got == [received(message) for message in batch]
    assert partial == [] and decoder.buffered == 0


large_bodies = st.one_of(bodies, st.sampled_from([b"L" * 70_000, bytes(range(256)) * 300]))


@FAST
@given(
    batch=st.lists(st.lists(large_bodies, min_size=1, max_size=3), min_size=1, max_size=6),
    reads=st.lists(st.integers(min_value=1, max_value=50_000), min_size=1, max_size=20),
)
def test_large_bodies_read_straight_into_their_buffer_match_the_sent_messages(batch, reads):
    """A reader that reads a large frame's body into body_buffer() (as the transport does)
    and feeds everything else gets the messages that were sent, whatever its read sizes."""
    data = memoryview(wire(batch))
    decoder = FrameDecoder()
    partial: list[bytes] = []
    got: list[bytes | list[bytes]] = []
    pos = turn = 0
    while pos < len(data):
        size = reads[turn % len(reads)]
        turn += 1
        # As the transport does: ask for the body buffer only when the decoder hints at one
        # (and the hint must never hide a buffer body_buffer() would have offered).
        if not decoder.large_pending:
            assert decoder.body_buffer() is None
        target = decoder.body_buffer() if decoder.large_pending else None
        if target is not None:
            count = min(size, len(target), len(data) - pos)
            target[:count] = data[pos : pos + count]
            pos += count
            frame = decoder.body_filled(count)
            if frame is not None:
                partial = FrameDecoder.group(frame[0], frame[1], partial, got.append)
            continue
        events, partial, _ = decoder.feed_messages(bytes(data[pos : pos + size]), partial)
        pos += size
        got.extend(events)  # type: ignore[arg-type]
    assert got == [received(message) for message in batch]
    assert partial == [] and decoder.buffered == 0 and decoder.body_buffer() is None


def test_body_buffer_only_inside_a_large_frame():
    decoder = FrameDecoder()
    big = wire([[b"a" * 100_000]])
    assert decoder.body_buffer() is None
    decoder.feed_messages(big[:5], [])  # Not even the whole header yet.
    assert decoder.body_buffer() is None
    decoder.feed_messages(big[5:1000], [])
    target = decoder.body_buffer()
    assert target is not None and len(target) == 100_000 - (1000 - 9)
    with pytest.raises(RuntimeError):
        decoder.feed_messages(b"x", [])  # The reader must finish the body through the buffer.


def test_large_pending_is_true_exactly_inside_a_large_frame():
    decoder = FrameDecoder()
    big = wire([[b"a" * 100_000], [b"b"]])
    decoder.feed_messages(big[:1000], [])
    assert decoder.large_pending
    target = decoder.body_buffer()
    assert target is not None
    target[:] = big[1000 : 1000 + len(target)]
    assert decoder.body_filled(len(target)) == (LONG, b"a" * 100_000)
    assert not decoder.large_pending
    events, _, _ = decoder.feed_messages(big[1000 + len(target) :], [])
    assert events == [b"b"] and not decoder.large_pending
    decoder.feed_messages(wire([[b"c" * 1000]])[:500], [])  # Inside a small frame: no buffer.
    assert not decoder.large_pending and decoder.body_buffer() is None


@pytest.mark.parametrize(
    "batch",
    [
        [[b"", b"x" * 16], [b"id", b"y"]],  # envelope + body, the request/reply shape
        [[b"", b"x"], [b"a", b"b", b"c"]],  # a later message of another shape
        [[b"", b"x"], [b"a", b"b" * 300]],  # a later long frame
        [[b"a" * 300, b"b"], [b"", b""]],  # a long first frame
    ],
)
def test_encode_messages_two_frame_batches(batch):
    chunks: list[bytes] = []
    encode_messages(batch, chunks)
    assert b"".join(chunks) == wire(batch)


def test_a_large_frame_read_into_its_buffer_is_checked_like_any_other():
    decoder = FrameDecoder()
    decoder.feed_messages(bytes([0x07]) + struct.pack(">Q", 70_000) + b"x" * 100, [])
    target = decoder.body_buffer()
    assert target is not None
    target[:] = b"y" * len(target)
    with pytest.raises(ProtocolError, match="MORE"):
        decoder.body_filled(len(target))  # A command frame with MORE: refused here too.


@FAST
@given(batch=messages)
def test_encode_messages_is_the_same_bytes_as_one_at_a_time(batch):
    chunks: list[bytes] = []
    encode_messages(batch, chunks)
    assert b"".join(chunks) == wire(batch)


@FAST
@given(batch=messages)
def test_a_shared_batch_is_encoded_once_as_encode_messages_does(batch):
    """A PUB's batch for many connections: the same chunks for each, encoded on first use."""
    shared = SharedBatch(batch)
    first = shared.chunks()
    assert b"".join(first) == wire(batch)
    assert shared.chunks() is first


@FAST
@given(batch=messages, bare=st.lists(st.booleans(), min_size=12, max_size=12))
def test_encode_messages_takes_a_one_frame_message_as_its_body_alone(batch, bare):
    """A kind of socket that sends messages untouched passes a message of one frame as its
    body (no list): batches of such bodies, alone or mixed with lists, encode the same."""
    sent = [
        message[0] if len(message) == 1 and bare[i % len(bare)] else message
        for i, message in enumerate(batch)
    ]
    chunks: list[bytes] = []
    encode_messages(sent, chunks)
    assert b"".join(chunks) == wire(batch)


@pytest.mark.parametrize(
    "sent",
    [[b"a"], [b"", b"a"], [b"ab", [b"x", b"y"]], [[b"x", b"y"], b"ab"], [b"z" * 300, b"q"]],
    ids=["1-byte", "empty", "then-list", "list-then", "long"],
)
def test_encode_messages_bodies_whose_shape_fools_the_fast_paths(sent):
    """One- and two-byte bodies unpack like messages of one and two frames; they must not be
    taken for them."""
    chunks: list[bytes] = []
    encode_messages(sent, chunks)
    expected = [[message] if isinstance(message, bytes) else message for message in sent]
    assert b"".join(chunks) == wire(expected)


def test_encode_messages_passes_large_bodies_uncopied():
    big = b"b" * 100_000
    chunks: list[bytes] = []
    encode_messages([[b"a"], [big], [b"c"]], chunks)
    assert any(chunk is big for chunk in chunks)


def test_feed_messages_keeps_commands_in_order():
    ping = encode_command(b"PING", b"\x00\x00")
    data = wire([[b"one"]]) + ping + wire([[b"two", b"three"]])
    events, partial, commands = FrameDecoder().feed_messages(data, [])
    assert commands and partial == []
    assert events == [b"one", (COMMAND, b"\x04PING\x00\x00"), [b"two", b"three"]]


@pytest.mark.parametrize(
    "data",
    [bytes((0x08, 0)), bytes((0xFF, 1)) + b"x", bytes((COMMAND | 1, 1)) + b"x"],
)
def test_feed_messages_refuses_bad_flags(data):
    with pytest.raises(ProtocolError):
        FrameDecoder().feed_messages(data, [])


def test_feed_messages_refuses_oversized_frames_before_buffering_them():
    decoder = FrameDecoder(max_frame_size=100)
    header = bytes((0x02,)) + struct.pack(">Q", 10**9)
    with pytest.raises(ProtocolError, match="MAXMSGSIZE"):
        decoder.feed_messages(header + b"x" * 10, [])


def test_lock_free_pipe_loses_no_message_and_no_wake_up_between_threads():
    """A writer thread against a reader thread at a small high-water mark: every message
    arrives in order, and neither side ever sleeps for good."""
    count = 200_000
    pipe = Pipe(hwm=7)
    readable = threading.Semaphore(0)
    writable = threading.Semaphore(0)

    class Listener:
        def on_readable(self, _pipe: Pipe) -> None:
            readable.release()

        def on_writable(self, _pipe: Pipe) -> None:
            writable.release()

    pipe.reader = Listener()
    pipe.writer = Listener()

    def write() -> None:
        for number in range(count):
            while not pipe.write([number.to_bytes(4, "big")]):
                assert writable.acquire(timeout=10), "writer never woken"

    writer = threading.Thread(target=write)
    writer.start()
    expected = 0
    while expected < count:
        message = pipe.read()
        if message is None:
            assert readable.acquire(timeout=10), "reader never woken"
            continue
        assert int.from_bytes(message[0], "big") == expected
        expected += 1
    writer.join(timeout=10)
    assert not writer.is_alive()


def test_signaler_wakes_its_waiter_and_times_out_cleanly():
    from purezmq.engine.signaler import Signaler

    signal = Signaler()
    assert signal.wait(0.01) is False  # Nothing set: the deadline passes.
    signal.set()
    assert signal.wait(None) is True  # Already set: no sleep.
    signal.clear()
    rounds = 2000
    woken = 0

    def setter() -> None:
        for _ in range(rounds):
            signal.set()

    thread = threading.Thread(target=setter)
    thread.start()
    while thread.is_alive() or signal.is_set():
        # Waits that time out must leave the gate closed, waits that are woken must see it set.
        if signal.wait(0.0005):
            assert signal.is_set()
            woken += 1
            signal.clear()
    thread.join()
    assert woken >= 1
    signal.clear()
    assert signal.wait(0.01) is False  # No gate left open by a race.
    fd = signal.fileno()
    signal.set()
    import select

    assert select.select([fd], [], [], 1)[0] == [fd]
    signal.clear()
    assert select.select([fd], [], [], 0)[0] == []
    signal.close()

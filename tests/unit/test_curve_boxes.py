"""CURVE's per-message boxes: the fast path (PyNaCl's cffi module) must give exactly the bytes
of the public bindings, open what they seal, and refuse what does not authenticate."""

from __future__ import annotations

import os

import pytest

bindings = pytest.importorskip("nacl.bindings")

from purezmq.protocol.mechanisms.curve_boxes import BatchBoxes, checked, message_boxes  # noqa: E402

from ._received import received  # noqa: E402

KEY = bindings.crypto_box_beforenm(os.urandom(32), os.urandom(32))
NONCE = b"CurveZMQMESSAGEC" + (7).to_bytes(8, "big")
PUBLIC = (bindings.crypto_box_afternm, checked(bindings.crypto_box_open_afternm))


@pytest.mark.parametrize("size", [0, 1, 16, 255, 70_000])
def test_the_fast_boxes_match_the_public_bindings(size):
    seal, unseal = message_boxes(bindings)
    message = os.urandom(size)
    box = seal(message, NONCE, KEY)
    assert box == bindings.crypto_box_afternm(message, NONCE, KEY)
    assert unseal(box, NONCE, KEY) == message
    assert PUBLIC[1](box, NONCE, KEY) == message


@pytest.mark.parametrize("boxes", [message_boxes(bindings), PUBLIC], ids=["fast", "public"])
def test_a_box_that_does_not_authenticate_opens_to_none(boxes):
    seal, unseal = boxes
    box = bytearray(seal(b"\x00payload", NONCE, KEY))
    box[-1] ^= 1
    assert unseal(bytes(box), NONCE, KEY) is None
    other_nonce = NONCE[:-1] + b"\x08"
    assert unseal(seal(b"\x00payload", NONCE, KEY), other_nonce, KEY) is None
    assert unseal(b"short", NONCE, KEY) is None


# -- whole batches ---------------------------------------------------------------------------

PREFIX_C, PREFIX_S = b"CurveZMQMESSAGEC", b"CurveZMQMESSAGES"
SIZES = [0, 1, 222, 223, 5_000, 70_000]


def _batches() -> tuple[BatchBoxes, BatchBoxes]:
    client = BatchBoxes.create(KEY, PREFIX_C, PREFIX_S)
    server = BatchBoxes.create(KEY, PREFIX_S, PREFIX_C)
    assert client is not None and server is not None
    return client, server


def _frames(wire: bytes) -> list[tuple[int, bytes]]:
    from purezmq.protocol.frames import FrameDecoder

    return FrameDecoder().feed(wire)


@pytest.mark.parametrize("bare", [False, True], ids=["lists", "one-frame-bodies-alone"])
def test_a_sealed_batch_is_the_public_bindings_boxes_framed_one_by_one(bare):
    client, _ = _batches()
    messages = [[os.urandom(size)] for size in SIZES] + [[b"head", b"", b"tail"]]
    sent = [m[0] if bare and len(m) == 1 else m for m in messages]
    wire, counter = client.seal_messages(sent, 5)
    expected = b""
    nonce = 5
    for frames in messages:
        for index, body in enumerate(frames):
            more = b"\x01" if index < len(frames) - 1 else b"\x00"
            short = nonce.to_bytes(8, "big")
            box = bindings.crypto_box_afternm(more + body, PREFIX_C + short, KEY)
            command = b"\x07MESSAGE" + short + box
            if len(command) < 256:
                expected += bytes((0, len(command))) + command
            else:
                expected += b"\x02" + len(command).to_bytes(8, "big") + command
            nonce += 1
    assert bytes(wire) == expected
    assert counter == nonce


def _bodies(wire: bytes) -> list[bytes]:
    """The MESSAGE frames of ``wire`` as the plain decoder hands them on: data frames, each a
    message of one frame, so its body alone."""
    frames = _frames(wire)
    assert all(flags & ~0x02 == 0 for flags, _ in frames)  # (0x02: the long size form)
    return [body for _, body in frames]


def test_an_opened_batch_gives_back_the_messages():
    client, server = _batches()
    messages = [[os.urandom(size)] for size in SIZES * 2] + [[b"head", b"", b"tail"]]
    wire, counter = client.seal_messages(messages, 1)
    opened, partial, commands, last = server.open_messages(_bodies(wire), [], 0)
    expected = [received(message) for message in messages]
    assert (opened, partial, commands, last) == (expected, [], False, counter - 1)


def test_a_message_split_between_batches_continues_in_the_next():
    client, server = _batches()
    wire, _ = client.seal_messages([[b"a", b"b", b"c"]], 1)
    bodies = _bodies(wire)
    opened, partial, _, last = server.open_messages(bodies[:2], [], 0)
    assert opened == [] and partial == [b"a", b"b"]
    opened, partial, _, _ = server.open_messages(bodies[2:], partial, last)
    assert opened == [[b"a", b"b", b"c"]] and partial == []


def test_sealed_commands_come_out_in_order_and_are_flagged():
    _, server = _batches()
    boxes = []
    for counter, inner in ((1, b"\x00"), (2, b"\x02"), (3, b"\x00")):
        short = counter.to_bytes(8, "big")
        box = bindings.crypto_box_afternm(inner + b"body", PREFIX_C + short, KEY)
        boxes.append([b"\x07MESSAGE" + short + box])
    opened, _, commands, _ = server.open_messages(boxes, [], 0)
    assert opened == [b"body", (0x04, b"body"), b"body"]
    assert commands


def _one_message(body: bytes = b"payload", counter: int = 1) -> bytes:
    client, _ = _batches()
    wire, _ = client.seal_messages([[body]], counter)
    (message,) = _bodies(wire)
    return message


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda body: body[:-1] + bytes([body[-1] ^ 1]), "failed authentication"),
        (lambda body: body[:20], "malformed"),
        (lambda body: b"\x07MESSAGX" + body[8:], "malformed"),
    ],
    ids=["tampered", "short", "not-a-message"],
)
def test_a_batch_with_a_bad_message_is_refused(change, error):
    from purezmq.protocol.errors import ProtocolError

    _, server = _batches()
    with pytest.raises(ProtocolError, match=error):
        server.open_messages([[change(_one_message())]], [], 0)


def test_a_replayed_or_older_nonce_is_refused():
    from purezmq.protocol.errors import ProtocolError

    _, server = _batches()
    message = _one_message(counter=7)
    with pytest.raises(ProtocolError, match="nonce"):
        server.open_messages([[message]], [], 7)
    opened, _, _, last = server.open_messages([[message]], [], 6)
    assert last == 7 and opened == [b"payload"]


def test_reserved_flags_inside_the_box_are_refused():
    from purezmq.protocol.errors import ProtocolError

    _, server = _batches()
    short = (1).to_bytes(8, "big")
    box = bindings.crypto_box_afternm(b"\x04payload", PREFIX_C + short, KEY)
    with pytest.raises(ProtocolError, match="reserved"):
        server.open_messages([[b"\x07MESSAGE" + short + box]], [], 0)


def test_the_opening_buffer_grows_for_large_frames_and_keeps_moderate_ones():
    client, server = _batches()
    big = os.urandom(BatchBoxes.KEEP_LIMIT + 10)
    messages = [[b"x" * 9000], [big], [b"small"]]
    wire, _ = client.seal_messages(messages, 1)
    opened, _, _, _ = server.open_messages(_bodies(wire), [], 0)
    assert opened == [received(message) for message in messages]
    kept = len(server._plain_bytes)
    assert 9000 <= kept <= BatchBoxes.KEEP_LIMIT


# -- through a connection ----------------------------------------------------------------------


def _curve_pair():
    import functools

    from purezmq.protocol.connection import Connection
    from purezmq.protocol.mechanisms import AuthRequest, CurveClient, CurveServer

    server_public, server_secret = bindings.crypto_box_keypair()
    client_public, client_secret = bindings.crypto_box_keypair()
    server = Connection(
        "ROUTER", as_server=True, mechanism=functools.partial(CurveServer, secret_key=server_secret)
    )
    client = Connection(
        "DEALER",
        mechanism=functools.partial(
            CurveClient,
            public_key=client_public,
            secret_key=client_secret,
            server_key=server_public,
        ),
    )
    early_read = False
    for _ in range(10):
        for sender, receiver in ((client, server), (server, client)):
            if sender is server and server.state.name == "TRAFFIC" != client.state.name:
                # Messages right behind READY: the client reads them in the same chunk.
                server.send_messages([[b"early", b"bird"], [b"second"]])
                events = client.receive_data(b"".join(server.data_to_send()))
                messages = [e for e in events if isinstance(e, bytes | list)]
                assert messages == [[b"early", b"bird"], b"second"]
                early_read = True
            for event in receiver.receive_data(b"".join(sender.data_to_send())):
                if isinstance(event, AuthRequest):
                    receiver.authentication_result(b"200")
    assert client.state.name == server.state.name == "TRAFFIC"
    assert early_read
    return client, server


@pytest.mark.parametrize("batched_sender", [True, False], ids=["batch-sender", "one-by-one-sender"])
@pytest.mark.parametrize(
    "batched_receiver", [True, False], ids=["batch-reader", "one-by-one-reader"]
)
def test_the_batch_and_one_by_one_paths_understand_each_other(batched_sender, batched_receiver):
    client, server = _curve_pair()
    if not batched_sender:
        client.mechanism._batch = None
    if not batched_receiver:
        server.mechanism._batch = None
    messages = [[os.urandom(size), b"tail"] for size in SIZES] + [[b"one"]]
    client.send_messages(messages[:3])
    for message in messages[3:]:
        client.send_message(message)
    client.send_subscription(b"topic", True)  # A command, sealed as a MESSAGE too.
    wire = b"".join(client.data_to_send())
    events = []
    for start in range(0, len(wire), 1000):  # Frames split across reads.
        events += server.receive_data(wire[start : start + 1000])
    assert [e for e in events if isinstance(e, bytes | list)] == [received(m) for m in messages]
    changes = [(e.topic, e.subscribe) for e in events if not isinstance(e, bytes | list)]
    assert changes == [(b"topic", True)]


def test_a_plain_error_among_sealed_messages_closes_after_the_messages_before_it():
    from purezmq.protocol.connection import PeerError
    from purezmq.protocol.frames import encode_command

    client, server = _curve_pair()
    client.send_messages([[b"before"]])
    before = b"".join(client.data_to_send())
    client.send_messages([[b"after"]])
    after = b"".join(client.data_to_send())
    events = server.receive_data(before + encode_command(b"ERROR", b"\x03bye") + after)
    assert events[0] == b"before"
    assert isinstance(events[1], PeerError) and "bye" in str(events[1].reason)
    assert len(events) == 2
    assert server.state.name == "CLOSED"

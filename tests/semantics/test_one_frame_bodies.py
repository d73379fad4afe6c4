"""Messages of one frame travel without a list of their own (a sender that does not look inside
them passes the body alone; a connection hands it on alone): every way of receiving them, on
every kind of receiver, still gets the same frames."""

from __future__ import annotations

from typing import Any

import pytest

from ._helpers import make

# (sender, receiver, whether the receiver sees an envelope first). (A REP takes only messages
# that start with an envelope: a DEALER talking to one never sends one frame alone.)
PAIRS = [
    ("PUSH", "PULL", False),
    ("PAIR", "PAIR", False),
    ("DEALER", "DEALER", False),
    ("DEALER", "ROUTER", True),
]
MESSAGES = [[b"one"], [b""], [b"x"], [b"ab"], [b"multi", b"part"], [b"z" * 300], [b"last"]]


def _link(binder: Any, connecter: Any, transport: str) -> None:
    """``binder`` binds (inproc, or tcp on a port the system picks), ``connecter`` connects."""
    binder.bind("inproc://bodies" if transport == "inproc" else "tcp://127.0.0.1:*")
    connecter.connect(binder.last_endpoint.decode())


def _received(receiver: Any, zmq: Any, how: str) -> list[bytes]:
    if how == "multipart":
        return [bytes(frame) for frame in receiver.recv_multipart()]
    if how == "frames":
        frames = [receiver.recv(copy=False)]
        while frames[-1].more:
            frames.append(receiver.recv(copy=False))
        return [frame.bytes for frame in frames]
    frames = [receiver.recv()]
    while receiver.getsockopt(zmq.RCVMORE):
        frames.append(receiver.recv())
    return frames


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
@pytest.mark.parametrize("how", ["recv", "multipart", "frames"])
@pytest.mark.parametrize("sender_type, receiver_type, enveloped", PAIRS)
def test_one_frame_messages_arrive_as_sent(
    zmq_impl, ctx, transport, how, sender_type, receiver_type, enveloped
) -> None:
    zmq = zmq_impl
    receiver = make(ctx, getattr(zmq, receiver_type))
    sender = make(ctx, getattr(zmq, sender_type))
    _link(receiver, sender, transport)
    for message in MESSAGES:
        sender.send_multipart(message) if len(message) > 1 else sender.send(message[0])
        assert receiver.poll(3000), f"{message!r} never arrived"
        frames = _received(receiver, zmq, how)
        if enveloped:
            frames = frames[1:]  # The ROUTER's routing id of the DEALER.
        assert frames == message


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
@pytest.mark.parametrize("publisher_type", ["PUB", "XPUB"])
def test_one_frame_publications_are_filtered_and_arrive_as_sent(
    zmq_impl, ctx, transport, publisher_type
) -> None:
    zmq = zmq_impl
    publisher = make(ctx, getattr(zmq, publisher_type))
    subscriber = make(ctx, zmq.SUB)
    subscriber.setsockopt(zmq.SUBSCRIBE, b"t")
    _link(publisher, subscriber, transport)
    # Until the subscription has reached the publisher, what it sends is dropped: probe.
    for _ in range(300):
        publisher.send(b"t-probe")
        if subscriber.poll(10):
            break
    else:
        raise AssertionError("the subscription never reached the publisher")
    while subscriber.poll(100):
        subscriber.recv()
    sent = [[b"t1"], [b"other"], [b"t"], [b"t", b"part"], [b"x" * 300], [b"t" * 300], [b"tlast"]]
    for message in sent:
        publisher.send_multipart(message) if len(message) > 1 else publisher.send(message[0])
    wanted = [message for message in sent if message[0].startswith(b"t")]
    assert [subscriber.recv_multipart() for _ in wanted] == wanted
    assert not subscriber.poll(100)

"""A PUB's fan-out in batches (engine/distributor.py) against libzmq SUBs and purezmq's own:
every subscriber gets what it subscribed to, whole and in order, whichever path a batch takes
(straight to a free connection, or into a busy one's pipe), and nothing queued is lost to a
close, a full outbox or a change of options."""

from __future__ import annotations

import time

import zmq as pyzmq

import purezmq


def _subscribed(pub, subs, topic: bytes = b"") -> None:
    """Probe until every SUB gets the PUB's messages, then drain the probes."""
    deadline = time.monotonic() + 5
    waiting = list(subs)
    while waiting:
        assert time.monotonic() < deadline, "a subscription never reached the PUB"
        pub.send(topic + b"probe")
        waiting = [sub for sub in waiting if not sub.poll(20)]
    for sub in subs:
        while sub.poll(100):
            sub.recv_multipart()


def _sub(context, module, endpoint: str, topic: bytes = b""):
    sub = context.socket(module.SUB)
    sub.rcvhwm = 0
    sub.rcvtimeo = 5000
    sub.subscribe(topic)
    sub.connect(endpoint)
    return sub


def test_every_subscriber_gets_every_message_in_order(pctx, pyctx, ipc_dir):
    """libzmq SUBs over tcp and ipc and a purezmq SUB over inproc on one PUB; single and
    multipart messages."""
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    pub.bind(f"ipc://{ipc_dir}/distributor")
    pub.bind("inproc://distributor")
    subs = [
        _sub(pyctx, pyzmq, f"tcp://127.0.0.1:{port}"),
        _sub(pyctx, pyzmq, f"ipc://{ipc_dir}/distributor"),
        _sub(pctx, purezmq, "inproc://distributor"),
    ]
    _subscribed(pub, subs)
    count = 20_000
    for number in range(count):
        body = number.to_bytes(4, "big")
        if number % 100 == 0:
            pub.send_multipart([b"multi", body])
        else:
            pub.send(body)
    for sub in subs:
        for number in range(count):
            frames = sub.recv_multipart()
            body = number.to_bytes(4, "big")
            assert frames == ([b"multi", body] if number % 100 == 0 else [body]), (sub, number)


def test_topics_are_filtered_per_subscriber(pctx, pyctx):
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    endpoint = f"tcp://127.0.0.1:{port}"
    a, b = _sub(pyctx, pyzmq, endpoint, b"a"), _sub(pyctx, pyzmq, endpoint, b"b")
    _subscribed(pub, [a], b"a")
    _subscribed(pub, [b], b"b")
    for number in range(3000):
        pub.send(b"ab"[number % 2 : number % 2 + 1] + number.to_bytes(4, "big"))
    pub.send(b"a-end")
    pub.send(b"b-end")
    for sub, topic, parity in ((a, b"a", 0), (b, b"b", 1)):
        got = []
        while (message := sub.recv()) != topic + b"-end":
            got.append(message)
        expected = [topic + n.to_bytes(4, "big") for n in range(3000) if n % 2 == parity]
        assert got == expected


def test_what_was_sent_before_close_is_delivered(pctx, pyctx):
    """The outbox is distributed at close, before LINGER's flush: nothing is left in it."""
    sub = pyctx.socket(pyzmq.SUB)
    sub.rcvhwm = 0
    sub.rcvtimeo = 5000
    sub.subscribe(b"")
    port = sub.bind_to_random_port("tcp://127.0.0.1")
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 0
    pub.linger = 5000
    pub.connect(f"tcp://127.0.0.1:{port}")
    _subscribed(pub, [sub])
    count = 10_000
    for number in range(count):
        pub.send(number.to_bytes(4, "big"))
    pub.close()
    assert [int.from_bytes(sub.recv(), "big") for _ in range(count)] == list(range(count))


def test_a_full_outbox_never_blocks_the_publisher(pctx, pyctx):
    """SNDHWM bounds the outbox too: a sender that fills it distributes it itself, at once (a
    NOBLOCK send never raises Again), and the reading SUB gets the messages in order."""
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 10
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = _sub(pyctx, pyzmq, f"tcp://127.0.0.1:{port}")
    _subscribed(pub, [sub])
    count = 3000
    for number in range(count):
        pub.send(number.to_bytes(4, "big"), purezmq.NOBLOCK)
    received = []
    while sub.poll(500):
        received.append(int.from_bytes(sub.recv(), "big"))
    assert received == sorted(received)
    assert len(received) > 1000, len(received)  # (The kernel's buffers take the most.)


def test_a_sndhwm_change_keeps_the_order(pctx, pyctx):
    """An option changed between sends: what was sent before goes out first."""
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = _sub(pyctx, pyzmq, f"tcp://127.0.0.1:{port}")
    _subscribed(pub, [sub])
    for number in range(2000):
        if number == 1000:
            pub.sndhwm = 5000
        pub.send(number.to_bytes(4, "big"))
    assert [int.from_bytes(sub.recv(), "big") for _ in range(2000)] == list(range(2000))


def test_stats_count_the_messages_distributed(pctx, pyctx):
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    subs = [_sub(pyctx, pyzmq, f"tcp://127.0.0.1:{port}") for _ in range(3)]
    _subscribed(pub, subs)
    before = pub.stats()["messages_out"]
    for number in range(500):
        pub.send(number.to_bytes(4, "big"))
    for sub in subs:
        for _ in range(500):
            sub.recv()
    assert pub.stats()["messages_out"] - before == 1500


def test_plain_and_compressed_subscribers_share_a_batch(pctx, pyctx):
    """A batch is encoded once for the plain connections; a compressed one (purezmq's own,
    with a purezmq SUB) still encodes its own: each gets every message, in its own form."""
    document = b"".join(b'{"n": %d, "tags": ["a", "b"]},' % n for n in range(500))
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 0
    pub.set_compression(["zlib"])
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    compressed = _sub_compressed(pctx, f"tcp://127.0.0.1:{port}")
    subs = [
        _sub(pyctx, pyzmq, f"tcp://127.0.0.1:{port}"),
        compressed,
        _sub(pyctx, pyzmq, f"tcp://127.0.0.1:{port}"),
    ]
    _subscribed(pub, subs)
    before = compressed.stats()["bytes_in"]
    count = 200
    for number in range(count):
        pub.send_multipart([number.to_bytes(4, "big"), document])
    for sub in subs:
        for number in range(count):
            assert sub.recv_multipart() == [number.to_bytes(4, "big"), document], (sub, number)
    assert compressed.stats()["bytes_in"] - before < count * len(document) / 4


def _sub_compressed(context, endpoint: str):
    sub = context.socket(purezmq.SUB)
    sub.rcvhwm = 0
    sub.rcvtimeo = 5000
    sub.set_compression(["zlib"])
    sub.subscribe(b"")
    sub.connect(endpoint)
    return sub

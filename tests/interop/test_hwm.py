"""High-water marks: blocking, EAGAIN, PUB dropping, defaults, and HWM 0 meaning "no limit"."""

from __future__ import annotations

import time

import pytest

from ._util import drain, free_tcp_port, make_socket, recv_frames, sync_subscriber

pytestmark = pytest.mark.timeout(30)

BIG = 64 * 1024


# --------------------------------------------------------------------------------------------------
# (a) no peer


@pytest.mark.parametrize("setup", ["unattached", "bound_no_peer"])
def test_push_without_peer_raises_again(zmq_impl, ctx, setup: str) -> None:
    push = make_socket(ctx, zmq_impl.PUSH)
    push.sndhwm = 10
    if setup == "bound_no_peer":
        push.bind_to_random_port("tcp://127.0.0.1")

    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again) as info:
        push.send(b"x", zmq_impl.NOBLOCK)
    assert time.monotonic() - t0 < 0.5
    assert isinstance(info.value, zmq_impl.ZMQError)
    assert info.value.errno == zmq_impl.EAGAIN

    push.sndtimeo = 100
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again):
        push.send(b"x")
    elapsed = time.monotonic() - t0
    assert 0.09 <= elapsed < 2.0, f"SNDTIMEO=100 gave up after {elapsed:.3f}s"


def test_push_connected_to_nothing_queues_exactly_sndhwm(zmq_impl, ctx) -> None:
    """A connecting PUSH has its pipe before the connection exists: SNDHWM messages queue."""
    push = make_socket(ctx, zmq_impl.PUSH)
    push.sndhwm = 10
    push.connect(f"tcp://127.0.0.1:{free_tcp_port()}")
    for i in range(10):
        push.send(b"%d" % i, zmq_impl.NOBLOCK)
    with pytest.raises(zmq_impl.Again):
        push.send(b"one too many", zmq_impl.NOBLOCK)
    push.sndtimeo = 100
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again):
        push.send(b"one too many")
    assert 0.09 <= time.monotonic() - t0 < 2.0


# --------------------------------------------------------------------------------------------------
# (b) back-pressure from a PULL that does not read


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_push_blocks_on_full_peer_then_recovers(
    zmq_impl, pyzmq, ctx, pyctx, ipc_endpoint, transport: str
) -> None:
    pull = make_socket(pyctx, pyzmq.PULL)
    pull.rcvhwm = 5
    if transport == "tcp":
        endpoint = f"tcp://127.0.0.1:{pull.bind_to_random_port('tcp://127.0.0.1')}"
    else:
        pull.bind(ipc_endpoint)
        endpoint = ipc_endpoint
    push = make_socket(ctx, zmq_impl.PUSH)
    push.sndhwm = 5
    push.connect(endpoint)
    push.send(b"probe")
    assert recv_frames(pull) == [b"probe"]  # connected; from now on the PULL does not read

    blob = b"\xab" * (BIG - 8)
    sent = 0
    # NOBLOCK: Again must come within a bounded amount of data (kernel buffers are finite).
    while True:
        assert sent < 2000, "no Again after 2000 x 64 KiB: no back-pressure"
        try:
            push.send(b"%07d:" % sent + blob, zmq_impl.NOBLOCK)
        except zmq_impl.Again:
            break
        sent += 1
    # Really full end to end: a blocking send with a timeout eventually times out too.
    push.sndtimeo = 200
    while True:
        assert sent < 2000, "blocking sends never time out: no back-pressure"
        try:
            push.send(b"%07d:" % sent + blob)
        except zmq_impl.Again:
            break
        sent += 1

    # The reader catches up: everything arrives, in order, intact.
    for i in range(sent):
        msg = recv_frames(pull)
        assert len(msg) == 1 and msg[0][:8] == b"%07d:" % i and len(msg[0]) == BIG
    # ... and sending works again.
    push.sndtimeo = 5000
    for i in range(20):
        push.send(b"again-%d" % i)
    assert [recv_frames(pull) for _ in range(20)] == [[b"again-%d" % i] for i in range(20)]


# --------------------------------------------------------------------------------------------------
# (c) PUB never blocks: it drops for a slow subscriber


@pytest.mark.timeout(60)
def test_pub_drops_for_slow_subscriber(zmq_impl, pyzmq, ctx, pyctx) -> None:
    pub = make_socket(ctx, zmq_impl.PUB)
    pub.sndhwm = 10
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    slow = make_socket(pyctx, pyzmq.SUB)
    slow.rcvhwm = 10
    slow.setsockopt(pyzmq.SUBSCRIBE, b"")
    slow.connect(f"tcp://127.0.0.1:{port}")
    sync_subscriber(pub, slow, b"S")  # subscribed for sure; from now on `slow` does not read

    payload = b"\x00" * (1024 - 8)
    n = 100_000
    worst = 0.0
    t_start = time.monotonic()
    for i in range(n):
        t0 = time.monotonic()
        pub.send(b"D%07d" % i + payload, zmq_impl.NOBLOCK)  # must never raise Again
        worst = max(worst, time.monotonic() - t0)
    total = time.monotonic() - t_start
    assert worst < 1.0, f"a PUB send blocked for {worst:.3f}s"
    assert total < 40, f"100k PUB sends took {total:.1f}s"

    # A fast subscriber joining now gets fresh messages: the slow one does not wedge the PUB.
    fast = make_socket(pyctx, pyzmq.SUB)
    fast.setsockopt(pyzmq.SUBSCRIBE, b"")
    fast.connect(f"tcp://127.0.0.1:{port}")
    sync_subscriber(pub, fast, b"F")
    # With SNDHWM 10 the PUB may drop for the fast one too (libzmq learns about consumed messages
    # only every few messages), so require a steady flow of fresh, ordered messages, not all.
    got: list[int] = []
    i = 0
    deadline = time.monotonic() + 10
    while len(got) < 50:
        assert time.monotonic() < deadline, f"fast subscriber starved: got {len(got)} of {i}"
        pub.send(b"fresh-%d" % i, zmq_impl.NOBLOCK)
        i += 1
        while fast.poll(1):
            got.append(int(recv_frames(fast)[0].split(b"-")[1]))
    assert got == sorted(set(got))

    # The slow subscriber got a bounded, ordered subset: the rest was dropped, not queued.
    seqs = [int(m[0][1:8]) for m in drain(slow, quiet_ms=300) if m[0][:1] == b"D"]
    assert len(seqs) < n, "nothing was dropped for the slow subscriber"
    assert seqs == sorted(set(seqs)), "slow subscriber got duplicates or reordering"


def test_pub_without_subscribers_never_blocks(zmq_impl, ctx) -> None:
    pub = make_socket(ctx, zmq_impl.PUB)
    pub.sndhwm = 1
    pub.bind_to_random_port("tcp://127.0.0.1")
    for i in range(10_000):
        pub.send(b"%d" % i, zmq_impl.NOBLOCK)


# --------------------------------------------------------------------------------------------------
# (d) defaults, and HWM 0 = unlimited


@pytest.mark.parametrize(
    "kind", ["PUSH", "PULL", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PAIR", "XPUB", "XSUB"]
)
def test_default_hwms_are_1000(zmq_impl, ctx, kind: str) -> None:
    sock = make_socket(ctx, getattr(zmq_impl, kind))
    assert sock.getsockopt(zmq_impl.SNDHWM) == 1000
    assert sock.getsockopt(zmq_impl.RCVHWM) == 1000
    assert sock.sndhwm == 1000
    assert sock.rcvhwm == 1000
    sock.sndhwm = 7
    sock.setsockopt(zmq_impl.RCVHWM, 0)
    assert sock.getsockopt(zmq_impl.SNDHWM) == 7
    assert sock.rcvhwm == 0


def test_hwm_zero_is_unlimited_with_stalled_peer(zmq_impl, pyzmq, ctx, pyctx) -> None:
    pull = make_socket(pyctx, pyzmq.PULL)
    pull.rcvhwm = 0
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = make_socket(ctx, zmq_impl.PUSH)
    push.sndhwm = 0
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"probe")
    assert recv_frames(pull) == [b"probe"]
    for i in range(5000):
        push.send(b"m%d" % i, zmq_impl.NOBLOCK)  # never Again
    # Nothing was lost either.
    assert [recv_frames(pull)[0] for _ in range(5000)] == [b"m%d" % i for i in range(5000)]


def test_hwm_zero_is_unlimited_without_connection(zmq_impl, ctx) -> None:
    push = make_socket(ctx, zmq_impl.PUSH)
    push.sndhwm = 0
    push.connect(f"tcp://127.0.0.1:{free_tcp_port()}")  # nobody listens
    for i in range(5000):
        push.send(b"m%d" % i, zmq_impl.NOBLOCK)

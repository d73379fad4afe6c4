"""High-water-mark semantics over inproc, where counts are exact (no kernel buffers).

libzmq sizes an inproc pipe as the sum of the writer's SNDHWM and the reader's RCVHWM (and makes
it unlimited when either is 0). A reader hands credit back to the writer in batches (its low
water mark), so room freed by a read is not necessarily visible to the writer at once.
Expectations are libzmq's (run with PUREZMQ_TEST_IMPL=zmq to check them against pyzmq).
"""

from __future__ import annotations

import time
import uuid

import pytest

from ._helpers import assert_silent, make, recv

pytestmark = pytest.mark.timeout(30)

HWM = 5
#: Messages an inproc pipe holds with SNDHWM = RCVHWM = HWM (libzmq adds them up).
INPROC_CAPACITY = 2 * HWM


def _endpoint() -> str:
    return f"inproc://hwm-{uuid.uuid4().hex}"


def _fill(sock, zmq_impl, make_msg, limit: int = 100_000) -> int:
    """Send NOBLOCK until Again; return how many went through."""
    n = 0
    while n < limit:
        try:
            sock.send_multipart(make_msg(n), zmq_impl.NOBLOCK)
        except zmq_impl.Again:
            return n
        n += 1
    return n


def _push_pull(zmq_impl, ctx, order: str = "bind_first"):
    push = make(ctx, zmq_impl.PUSH, sndhwm=HWM)
    pull = make(ctx, zmq_impl.PULL, rcvhwm=HWM)
    endpoint = _endpoint()
    if order == "bind_first":
        pull.bind(endpoint)
        push.connect(endpoint)
    else:
        push.connect(endpoint)
        pull.bind(endpoint)
    return push, pull


@pytest.mark.parametrize("order", ["bind_first", "connect_first"])
def test_inproc_push_capacity_is_sum_of_hwms(zmq_impl, ctx, order: str) -> None:
    push, pull = _push_pull(zmq_impl, ctx, order)
    sent = _fill(push, zmq_impl, lambda n: [b"%d" % n])
    assert sent == INPROC_CAPACITY
    with pytest.raises(zmq_impl.Again):
        push.send(b"still full", zmq_impl.NOBLOCK)
    push.sndtimeo = 100
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again):
        push.send(b"still full")
    assert 0.08 <= time.monotonic() - t0 < 2.0
    assert [recv(pull) for _ in range(sent)] == [[b"%d" % n] for n in range(sent)]
    assert_silent(pull, 50)


def test_inproc_reading_frees_room(zmq_impl, ctx) -> None:
    push, pull = _push_pull(zmq_impl, ctx)
    sent = _fill(push, zmq_impl, lambda n: [b"%d" % n])
    assert sent == INPROC_CAPACITY
    received = 0
    extra_during_reads = 0
    for _ in range(2 * INPROC_CAPACITY):
        assert recv(pull) == [b"%d" % received]
        received += 1
        # Send whatever room the writer has been given back; never more than the capacity.
        while push.poll(20, zmq_impl.POLLOUT):
            push.send(b"%d" % sent, zmq_impl.NOBLOCK)
            sent += 1
            extra_during_reads += 1
            assert sent - received <= INPROC_CAPACITY
        assert sent - received <= INPROC_CAPACITY
    assert extra_during_reads >= INPROC_CAPACITY, "reading did not let the writer send again"

    # Drain completely: the whole capacity is available again, exactly.
    while received < sent:
        assert recv(pull) == [b"%d" % received]
        received += 1
    assert push.poll(2000, zmq_impl.POLLOUT)
    more = _fill(push, zmq_impl, lambda n: [b"%d" % (sent + n)])
    assert more == INPROC_CAPACITY
    assert [recv(pull) for _ in range(more)] == [[b"%d" % (sent + n)] for n in range(more)]


def test_inproc_sndhwm_zero_is_unlimited(zmq_impl, ctx) -> None:
    push = make(ctx, zmq_impl.PUSH, sndhwm=0)
    pull = make(ctx, zmq_impl.PULL)  # default RCVHWM (1000)
    endpoint = _endpoint()
    pull.bind(endpoint)
    push.connect(endpoint)
    count = 10_000
    for n in range(count):
        push.send(b"%d" % n, zmq_impl.NOBLOCK)  # never Again
    for n in range(count):
        assert pull.recv() == b"%d" % n
    assert_silent(pull, 50)


def _router_and_dealer(zmq_impl, ctx, mandatory: int):
    router = make(ctx, zmq_impl.ROUTER, sndhwm=HWM, router_mandatory=mandatory)
    dealer = make(ctx, zmq_impl.DEALER, rcvhwm=HWM, routing_id=b"peer")
    endpoint = _endpoint()
    router.bind(endpoint)
    dealer.connect(endpoint)
    dealer.send(b"hello")
    assert recv(router) == [b"peer", b"hello"]
    return router, dealer


def test_router_drops_for_full_peer(zmq_impl, ctx) -> None:
    router, dealer = _router_and_dealer(zmq_impl, ctx, mandatory=0)
    t0 = time.monotonic()
    for n in range(200):
        router.send_multipart([b"peer", b"%d" % n])  # blocking API, yet never blocks
    for n in range(200, 400):
        router.send_multipart([b"peer", b"%d" % n], zmq_impl.NOBLOCK)  # never Again
    assert time.monotonic() - t0 < 2.0
    got = []
    while dealer.poll(100):
        got.append(dealer.recv_multipart())
    # The first messages fill the pipe, the rest is dropped.
    assert got == [[b"%d" % n] for n in range(INPROC_CAPACITY)]

    # The ROUTER keeps working once there is room.
    router.send_multipart([b"peer", b"after"])
    assert recv(dealer) == [b"after"]


def test_router_mandatory_full_peer_raises_again(zmq_impl, ctx) -> None:
    router, dealer = _router_and_dealer(zmq_impl, ctx, mandatory=1)
    sent = _fill(router, zmq_impl, lambda n: [b"peer", b"%d" % n])
    assert sent == INPROC_CAPACITY
    with pytest.raises(zmq_impl.Again):
        router.send_multipart([b"peer", b"full"], zmq_impl.NOBLOCK)
    router.sndtimeo = 100
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again):
        router.send_multipart([b"peer", b"full"])
    assert time.monotonic() - t0 < 2.0
    # An unknown peer is still EHOSTUNREACH, not Again.
    with pytest.raises(zmq_impl.ZMQError) as info:
        router.send_multipart([b"nobody", b"x"], zmq_impl.NOBLOCK)
    assert info.value.errno == zmq_impl.EHOSTUNREACH
    assert [recv(dealer) for _ in range(sent)] == [[b"%d" % n] for n in range(sent)]
    assert_silent(dealer, 50)


def test_dealer_blocks_at_hwm(zmq_impl, ctx) -> None:
    dealer = make(ctx, zmq_impl.DEALER, sndhwm=HWM)
    router = make(ctx, zmq_impl.ROUTER, rcvhwm=HWM)
    endpoint = _endpoint()
    router.bind(endpoint)
    dealer.routing_id = b"d"
    dealer.connect(endpoint)

    sent = _fill(dealer, zmq_impl, lambda n: [b"%d" % n])
    assert sent == INPROC_CAPACITY
    dealer.sndtimeo = 200
    t0 = time.monotonic()
    with pytest.raises(zmq_impl.Again):
        dealer.send(b"blocked")
    elapsed = time.monotonic() - t0
    assert 0.18 <= elapsed < 2.0, f"SNDTIMEO=200 gave up after {elapsed:.3f}s"

    # Once the ROUTER reads the queue, a blocking send goes through.
    assert [recv(router) for _ in range(sent)] == [[b"d", b"%d" % n] for n in range(sent)]
    dealer.sndtimeo = 2000
    dealer.send(b"unblocked")
    assert recv(router) == [b"d", b"unblocked"]

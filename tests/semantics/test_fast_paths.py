"""The socket-thread fast paths (engine/direct.py, Session.write_here, Peer.make_room) against a
libzmq peer: nothing is lost, reordered or delayed for good when the socket's own thread does
the I/O instead of the I/O thread, and the I/O thread takes the connection back when it must."""

from __future__ import annotations

import random
import select
import threading
import time

import pytest
import zmq as pyzmq

import purezmq
from purezmq.engine.direct import RECLAIM_AFTER


def _pair(pctx, pyctx, ours: int, theirs: int, endpoint: str = "tcp://127.0.0.1:*"):
    mine = pctx.socket(ours)
    mine.rcvtimeo = mine.sndtimeo = 5000
    mine.bind(endpoint)
    peer = pyctx.socket(theirs)
    peer.rcvtimeo = peer.sndtimeo = 5000
    peer.connect(mine.last_endpoint.decode())
    return mine, peer


def _send_once_waiting(reader, sock, data: bytes) -> threading.Thread:
    """Send ``data`` from another thread once our socket waits on its borrowed connection."""

    def send() -> None:
        deadline = time.monotonic() + 5
        while not reader.waiting and time.monotonic() < deadline:
            time.sleep(0.001)
        sock.send(data)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def _borrowing_round_trip(rep, req) -> None:
    """A warm-up round trip, then one whose request our REP reads in its own thread."""
    for request in (b"zero", b"one"):
        reader = rep._core.direct_reader
        sender = _send_once_waiting(reader, req, request) if request == b"one" else None
        if sender is None:
            req.send(request)
        assert rep.recv() == request
        if sender is not None:
            sender.join(5)
            assert reader.transport is not None, "the receive did not read in its own thread"
        rep.send(b"ok")
        assert req.recv() == b"ok"


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_ping_pong_of_mixed_sizes_arrives_whole_and_in_order(pctx, pyctx, ipc_dir, transport):
    """Replies written at once and requests read in the socket's thread, with bodies from empty
    to 3 MB (partial writes, frames split over many reads, the pipe stalling)."""
    endpoint = "tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{ipc_dir}/fast.sock"
    router, dealer = _pair(pctx, pyctx, purezmq.ROUTER, pyzmq.DEALER, endpoint)
    rng = random.Random(7)
    for number in range(300):
        size = rng.choice([0, 1, 16, 255, 256, 9000, 70_000, 3_000_000 if number % 50 == 0 else 5])
        body = bytes([number % 256]) * size
        dealer.send_multipart([number.to_bytes(2, "big"), body])
        identity, tag, got = router.recv_multipart()
        assert (tag, got) == (number.to_bytes(2, "big"), body)
        router.send_multipart([identity, tag, got[::-1]])
        assert dealer.recv_multipart() == [tag, body[::-1]]


def test_a_burst_past_the_high_water_mark_arrives_in_order(pctx, pyctx):
    """The sender writes its full pipe out itself instead of sleeping; the receiver reads in
    its own thread through the pipe's stalls."""
    push, pull = pctx.socket(purezmq.PUSH), pctx.socket(purezmq.PULL)
    push.sndhwm = pull.rcvhwm = 10
    pull.rcvtimeo = 5000
    pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.last_endpoint.decode())
    count = 20_000
    for number in range(count):
        push.send(number.to_bytes(4, "big"))
    assert [int.from_bytes(pull.recv(), "big") for _ in range(count)] == list(range(count))


@pytest.mark.parametrize("hwm", [4, 10, 64])
def test_polling_after_a_received_batch_lets_a_stalled_sender_go_on(pctx, pyctx, hwm):
    """A receive takes a batch that goes on counting against RCVHWM; a poll after the batch
    was handed out must free that room and wake the connection stalled at the mark (a libzmq
    PUSH far ahead), or the stream stops."""
    pull = pctx.socket(purezmq.PULL)
    pull.rcvhwm = hwm
    pull.rcvtimeo = 5000
    pull.bind("tcp://127.0.0.1:*")
    push = pyctx.socket(pyzmq.PUSH)
    push.connect(pull.last_endpoint.decode())
    count = 20 * hwm
    for number in range(count):
        push.send(number.to_bytes(4, "big"))
    got = []
    while len(got) < count:
        for _ in range(min(hwm, count - len(got))):
            got.append(int.from_bytes(pull.recv(), "big"))
        if len(got) < count:
            assert pull.poll(5000), f"stalled after {len(got)} of {count} messages"
    assert got == list(range(count))


def test_poller_after_a_receive_still_wakes(pctx, pyctx):
    """recv borrowed the connection; a Poller that waits next must still see what comes."""
    rep, req = _pair(pctx, pyctx, purezmq.REP, pyzmq.REQ)
    _borrowing_round_trip(rep, req)
    poller = purezmq.Poller()
    poller.register(rep, purezmq.POLLIN)
    req.send(b"two")
    assert dict(poller.poll(5000)) == {rep: purezmq.POLLIN}
    assert rep.recv() == b"two"


def test_fd_after_a_receive_turns_readable(pctx, pyctx):
    """The FD contract (edge-triggered readiness, then EVENTS) holds after a borrowing recv."""
    rep, req = _pair(pctx, pyctx, purezmq.REP, pyzmq.REQ)
    _borrowing_round_trip(rep, req)
    fd = rep.getsockopt(purezmq.FD)
    rep.getsockopt(purezmq.EVENTS)
    req.send(b"two")
    deadline = time.monotonic() + 5
    while not rep.getsockopt(purezmq.EVENTS) & purezmq.POLLIN:
        assert time.monotonic() < deadline, "FD never signalled the request"
        select.select([fd], [], [], 0.5)
    assert rep.recv(purezmq.NOBLOCK) == b"two"


def test_the_io_thread_takes_an_idle_connection_back(pctx, pyctx):
    rep, req = _pair(pctx, pyctx, purezmq.REP, pyzmq.REQ)
    _borrowing_round_trip(rep, req)
    reader = rep._core.direct_reader
    deadline = time.monotonic() + 5
    while reader.transport is not None:
        assert time.monotonic() < deadline, "the connection was never given back"
        time.sleep(RECLAIM_AFTER)
    # Back with the I/O thread, which now queues what comes without any call of ours.
    req.send(b"two")
    peer = next(iter(rep._core.sessions)).peer
    while not peer.inbound.peek():
        assert time.monotonic() < deadline, "the I/O thread did not read the request"
        time.sleep(0.001)
    assert rep.recv() == b"two"


def test_publisher_writes_out_before_dropping(pctx, pyctx):
    """A PUB whose pipe to a SUB is full hands it to the connection before dropping: a burst
    far past SNDHWM to a reading SUB loses less than all but the HWM."""
    pub = pctx.socket(purezmq.PUB)
    pub.sndhwm = 100
    pub.bind("tcp://127.0.0.1:*")
    sub = pyctx.socket(pyzmq.SUB)
    sub.rcvhwm = 0
    sub.subscribe(b"")
    sub.connect(pub.last_endpoint.decode())
    deadline = time.monotonic() + 5
    while not sub.poll(10):
        assert time.monotonic() < deadline, "subscription never arrived"
        pub.send(b"probe")
    while sub.poll(100):
        sub.recv()
    count = 5000
    for number in range(count):
        pub.send(number.to_bytes(4, "big"))
    received = []
    while sub.poll(500):
        received.append(int.from_bytes(sub.recv(), "big"))
    assert received == sorted(received)
    assert len(received) > 1000  # Without write-out at the HWM about 100 would arrive.

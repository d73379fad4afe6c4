"""Interop matrix: every classic socket pair, zmq_impl against real libzmq (pyzmq).

Each pair test runs over tcp and ipc, with either library binding, and with zmq_impl on either end
of the pair (e.g. zmq_impl PUSH -> pyzmq PULL and pyzmq PUSH -> zmq_impl PULL). Payloads cover the
ZMTP short/long frame boundary (255/256 bytes), empty frames, a 1 MiB frame and a multipart message;
every byte is checked.

Further down: load balancing (PUSH, DEALER) over three peers and fair queuing from three senders.
"""

from __future__ import annotations

import itertools
import os
import socket as pysocket
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from ._util import (
    assert_frames,
    bind_any,
    lib_of,
    make_socket,
    readiness_probe,
    recv_frames,
    recv_kicking,
    sync_subscriber,
)

pytestmark = pytest.mark.timeout(30)

MESSAGES: list[list[bytes]] = [
    [b""],
    [b"\x00"],
    [bytes(range(255))],  # largest short frame
    [bytes(range(256))],  # smallest long frame
    [os.urandom(1 << 20)],  # 1 MiB (differs per run; comparisons are exact)
    [b"a", b"", b"x" * 300],  # multipart: short, empty, long
]

ROUTING_ID = b"peer-\x01\xfe"


def reply_for(msg: list[bytes]) -> list[bytes]:
    """A reply that is distinguishable from an echo but keeps the same frame sizes."""
    return list(reversed(msg))


# --------------------------------------------------------------------------------------------------
# pair construction


@dataclass(frozen=True)
class Variant:
    transport: str  # "tcp" | "ipc"
    binder: str  # "impl" | "pyzmq": which library's socket binds
    impl_end: str  # "first" | "second": which socket of the pair is zmq_impl's

    @property
    def id(self) -> str:
        return f"{self.transport}-{self.binder}_binds-impl_{self.impl_end}"


VARIANTS = [
    Variant(t, b, e)
    for t, b, e in itertools.product(("tcp", "ipc"), ("impl", "pyzmq"), ("first", "second"))
]
matrix = pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])


@pytest.fixture
def make_pair(zmq_impl: ModuleType, pyzmq: ModuleType, ctx: Any, pyctx: Any, ipc_endpoint: str):
    """make_pair(variant, "PUSH", "PULL", setup=None) -> (first_socket, second_socket).

    ``setup(first, second)`` runs before bind/connect (subscriptions, routing ids, ...).
    """

    def _make(variant: Variant, first_type: str, second_type: str, setup=None):
        if variant.impl_end == "first":
            first = make_socket(ctx, getattr(zmq_impl, first_type))
            second = make_socket(pyctx, getattr(pyzmq, second_type))
            impl_sock, py_sock = first, second
        else:
            first = make_socket(pyctx, getattr(pyzmq, first_type))
            second = make_socket(ctx, getattr(zmq_impl, second_type))
            impl_sock, py_sock = second, first
        if setup is not None:
            setup(first, second)
        binder, connecter = (impl_sock, py_sock)
        if variant.binder == "pyzmq":
            binder, connecter = connecter, binder
        endpoint = bind_any(binder, variant.transport, ipc_endpoint)
        connecter.connect(endpoint)
        return first, second

    return _make


def const(sock: Any, name: str) -> int:
    """A constant from the socket's own library (both must agree on the numbers anyway)."""
    return getattr(lib_of(sock), name)


# --------------------------------------------------------------------------------------------------
# the pairs


@matrix
def test_push_pull(make_pair, variant: Variant) -> None:
    push, pull = make_pair(variant, "PUSH", "PULL")
    for msg in MESSAGES:
        push.send_multipart(msg)
        assert_frames(recv_frames(pull), msg)
    # A burst: everything queued back to back, then read in order.
    for msg in MESSAGES:
        push.send_multipart(msg)
    for msg in MESSAGES:
        assert_frames(recv_frames(pull), msg)


@matrix
def test_req_rep(make_pair, variant: Variant) -> None:
    req, rep = make_pair(variant, "REQ", "REP")
    for msg in MESSAGES:
        req.send_multipart(msg)
        assert_frames(recv_frames(rep), msg)
        rep.send_multipart(reply_for(msg))
        assert_frames(recv_frames(req), reply_for(msg))


@matrix
def test_req_router(make_pair, variant: Variant) -> None:
    def setup(req, router):
        req.setsockopt(const(req, "ROUTING_ID"), ROUTING_ID)

    req, router = make_pair(variant, "REQ", "ROUTER", setup)
    for msg in MESSAGES:
        req.send_multipart(msg)
        got = recv_frames(router)
        assert got[:2] == [ROUTING_ID, b""], f"bad envelope {got[:2]!r}"
        assert_frames(got[2:], msg)
        router.send_multipart([ROUTING_ID, b"", *reply_for(msg)])
        assert_frames(recv_frames(req), reply_for(msg))


@matrix
def test_dealer_rep(make_pair, variant: Variant) -> None:
    dealer, rep = make_pair(variant, "DEALER", "REP")
    for msg in MESSAGES:
        dealer.send_multipart([b"", *msg])
        assert_frames(recv_frames(rep), msg)
        rep.send_multipart(reply_for(msg))
        assert_frames(recv_frames(dealer), [b"", *reply_for(msg)])


@matrix
def test_dealer_router(make_pair, variant: Variant) -> None:
    def setup(dealer, router):
        dealer.setsockopt(const(dealer, "ROUTING_ID"), ROUTING_ID)

    dealer, router = make_pair(variant, "DEALER", "ROUTER", setup)
    for msg in MESSAGES:
        dealer.send_multipart(msg)
        got = recv_frames(router)
        assert got[0] == ROUTING_ID, f"bad routing id {got[0]!r}"
        assert_frames(got[1:], msg)
        router.send_multipart([ROUTING_ID, *reply_for(msg)])
        assert_frames(recv_frames(dealer), reply_for(msg))
    # Several requests in flight, replies routed back by id in a different order.
    for i in range(5):
        dealer.send(b"req-%d" % i)
    got = [recv_frames(router) for _ in range(5)]
    assert got == [[ROUTING_ID, b"req-%d" % i] for i in range(5)]
    for i in reversed(range(5)):
        router.send_multipart([ROUTING_ID, b"rep-%d" % i])
    assert [recv_frames(dealer) for _ in range(5)] == [[b"rep-%d" % i] for i in reversed(range(5))]


@matrix
def test_router_auto_routing_id(make_pair, variant: Variant) -> None:
    """Without ROUTING_ID the ROUTER makes one up (libzmq: 5 bytes, first 0) and routes by it."""
    dealer, router = make_pair(variant, "DEALER", "ROUTER")
    dealer.send(b"hello")
    rid, body = recv_frames(router)
    assert body == b"hello"
    assert len(rid) == 5 and rid[0] == 0, f"generated routing id {rid!r}"
    router.send_multipart([rid, b"world"])
    assert recv_frames(dealer) == [b"world"]


@matrix
def test_pub_sub(make_pair, variant: Variant) -> None:
    def setup(pub, sub):
        sub.setsockopt(const(sub, "SUBSCRIBE"), b"A")

    pub, sub = make_pair(variant, "PUB", "SUB", setup)
    sync_subscriber(pub, sub, b"A")

    # Filtering: non-matching messages never arrive; matching ones keep their order.
    for m in (b"B1", b"A1", b"B2", b"", b"a-lower", b"A2", b"B3"):
        pub.send(m)
    pub.send_multipart([b"B-multi", b"A-second-frame-does-not-count"])
    pub.send(b"A-end")
    assert recv_frames(sub) == [b"A1"]
    assert recv_frames(sub) == [b"A2"]
    assert recv_frames(sub) == [b"A-end"]
    assert sub.poll(50) == 0

    # Subscribe to everything, confirm with a topic only b"" matches, then check exact payloads.
    sub.setsockopt(const(sub, "SUBSCRIBE"), b"")
    sync_subscriber(pub, sub, b"Z")
    for msg in MESSAGES:
        pub.send_multipart(msg)
        assert_frames(recv_frames(sub), msg)


@matrix
def test_xpub_xsub(make_pair, variant: Variant) -> None:
    xpub, xsub = make_pair(variant, "XPUB", "XSUB")
    xsub.send(b"\x01topic")
    # (a bound libzmq XSUB forwards its subscriptions to a new peer only when touched: libzmq#2267)
    assert recv_kicking(xpub, [xsub]) == [b"\x01topic"]
    # The XPUB has applied the subscription once it hands it to the application.
    for m in (b"other", b"topic-1", b"toPic", b"", b"topic-end"):
        xpub.send(m)
    assert recv_frames(xsub) == [b"topic-1"]
    assert recv_frames(xsub) == [b"topic-end"]
    assert xsub.poll(50) == 0

    xsub.send(b"\x01")  # everything
    assert recv_frames(xpub) == [b"\x01"]
    for msg in MESSAGES:
        xpub.send_multipart(msg)
        assert_frames(recv_frames(xsub), msg)

    # Unsubscribing is forwarded too.
    xsub.send(b"\x00topic")
    assert recv_frames(xpub) == [b"\x00topic"]


@matrix
def test_pair_pair(make_pair, variant: Variant) -> None:
    a, b = make_pair(variant, "PAIR", "PAIR")
    for msg in MESSAGES:
        a.send_multipart(msg)
        assert_frames(recv_frames(b), msg)
    for msg in MESSAGES:
        b.send_multipart(msg)
        assert_frames(recv_frames(a), msg)
    # Interleaved traffic in both directions at once.
    for i in range(20):
        a.send(b"a%d" % i)
        b.send(b"b%d" % i)
    assert [recv_frames(b) for _ in range(20)] == [[b"a%d" % i] for i in range(20)]
    assert [recv_frames(a) for _ in range(20)] == [[b"b%d" % i] for i in range(20)]


def _ipv6_loopback_available() -> bool:
    if not pysocket.has_ipv6:
        return False
    try:
        with pysocket.socket(pysocket.AF_INET6, pysocket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="no ::1")
@pytest.mark.parametrize("impl_binds", [True, False], ids=["impl_binds", "pyzmq_binds"])
def test_push_pull_ipv6(zmq_impl, pyzmq, ctx, pyctx, impl_binds: bool) -> None:
    push = make_socket(ctx, zmq_impl.PUSH)
    pull = make_socket(pyctx, pyzmq.PULL)
    push.ipv6 = True
    pull.ipv6 = True
    binder, connecter = (push, pull) if impl_binds else (pull, push)
    port = binder.bind_to_random_port("tcp://[::1]")
    connecter.connect(f"tcp://[::1]:{port}")
    for msg in MESSAGES:
        push.send_multipart(msg)
        assert_frames(recv_frames(pull), msg)


# --------------------------------------------------------------------------------------------------
# load balancing: one sender, three peers, round robin


N_PEERS = 3
PER_PEER = 100


def _lib_sockets(impl_is_hub: bool, zmq_impl, pyzmq, ctx, pyctx):
    """(hub library, hub context, peer library, peer context)."""
    if impl_is_hub:
        return zmq_impl, ctx, pyzmq, pyctx
    return pyzmq, pyctx, zmq_impl, ctx


HUB_SIDES = pytest.mark.parametrize(
    "impl_is_hub", [True, False], ids=["impl_hub-pyzmq_peers", "pyzmq_hub-impl_peers"]
)


@HUB_SIDES
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_push_round_robin(
    zmq_impl, pyzmq, ctx, pyctx, ipc_endpoint, impl_is_hub: bool, transport: str
) -> None:
    hub_lib, hub_ctx, peer_lib, peer_ctx = _lib_sockets(impl_is_hub, zmq_impl, pyzmq, ctx, pyctx)
    push = make_socket(hub_ctx, hub_lib.PUSH)
    endpoint = bind_any(push, transport, ipc_endpoint)
    pulls = [make_socket(peer_ctx, peer_lib.PULL) for _ in range(N_PEERS)]
    for p in pulls:
        p.connect(endpoint)

    # Every PULL must be attached before counting: probe until each one got a probe.
    readiness_probe(lambda: push.send(b"probe"), pulls)

    for i in range(N_PEERS * PER_PEER):
        push.send(b"data-%d" % i)
    counts = []
    for p in pulls:
        n = 0
        while n < PER_PEER:
            msg = recv_frames(p)
            if msg != [b"probe"]:
                assert msg[0].startswith(b"data-")
                n += 1
        assert p.poll(50) == 0, "a PULL got more than its share"
        counts.append(n)
    assert counts == [PER_PEER] * N_PEERS


@HUB_SIDES
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_dealer_round_robin_to_rep_workers(
    zmq_impl, pyzmq, ctx, pyctx, ipc_endpoint, impl_is_hub: bool, transport: str
) -> None:
    hub_lib, hub_ctx, peer_lib, peer_ctx = _lib_sockets(impl_is_hub, zmq_impl, pyzmq, ctx, pyctx)
    dealer = make_socket(hub_ctx, hub_lib.DEALER)
    endpoint = bind_any(dealer, transport, ipc_endpoint)
    reps = [make_socket(peer_ctx, peer_lib.REP) for _ in range(N_PEERS)]
    for r in reps:
        r.connect(endpoint)

    def answer(rep, msg):
        rep.send_multipart([b"worker-%d" % reps.index(rep), *msg])

    probes = readiness_probe(lambda: dealer.send_multipart([b"", b"probe"]), reps, answer)

    total = N_PEERS * PER_PEER
    for i in range(total):
        dealer.send_multipart([b"", b"job-%d" % i])
    # Serve: every REP answers everything it gets (left-over probes too).
    served = [0] * N_PEERS
    deadline = time.monotonic() + 20
    while sum(served) < total:
        assert time.monotonic() < deadline, f"served only {served}"
        for idx, r in enumerate(reps):
            if r.poll(0):
                msg = recv_frames(r)
                answer(r, msg)
                if msg != [b"probe"]:
                    served[idx] += 1
        time.sleep(0)
    assert served == [PER_PEER] * N_PEERS

    # The DEALER gets every reply (fair-queued over the three workers).
    replies = [recv_frames(dealer) for _ in range(total + probes)]
    jobs = sorted(int(m[2].split(b"-")[1]) for m in replies if m[2].startswith(b"job-"))
    assert jobs == list(range(total))
    per_worker = {}
    for m in replies:
        assert m[0] == b""
        if m[2].startswith(b"job-"):
            per_worker[m[1]] = per_worker.get(m[1], 0) + 1
    assert sorted(per_worker.values()) == [PER_PEER] * N_PEERS
    for r in reps:
        assert r.poll(0) == 0


# --------------------------------------------------------------------------------------------------
# fair queuing: three senders, one PULL


FQ_PAYLOAD = 64 * 1024
FQ_RCVHWM = 10


@HUB_SIDES
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_pull_fair_queues_senders(
    zmq_impl, pyzmq, ctx, pyctx, ipc_endpoint, impl_is_hub: bool, transport: str
) -> None:
    """Three senders each fill their path to one PULL before it reads; reads must interleave.

    "Queued before reading" is established by back-pressure, not by sleeping: each sender sends
    blocking (SNDTIMEO 300 ms) until a send times out. That only happens once the PULL's pipe for
    that sender is at RCVHWM and the kernel buffers in between are full, i.e. every sender has at
    least RCVHWM messages waiting inside the PULL. Senders fill one after the other, so a PULL that
    simply read in arrival order would return the first sender's messages first.
    """
    hub_lib, hub_ctx, peer_lib, peer_ctx = _lib_sockets(impl_is_hub, zmq_impl, pyzmq, ctx, pyctx)
    pull = make_socket(hub_ctx, hub_lib.PULL)
    pull.rcvhwm = FQ_RCVHWM
    endpoint = bind_any(pull, transport, ipc_endpoint)
    pushes = []
    for _ in range(N_PEERS):
        p = make_socket(peer_ctx, peer_lib.PUSH)
        p.sndhwm = FQ_RCVHWM
        p.connect(endpoint)
        pushes.append(p)

    # Make sure every sender is connected (its probe arrived), so the fill below is end-to-end.
    for i, p in enumerate(pushes):
        p.send(b"probe-%d" % i)
    seen = {recv_frames(pull)[0] for _ in range(N_PEERS)}
    assert seen == {b"probe-%d" % i for i in range(N_PEERS)}

    blob = b"\x00" * (FQ_PAYLOAD - 8)
    sent = [0] * N_PEERS
    for i, p in enumerate(pushes):
        p.sndtimeo = 300
        while True:
            assert sent[i] < 4000, "no back-pressure: sender never blocked"
            try:
                p.send(b"%d:%05d:" % (i, sent[i]) + blob)
            except peer_lib.Again:
                break
            sent[i] += 1
        assert sent[i] >= FQ_RCVHWM

    first = [int(recv_frames(pull)[0][:1]) for _ in range(30)]
    for i in range(N_PEERS):
        assert first.count(i) >= 5, f"first 30 reads not fair-queued: {first}"


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_pull_fair_queue_keeps_per_sender_order(
    zmq_impl, pyzmq, ctx, pyctx, ipc_endpoint, transport: str
) -> None:
    """Many senders of both libraries into one zmq_impl PULL: nothing lost, per-sender FIFO."""
    pull = make_socket(ctx, zmq_impl.PULL)
    endpoint = bind_any(pull, transport, ipc_endpoint)
    senders = [make_socket(pyctx, pyzmq.PUSH) for _ in range(3)]
    senders += [make_socket(ctx, zmq_impl.PUSH) for _ in range(2)]
    for s in senders:
        s.connect(endpoint)
    n = 200
    for k in range(n):
        for i, s in enumerate(senders):
            s.send_multipart([b"%d" % i, b"%d" % k])
    last = {i: -1 for i in range(len(senders))}
    for _ in range(n * len(senders)):
        i, k = (int(f) for f in recv_frames(pull))
        assert k == last[i] + 1, f"sender {i}: got {k} after {last[i]}"
        last[i] = k
    assert all(v == n - 1 for v in last.values())

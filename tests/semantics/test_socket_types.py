"""Socket-type semantics: ROUTER identities and MANDATORY, REQ/REP state machines and options,
envelopes across hops, PUB/SUB and XPUB/XSUB subscriptions, PAIR exclusivity, IMMEDIATE,
MAXMSGSIZE.

Expectations are libzmq's (run with PUREZMQ_TEST_IMPL=zmq to check them against pyzmq).
"""

from __future__ import annotations

import errno
import time

import pytest
from zmq.utils.monitor import recv_monitor_message

from ._helpers import (
    DEADLINE_S,
    assert_silent,
    drain,
    free_tcp_port,
    make,
    recv,
    send_until_received,
)

pytestmark = pytest.mark.timeout(30)


def _tcp_bind(sock) -> str:
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return f"tcp://127.0.0.1:{port}"


def _wait_event(monitor, event: int, kick=None, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if kick is not None:
            kick.poll(0)
        if monitor.poll(20) and recv_monitor_message(monitor)["event"] == event:
            return
    raise AssertionError(f"monitor event {event} not seen within {timeout_s}s")


# ==================================================================================================
# ROUTER


def test_router_generated_routing_ids(zmq_impl, ctx, pyctx, pyzmq) -> None:
    router = make(ctx, zmq_impl.ROUTER)
    endpoint = _tcp_bind(router)
    ids = []
    dealers = []
    for i in range(3):
        dealer = make(pyctx, pyzmq.DEALER)
        dealer.connect(endpoint)
        dealers.append(dealer)
        dealer.send(b"hello %d" % i)
        rid, body = recv(router)
        assert body == b"hello %d" % i
        assert len(rid) == 5 and rid[:1] == b"\x00", rid
        ids.append(rid)
    assert len(set(ids)) == 3
    # Each id routes back to its own peer.
    for i, rid in enumerate(ids):
        router.send_multipart([rid, b"reply %d" % i])
    for i, dealer in enumerate(dealers):
        assert recv(dealer) == [b"reply %d" % i]


@pytest.mark.parametrize("impl_side", ["dealer", "router"])
def test_routing_id_set_by_dealer_is_seen_by_router(
    zmq_impl, ctx, pyctx, pyzmq, impl_side: str
) -> None:
    if impl_side == "dealer":
        router = make(pyctx, pyzmq.ROUTER)
        dealer = make(ctx, zmq_impl.DEALER, routing_id=b"my-dealer")
    else:
        router = make(ctx, zmq_impl.ROUTER)
        dealer = make(pyctx, pyzmq.DEALER, routing_id=b"my-dealer")
    assert dealer.routing_id == b"my-dealer"
    dealer.connect(_tcp_bind(router))
    dealer.send(b"hi")
    assert recv(router) == [b"my-dealer", b"hi"]
    router.send_multipart([b"my-dealer", b"back"])
    assert recv(dealer) == [b"back"]


def test_router_mandatory_unknown_peer_raises_ehostunreach(zmq_impl, ctx) -> None:
    router = make(ctx, zmq_impl.ROUTER, router_mandatory=1)
    router.bind("inproc://mandatory")
    with pytest.raises(zmq_impl.ZMQError) as info:
        router.send_multipart([b"nobody", b"x"])
    assert info.value.errno == zmq_impl.EHOSTUNREACH
    with pytest.raises(zmq_impl.ZMQError) as info:
        router.send_multipart([b"nobody", b"x"], zmq_impl.NOBLOCK)
    assert info.value.errno == zmq_impl.EHOSTUNREACH

    # A known peer still works after the failures.
    dealer = make(ctx, zmq_impl.DEALER, routing_id=b"known")
    dealer.connect("inproc://mandatory")
    dealer.send(b"hello")
    assert recv(router) == [b"known", b"hello"]
    router.send_multipart([b"known", b"ok"])
    assert recv(dealer) == [b"ok"]


def test_router_without_mandatory_drops_silently(zmq_impl, ctx, pyctx, pyzmq) -> None:
    router = make(ctx, zmq_impl.ROUTER)
    dealer = make(pyctx, pyzmq.DEALER, routing_id=b"known")
    dealer.connect(_tcp_bind(router))
    dealer.send(b"hello")
    assert recv(router) == [b"known", b"hello"]

    for i in range(10):
        router.send_multipart([b"unknown", b"dropped %d" % i])  # no error, no block
        router.send_multipart([b"unknown", b"dropped"], zmq_impl.NOBLOCK)
    router.send_multipart([b"known", b"delivered"])
    assert recv(dealer) == [b"delivered"]
    assert_silent(dealer, 100)


# ==================================================================================================
# REQ / REP


def test_req_state_machine(zmq_impl, ctx, pyctx, pyzmq) -> None:
    req = make(ctx, zmq_impl.REQ)
    with pytest.raises(zmq_impl.ZMQError) as info:
        req.recv()
    assert info.value.errno == zmq_impl.EFSM

    rep = make(pyctx, pyzmq.REP)
    req.connect(_tcp_bind(rep))
    req.send(b"one")
    with pytest.raises(zmq_impl.ZMQError) as info:
        req.send(b"two")
    assert info.value.errno == zmq_impl.EFSM

    assert recv(rep) == [b"one"]
    rep.send(b"reply one")
    assert recv(req) == [b"reply one"]
    with pytest.raises(zmq_impl.ZMQError) as info:
        req.recv()
    assert info.value.errno == zmq_impl.EFSM
    req.send(b"two")  # allowed again after the reply
    assert recv(rep) == [b"two"]


def test_rep_send_before_recv_is_efsm(zmq_impl, ctx) -> None:
    rep = make(ctx, zmq_impl.REP)
    with pytest.raises(zmq_impl.ZMQError) as info:
        rep.send(b"too early")
    assert info.value.errno == zmq_impl.EFSM


def test_req_relaxed_discards_reply_to_earlier_request(zmq_impl, ctx, pyctx, pyzmq) -> None:
    req = make(ctx, zmq_impl.REQ, req_relaxed=1)
    rep = make(pyctx, pyzmq.REP)
    req.connect(_tcp_bind(rep))

    req.send(b"first")
    assert recv(rep) == [b"first"]
    rep.send(b"reply to first")
    assert req.poll(DEADLINE_S * 1000), "reply to the first request never arrived"
    req.send(b"second")  # allowed by REQ_RELAXED, without reading the pending reply
    assert recv(rep) == [b"second"]
    rep.send(b"reply to second")
    assert recv(req) == [b"reply to second"]
    assert_silent(req, 100)


def test_req_correlate_against_rep_discards_late_reply(zmq_impl, ctx, pyctx, pyzmq) -> None:
    req = make(ctx, zmq_impl.REQ, req_relaxed=1, req_correlate=1)
    rep = make(pyctx, pyzmq.REP)
    req.connect(_tcp_bind(rep))

    req.send(b"first")
    assert recv(rep) == [b"first"]
    req.send(b"second")  # before the first is answered
    rep.send(b"reply to first")  # arrives after the second request: stale, to be discarded
    assert recv(rep) == [b"second"]
    rep.send(b"reply to second")
    assert recv(req) == [b"reply to second"]
    assert_silent(req, 100)


def test_req_correlate_envelope_seen_by_router(zmq_impl, ctx, pyctx, pyzmq) -> None:
    req = make(ctx, zmq_impl.REQ, req_relaxed=1, req_correlate=1, routing_id=b"req")
    router = make(pyctx, pyzmq.ROUTER)
    req.connect(_tcp_bind(router))

    req.send(b"first")
    rid, id1, delimiter, body = recv(router)
    assert (rid, delimiter, body) == (b"req", b"", b"first")
    assert len(id1) == 4

    req.send_multipart([b"second", b"part"])
    rid, id2, delimiter, *body = recv(router)
    assert (rid, delimiter, body) == (b"req", b"", [b"second", b"part"])
    assert len(id2) == 4 and id2 != id1

    router.send_multipart([b"req", id1, b"", b"stale"])  # reply to the first: discarded
    router.send_multipart([b"req", b"\xde\xad\xbe\xef", b"", b"bogus"])  # unknown id: discarded
    router.send_multipart([b"req", id2, b"", b"fresh"])
    assert recv(req) == [b"fresh"]
    assert_silent(req, 100)


@pytest.mark.parametrize("envelope", [[b""], [b"hop-2", b"hop-1", b""]], ids=["bare", "two_hops"])
def test_rep_replies_with_the_request_envelope(
    zmq_impl, ctx, pyctx, pyzmq, envelope: list[bytes]
) -> None:
    rep = make(ctx, zmq_impl.REP)
    dealer = make(pyctx, pyzmq.DEALER)
    dealer.connect(_tcp_bind(rep))
    dealer.send_multipart([*envelope, b"body"])
    assert recv(rep) == [b"body"]
    rep.send_multipart([b"reply", b"more"])
    assert recv(dealer) == [*envelope, b"reply", b"more"]


def test_req_round_robins_over_rep_peers(zmq_impl, ctx, pyctx, pyzmq) -> None:
    reps = [make(pyctx, pyzmq.REP) for _ in range(3)]
    req = make(ctx, zmq_impl.REQ)
    for rep in reps:
        req.connect(_tcp_bind(rep))

    order = []
    for i in range(9):
        req.send(b"req %d" % i)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            ready = [n for n, rep in enumerate(reps) if rep.poll(10)]
            if ready:
                break
            assert time.monotonic() < deadline, f"request {i} reached no REP"
        assert len(ready) == 1
        n = ready[0]
        assert recv(reps[n]) == [b"req %d" % i]
        reps[n].send(b"rep %d" % i)
        assert recv(req) == [b"rep %d" % i]
        order.append(n)
    assert sorted(order[:3]) == [0, 1, 2], order
    assert order == order[:3] * 3, f"not in turn: {order}"


@pytest.mark.parametrize("broker_lib", ["pyzmq", "impl"])
def test_multi_hop_envelopes_through_a_broker(zmq_impl, ctx, pyctx, pyzmq, broker_lib) -> None:
    """client REQ -> broker ROUTER/DEALER -> worker ROUTER, and the reply back."""
    if broker_lib == "pyzmq":
        edge_ctx, edge_lib, broker_ctx, broker_mod = ctx, zmq_impl, pyctx, pyzmq
    else:
        edge_ctx, edge_lib, broker_ctx, broker_mod = pyctx, pyzmq, ctx, zmq_impl

    frontend = make(broker_ctx, broker_mod.ROUTER)
    front_ep = _tcp_bind(frontend)
    worker = make(edge_ctx, edge_lib.ROUTER)
    back_ep = _tcp_bind(worker)
    backend = make(broker_ctx, broker_mod.DEALER, routing_id=b"broker")
    backend.connect(back_ep)
    clients = [
        make(edge_ctx, edge_lib.REQ, routing_id=b"client-a"),
        make(edge_ctx, edge_lib.REQ),  # generated id
    ]
    for client in clients:
        client.connect(front_ep)

    for n, client in enumerate(clients):
        client.send_multipart([b"hello", b"%d" % n])
        request = recv(frontend)
        client_id = request[0]
        assert request[1:] == [b"", b"hello", b"%d" % n]
        if n == 0:
            assert client_id == b"client-a"
        else:
            assert len(client_id) == 5 and client_id[:1] == b"\x00"
        backend.send_multipart(request)

        at_worker = recv(worker)
        assert at_worker == [b"broker", client_id, b"", b"hello", b"%d" % n]
        worker.send_multipart([b"broker", client_id, b"", b"world", b"%d" % n])

        reply = recv(backend)
        assert reply == [client_id, b"", b"world", b"%d" % n]
        frontend.send_multipart(reply)
        assert recv(client) == [b"world", b"%d" % n]


# ==================================================================================================
# PUB / SUB


def _sync_sub(pub, sub, topic: bytes) -> None:
    """Publish ``topic`` probes until ``sub`` gets one, then drain the rest."""
    send_until_received(pub.send, sub, topic)
    drain(sub, 100)


@pytest.fixture(params=["impl_pub", "impl_sub"])
def pub_sub(request, zmq_impl, ctx, pyctx, pyzmq):
    """A bound PUB and a connected SUB, one of them from the library under test."""
    if request.param == "impl_pub":
        pub, sub = make(ctx, zmq_impl.PUB), make(pyctx, pyzmq.SUB)
    else:
        pub, sub = make(pyctx, pyzmq.PUB), make(ctx, zmq_impl.SUB)
    sub.connect(_tcp_bind(pub))
    return pub, sub


def test_unsubscribe_stops_delivery(pub_sub) -> None:
    pub, sub = pub_sub
    sub.subscribe(b"A")
    sub.subscribe(b"B")
    _sync_sub(pub, sub, b"A-sync")
    _sync_sub(pub, sub, b"B-sync")

    sub.unsubscribe(b"A")
    # The SUB filters too, so nothing for A gets through even before the PUB learns of it.
    pub.send(b"A1")
    pub.send(b"B1")
    assert recv(sub) == [b"B1"]
    for i in range(5):
        pub.send(b"A-more %d" % i)
    pub.send(b"B2")
    assert recv(sub) == [b"B2"]
    assert_silent(sub, 100)


def test_empty_subscription_gets_everything(pub_sub) -> None:
    pub, sub = pub_sub
    sub.subscribe(b"")
    _sync_sub(pub, sub, b"sync")
    messages = [[b""], [b"anything"], [b"\x00\x01binary"], [b"multi", b"part"], [b"z" * 1000]]
    for message in messages:
        pub.send_multipart(message)
    assert [recv(sub) for _ in messages] == messages


def test_overlapping_subscriptions_deliver_once(pub_sub) -> None:
    pub, sub = pub_sub
    sub.subscribe(b"A")
    sub.subscribe(b"AB")
    _sync_sub(pub, sub, b"AB-sync")
    pub.send(b"ABC")
    pub.send(b"A-end")
    assert recv(sub) == [b"ABC"]
    assert recv(sub) == [b"A-end"]
    assert_silent(sub, 100)


def test_multipart_filtered_on_first_frame(pub_sub) -> None:
    pub, sub = pub_sub
    sub.subscribe(b"A")
    _sync_sub(pub, sub, b"A-sync")
    pub.send_multipart([b"B", b"A-in-second-frame", b"x"])
    pub.send_multipart([b"A1", b"x", b"y"])
    pub.send_multipart([b"Bxx", b"Ayy"])
    pub.send_multipart([b"A2", b""])
    assert recv(sub) == [b"A1", b"x", b"y"]
    assert recv(sub) == [b"A2", b""]
    assert_silent(sub, 100)


def _xpub_expect(xpub, expected: list[bytes]) -> None:
    got = [recv(xpub) for _ in expected]
    assert got == [[e] for e in expected]


@pytest.mark.parametrize("verbose", [0, 1])
def test_xpub_subscription_messages(zmq_impl, ctx, pyctx, pyzmq, verbose: int) -> None:
    xpub = make(ctx, zmq_impl.XPUB, xpub_verbose=verbose)
    endpoint = _tcp_bind(xpub)
    sub1, sub2 = make(pyctx, pyzmq.SUB), make(pyctx, pyzmq.SUB)
    sub1.connect(endpoint)
    sub2.connect(endpoint)

    sub1.subscribe(b"topic")
    _xpub_expect(xpub, [b"\x01topic"])
    sub2.subscribe(b"topic")
    sub2.subscribe(b"sub2-marker")  # same connection: arrives after sub2's "topic"
    if verbose:
        _xpub_expect(xpub, [b"\x01topic", b"\x01sub2-marker"])
    else:
        _xpub_expect(xpub, [b"\x01sub2-marker"])

    # Both subscribers get a publication once.
    xpub.send(b"topic data")
    assert recv(sub1) == [b"topic data"]
    assert recv(sub2) == [b"topic data"]

    sub1.unsubscribe(b"topic")  # sub2 still subscribed: no unsubscription upstream
    sub1.subscribe(b"sub1-marker")
    _xpub_expect(xpub, [b"\x01sub1-marker"])
    sub2.unsubscribe(b"topic")  # the last one
    _xpub_expect(xpub, [b"\x00topic"])
    assert_silent(xpub, 100)


def test_xpub_unsubscription_when_last_subscriber_disconnects(zmq_impl, ctx, pyctx, pyzmq) -> None:
    xpub = make(ctx, zmq_impl.XPUB)
    endpoint = _tcp_bind(xpub)
    subs = [make(pyctx, pyzmq.SUB) for _ in range(2)]
    for sub in subs:
        sub.connect(endpoint)
        sub.subscribe(b"topic")
    _xpub_expect(xpub, [b"\x01topic"])
    subs[1].subscribe(b"marker-1")
    subs[0].subscribe(b"marker-0")
    assert sorted(recv(xpub)[0] for _ in range(2)) == [b"\x01marker-0", b"\x01marker-1"]

    subs[0].close(linger=0)
    subs[1].close(linger=0)
    got = [recv(xpub)[0]]
    got += [m[0] for m in drain(xpub, 300)]
    # Each topic is cancelled once, when its last subscriber is gone.
    assert sorted(got) == [b"\x00marker-0", b"\x00marker-1", b"\x00topic"], got


@pytest.mark.parametrize("impl_side", ["xsub", "xpub"])
def test_xsub_sends_user_message_upstream(zmq_impl, ctx, pyctx, pyzmq, impl_side) -> None:
    if impl_side == "xsub":
        xpub, xsub = make(pyctx, pyzmq.XPUB), make(ctx, zmq_impl.XSUB)
    else:
        xpub, xsub = make(ctx, zmq_impl.XPUB), make(pyctx, pyzmq.XSUB)
    xsub.connect(_tcp_bind(xpub))
    xsub.send(b"\x01news")
    xsub.send(b"hello upstream")
    xsub.send_multipart([b"multi", b"part upstream"])
    assert recv(xpub) == [b"\x01news"]
    assert recv(xpub) == [b"hello upstream"]
    assert recv(xpub) == [b"multi", b"part upstream"]
    xpub.send(b"news flash")
    assert recv(xsub) == [b"news flash"]


# ==================================================================================================
# PAIR


def test_pair_second_peer_gets_nothing(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pair = make(ctx, zmq_impl.PAIR)
    endpoint = _tcp_bind(pair)
    first = make(pyctx, pyzmq.PAIR)
    first.connect(endpoint)
    first.send(b"first here")
    assert recv(pair) == [b"first here"]

    second = make(pyctx, pyzmq.PAIR)
    monitor = second.get_monitor_socket(pyzmq.EVENT_CONNECTED)
    second.connect(endpoint)
    _wait_event(monitor, pyzmq.EVENT_CONNECTED, kick=pair)
    second.send(b"second here", pyzmq.NOBLOCK)

    for i in range(5):
        pair.send(b"to first %d" % i)
    assert [recv(first) for _ in range(5)] == [[b"to first %d" % i] for i in range(5)]
    first.send(b"first again")
    assert recv(pair) == [b"first again"]
    assert_silent(second)
    assert_silent(pair, 100)
    monitor.close()


# ==================================================================================================
# IMMEDIATE


def test_immediate_push_without_listener_does_not_queue(zmq_impl, ctx, pyctx, pyzmq) -> None:
    port = free_tcp_port()
    push = make(ctx, zmq_impl.PUSH, immediate=1, reconnect_ivl=20)
    push.connect(f"tcp://127.0.0.1:{port}")
    with pytest.raises(zmq_impl.Again):
        push.send(b"nowhere", zmq_impl.NOBLOCK)

    pull = make(pyctx, pyzmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    # Once connected, sending works.
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            push.send(b"now", zmq_impl.NOBLOCK)
            break
        except zmq_impl.Again:
            assert time.monotonic() < deadline, "IMMEDIATE PUSH never became writable"
            push.poll(20, zmq_impl.POLLOUT)
    assert recv(pull) == [b"now"]  # the refused message was not queued
    assert_silent(pull, 100)


def test_non_immediate_push_queues_until_listener(zmq_impl, ctx, pyctx, pyzmq) -> None:
    port = free_tcp_port()
    push = make(ctx, zmq_impl.PUSH, immediate=0, reconnect_ivl=20)
    push.connect(f"tcp://127.0.0.1:{port}")
    for i in range(3):
        push.send(b"queued %d" % i, zmq_impl.NOBLOCK)

    pull = make(pyctx, pyzmq.PULL)
    pull.bind(f"tcp://127.0.0.1:{port}")
    assert [recv(pull) for _ in range(3)] == [[b"queued %d" % i] for i in range(3)]


# ==================================================================================================
# MAXMSGSIZE


def test_maxmsgsize(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(ctx, zmq_impl.PULL, maxmsgsize=100)
    assert pull.maxmsgsize == 100
    endpoint = _tcp_bind(pull)
    push = make(pyctx, pyzmq.PUSH, reconnect_ivl=20)
    monitor = push.get_monitor_socket(pyzmq.EVENT_CONNECTED | pyzmq.EVENT_DISCONNECTED)
    push.connect(endpoint)

    push.send(b"x" * 100)  # exactly MAXMSGSIZE
    assert recv(pull) == [b"x" * 100]
    _wait_event(monitor, pyzmq.EVENT_CONNECTED)

    push.send(b"y" * 101)  # one byte too many: dropped along with the connection
    _wait_event(monitor, pyzmq.EVENT_DISCONNECTED, kick=pull)

    # The peer reconnects; small messages get through again, the big one never shows up.
    got = send_until_received(push.send, pull, b"small", step_ms=50)
    assert got == [b"small"]
    rest = drain(pull)
    assert all(m == [b"small"] for m in rest), [len(m[0]) for m in rest]
    monitor.close()


# ==================================================================================================
# option applicability


@pytest.mark.parametrize("type_name", ["PUB", "PUSH", "PULL", "DEALER", "ROUTER", "REQ", "PAIR"])
def test_subscribe_on_non_sub_socket_is_einval(zmq_impl, ctx, type_name: str) -> None:
    sock = make(ctx, getattr(zmq_impl, type_name))
    with pytest.raises(zmq_impl.ZMQError) as info:
        sock.setsockopt(zmq_impl.SUBSCRIBE, b"topic")
    assert info.value.errno == errno.EINVAL
    with pytest.raises(zmq_impl.ZMQError) as info:
        sock.setsockopt(zmq_impl.UNSUBSCRIBE, b"topic")
    assert info.value.errno == errno.EINVAL

"""Unit tests of the routing layer: pipes, strategies, subscriptions, per-type routing classes.

Routing objects are driven directly, as the socket's thread would: ``attach``/``readable`` for
peer events, ``send``/``recv`` for traffic. A peer is two plain Pipes; the test plays the I/O side
by writing to ``peer.inbound`` and reading ``peer.outbound``.
"""

from __future__ import annotations

import errno
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purezmq.constants import Errno
from purezmq.error import ZMQError
from purezmq.routing import sockets
from purezmq.routing.dgram import MAX_BODY, Dgram, peer_address
from purezmq.routing.pipe import Peer, Pipe, low_water_mark
from purezmq.routing.sockets import HICCUP, RoutingOptions
from purezmq.routing.strategies import FairQueue, LoadBalancer
from purezmq.routing.subscriptions import SubscriberIndex, Subscriptions

# -- helpers -------------------------------------------------------------------------------------


class Listener:
    def __init__(self) -> None:
        self.readable = 0
        self.writable = 0

    def on_readable(self, pipe: Pipe) -> None:
        self.readable += 1

    def on_writable(self, pipe: Pipe) -> None:
        self.writable += 1


def make_peer(in_hwm: int = 0, out_hwm: int = 0, identity: bytes | None = None) -> Peer:
    peer = Peer(Pipe(in_hwm), Pipe(out_hwm), endpoint="test")
    if identity is not None:
        peer.metadata = {"Identity": identity}
    return peer


def drain(pipe: Pipe) -> list[list[bytes]]:
    out = []
    while (message := pipe.read()) is not None:
        out.append(message)
    return out


def deliver(routing: sockets.Routing, peer: Peer, *messages: list[bytes]) -> None:
    """Play the I/O side: messages arrive from the peer, the socket is told it can read."""
    for message in messages:
        assert peer.inbound.write(message)
    routing.readable(peer)


def recv_all(routing: sockets.Routing) -> list[list[bytes]]:
    out = []
    while (found := routing.recv()) is not None:
        out.append(found[0])
    return out


# -- Pipe ----------------------------------------------------------------------------------------


def test_pipe_hwm_blocks_writes():
    pipe = Pipe(3)
    assert all(pipe.write([b"%d" % i]) for i in range(3))
    assert pipe.writable() is False
    assert pipe.write([b"x"]) is False
    assert len(pipe) == 3
    assert pipe.read() == [b"0"]
    assert pipe.writable() is True
    assert pipe.write([b"3"]) is True
    assert drain(pipe) == [[b"1"], [b"2"], [b"3"]]


def test_pipe_hwm_zero_is_unlimited():
    pipe = Pipe(0)
    assert all(pipe.write([b"m"]) for _ in range(20_000))
    assert pipe.writable()
    assert len(pipe) == 20_000


def test_pipe_set_hwm():
    pipe = Pipe(1)
    assert pipe.write([b"a"]) and not pipe.write([b"b"])
    pipe.set_hwm(2)
    assert pipe.write([b"b"]) and not pipe.write([b"c"])


def test_pipe_reader_woken_on_empty_to_non_empty_after_finding_it_empty():
    reader = Listener()
    pipe = Pipe(0, reader=reader)
    pipe.write([b"1"])  # a new pipe counts as found empty
    assert reader.readable == 1
    pipe.write([b"2"])
    assert reader.readable == 1
    assert pipe.read() == [b"1"]
    assert pipe.read() == [b"2"]
    # Drained but the reader has not yet *found* it empty: no wake-up needed.
    pipe.write([b"3"])
    assert reader.readable == 1
    assert pipe.read() == [b"3"]
    assert pipe.read() is None  # now the reader sleeps
    assert reader.readable == 1
    pipe.write([b"4"])
    assert reader.readable == 2
    pipe.write([b"5"])
    assert reader.readable == 2


def test_pipe_reader_not_woken_by_refused_write():
    reader = Listener()
    pipe = Pipe(1, reader=reader)
    pipe.write([b"1"])
    assert pipe.read() == [b"1"]
    assert pipe.read() is None
    pipe.write([b"2"])
    assert reader.readable == 2
    assert pipe.write([b"3"]) is False
    assert reader.readable == 2


def test_pipe_peek_does_not_change_sleep():
    reader = Listener()
    pipe = Pipe(0, reader=reader)
    assert pipe.peek() is False
    pipe.write([b"1"])
    assert pipe.peek() is True
    assert reader.readable == 1


@pytest.mark.parametrize(
    "hwm,lwm",
    [(0, 0), (1, 1), (2, 1), (4, 2), (5, 3), (1000, 500), (2048, 1024), (2049, 1025), (5000, 3976)],
)
def test_low_water_mark(hwm, lwm):
    assert low_water_mark(hwm) == lwm


def test_pipe_writer_woken_at_low_water_mark():
    writer = Listener()
    pipe = Pipe(4)
    pipe.writer = writer
    for i in range(4):
        assert pipe.write([b"%d" % i])
    assert pipe.write([b"x"]) is False  # the writer is now blocked
    lwm = low_water_mark(4)
    assert lwm == 2
    assert pipe.read() == [b"0"]  # 3 left: above the low-water mark
    assert writer.writable == 0
    assert pipe.read() == [b"1"]  # 2 left: at the low-water mark
    assert writer.writable == 1
    assert pipe.read() == [b"2"]
    assert pipe.read() == [b"3"]
    assert writer.writable == 1


def test_pipe_writer_not_woken_if_never_blocked():
    writer = Listener()
    pipe = Pipe(4)
    pipe.writer = writer
    for i in range(4):
        pipe.write([b"%d" % i])
    drain(pipe)
    assert writer.writable == 0


def test_pipe_writable_check_marks_writer_blocked():
    writer = Listener()
    pipe = Pipe(2)
    pipe.writer = writer
    pipe.write([b"a"])
    pipe.write([b"b"])
    assert pipe.writable() is False
    pipe.read()  # 1 left == lwm(2)
    assert writer.writable == 1


def test_pipe_writer_woken_by_read_many():
    writer = Listener()
    pipe = Pipe(10)
    pipe.writer = writer
    assert pipe.write_many([[b"%d" % i] for i in range(12)]) == 10
    assert pipe.read_many(3) == [[b"0"], [b"1"], [b"2"]]  # 7 left > lwm 5
    assert writer.writable == 0
    assert pipe.read_many(2) == [[b"3"], [b"4"]]  # 5 left
    assert writer.writable == 1


def test_pipe_close_wakes_sleeping_reader():
    reader = Listener()
    pipe = Pipe(0, reader=reader)
    assert pipe.read() is None
    pipe.close()
    assert reader.readable == 1
    assert pipe.closed is True
    assert pipe.read() is None


def test_pipe_close_leaves_remaining_messages():
    reader = Listener()
    pipe = Pipe(0, reader=reader)
    pipe.write([b"1"])
    pipe.write([b"2"])
    pipe.close()
    assert pipe.closed is True
    assert reader.readable >= 1
    assert pipe.read() == [b"1"]
    assert pipe.read() == [b"2"]
    assert pipe.read() is None
    assert pipe.closed is True


def test_pipe_close_after_drain_wakes_reader_again():
    reader = Listener()
    pipe = Pipe(0, reader=reader)
    pipe.write([b"1"])
    assert drain(pipe) == [[b"1"]]
    before = reader.readable
    pipe.close()
    assert reader.readable == before + 1


def test_pipe_write_many_and_read_many():
    reader = Listener()
    pipe = Pipe(5, reader=reader)
    assert pipe.write_many([[b"a"], [b"b"], [b"c"]]) == 3
    assert reader.readable == 1
    assert pipe.write_many([[b"d"], [b"e"], [b"f"], [b"g"]]) == 2
    assert pipe.write_many([[b"h"]]) == 0
    assert reader.readable == 1
    assert len(pipe) == 5
    assert pipe.read_many(2) == [[b"a"], [b"b"]]
    assert pipe.read_many(10) == [[b"c"], [b"d"], [b"e"]]
    assert pipe.read_many(10) == []  # found empty: the reader sleeps
    assert pipe.write_many([[b"x"], [b"y"]]) == 2
    assert reader.readable == 2
    assert pipe.read_many(1) == [[b"x"]]


def test_pipe_write_many_unlimited():
    pipe = Pipe(0)
    assert pipe.write_many([[b"m"]] * 5000) == 5000
    assert pipe.write_many([]) == 0


def test_pipe_drain():
    pipe = Pipe(0)
    pipe.write_many([[b"1"], [b"2"]])
    assert pipe.drain() == [[b"1"], [b"2"]]
    assert len(pipe) == 0


def test_peer_links_pipes():
    peer = make_peer()
    assert peer.inbound.reader_peer is peer
    assert peer.outbound.writer_peer is peer


# -- FairQueue / LoadBalancer --------------------------------------------------------------------


def _three_peers_queued() -> tuple[FairQueue, tuple[Peer, Peer, Peer]]:
    """Peers a, b, c with 3, 1 and 2 messages waiting, active in that order."""
    peers = make_peer(), make_peer(), make_peer()
    for name, peer, count in zip((b"a", b"b", b"c"), peers, (3, 1, 2), strict=True):
        for i in range(count):
            peer.inbound.write([name + b"%d" % i])
    fq = FairQueue()
    for peer in peers:
        fq.activate(peer)
    return fq, peers


def test_fair_queue_round_robin():
    fq, (a, b, c) = _three_peers_queued()
    got = []
    while (found := fq.recv()) is not None:
        got.append(found[0][0])
    assert got == [b"a0", b"b0", b"c0", b"a1", b"c1", b"a2"]


def test_fair_queue_returns_peer_and_reactivates():
    a = make_peer()
    fq = FairQueue()
    fq.activate(a)
    fq.activate(a)  # idempotent
    a.inbound.write([b"1"])
    assert fq.recv() == ([b"1"], a)
    assert fq.recv() is None  # a dropped out: empty
    a.inbound.write([b"2"])
    assert fq.recv() is None  # not active until the socket re-activates it
    fq.activate(a)
    assert fq.recv() == ([b"2"], a)


def test_fair_queue_recv_many_batches_only_a_lone_peer():
    a, b = make_peer(in_hwm=100), make_peer()
    for i in range(5):
        a.inbound.write([b"a%d" % i])
    fq = FairQueue()
    fq.activate(a)
    assert fq.recv_many(3) == ([[b"a0"], [b"a1"], [b"a2"]], a)
    b.inbound.write([b"b0"])
    fq.activate(b)
    # Two peers with messages: one each in turn, as recv would.
    assert fq.recv_many(3) == ([[b"a3"]], a)
    assert fq.recv_many(3) == ([[b"b0"]], b)
    assert fq.recv_many(3) == ([[b"a4"]], a)
    assert fq.recv_many(3) is None


def test_fair_queue_recv_round_is_what_recv_gives_one_by_one():
    """A round at once: one message from each peer in turn, emptied peers leaving the queue;
    a lone peer's up to the limit."""
    fq, (a, b, c) = _three_peers_queued()
    rounds = []
    while taken := fq.recv_round(2):
        rounds.append([(message, peer) for message, peer in taken])
    assert rounds == [
        [([b"a0"], a), ([b"b0"], b), ([b"c0"], c)],
        [([b"a1"], a), ([b"c1"], c)],  # b had no more: it left in that round.
        [([b"a2"], a)],  # a alone now.
    ]
    for i in range(5):
        a.inbound.write([b"x%d" % i])
    fq.activate(a)
    assert fq.recv_round(3) == [([b"x0"], a), ([b"x1"], a), ([b"x2"], a)]


def test_router_reads_a_round_and_hands_it_out_in_order():
    """ROUTER reads a fair-queue round at once: the order stays one message per peer in
    turn, each with its id, and a peer that joins during the round (its connect notice
    first) comes after it."""
    router = routing(sockets.Router, router_notify=1)
    a, b = make_peer(identity=b"A"), make_peer(identity=b"B")
    router.attach(a)
    router.attach(b)
    assert router.recv() == ([b"A", b""], a)
    assert router.recv() == ([b"B", b""], b)
    deliver(router, a, [b"a0"], [b"a1", b"more"])
    deliver(router, b, [b"b0"])
    assert router.recv() == ([b"A", b"a0"], a)
    assert router.has_in()
    c = make_peer(identity=b"C")
    router.attach(c)
    deliver(router, c, [b"c0"])
    assert recv_all(router) == [
        [b"B", b"b0"],
        [b"C", b""],
        [b"A", b"a1", b"more"],
        [b"C", b"c0"],
    ]
    assert not router.has_in()


def test_ready_batch_keeps_round_robin_with_several_peers():
    routing = sockets.Pull(RoutingOptions())
    a, b = make_peer(), make_peer()
    routing.attach(a)
    routing.attach(b)
    deliver(routing, a, [b"a0"], [b"a1"], [b"a2"])
    deliver(routing, b, [b"b0"], [b"b1"])
    assert recv_all(routing) == [[b"a0"], [b"b0"], [b"a1"], [b"b1"], [b"a2"]]


def test_ready_batch_counts_against_the_hwm_until_handed_out():
    routing = sockets.Pull(RoutingOptions())
    writer = Listener()
    a = make_peer(in_hwm=4)
    a.inbound.writer = writer
    routing.attach(a)
    deliver(routing, a, *([b"%d" % i] for i in range(4)))
    assert not a.inbound.write([b"full"])  # At the high-water mark: the writer waits.
    assert routing.recv() == ([b"0"], a)  # The other three now wait in the ready batch...
    assert routing.has_in()
    assert not a.inbound.write([b"full"])  # ...and still count: the writer is not let ahead.
    assert a.inbound.room() == 0
    assert writer.writable == 0
    assert recv_all(routing) == [[b"1"], [b"2"], [b"3"]]
    assert writer.writable == 1  # All handed out: the writer is woken.
    assert a.inbound.room() == 4
    assert not routing.has_in()


def test_pipe_read_releases_a_batch():
    pipe = Pipe(2)
    pipe.write([b"1"])
    pipe.write([b"2"])
    assert pipe.take_batch(8) == [[b"1"], [b"2"]]
    assert not pipe.writable()
    assert pipe.read() is None  # A plain read (has_in's prefetch) ends the batch too.
    assert pipe.room() == 2


def test_a_read_after_a_batch_wakes_a_blocked_writer_even_when_empty():
    pipe = Pipe(2)
    writer = Listener()
    pipe.writer = writer
    assert pipe.write([b"1"]) and pipe.write([b"2"])
    assert not pipe.writable()  # The writer now waits to be woken.
    assert pipe.take_batch(8) == [[b"1"], [b"2"]]
    assert writer.writable == 0  # The batch still counts against the mark.
    assert pipe.read() is None  # has_in's prefetch, once the batch was handed out.
    assert writer.writable == 1
    assert pipe.writable()


def test_sub_unsubscribe_drops_batched_messages_of_the_topic():
    routing = sockets.Sub(RoutingOptions())
    a = make_peer()
    routing.attach(a)
    routing.subscribe(b"x")
    routing.subscribe(b"y")
    deliver(routing, a, [b"x1"], [b"y1"], [b"z1"], [b"x2"], [b"y2"])
    assert routing.recv() == ([b"x1"], a)  # The rest now waits in the ready batch.
    routing.unsubscribe(b"y")
    assert recv_all(routing) == [[b"x2"]]


def test_fair_queue_remove():
    a, b = make_peer(), make_peer()
    fq = FairQueue()
    fq.activate(a)
    fq.activate(b)
    a.inbound.write([b"a"])
    b.inbound.write([b"b"])
    fq.remove(a)
    fq.remove(a)
    assert fq.recv() == ([b"b"], b)
    assert fq.recv() is None


def test_load_balancer_round_robin():
    peers = [make_peer() for _ in range(3)]
    lb = LoadBalancer()
    for peer in peers:
        lb.activate(peer)
    chosen = [lb.send([b"%d" % i]) for i in range(6)]
    assert chosen == peers + peers
    assert [len(p.outbound) for p in peers] == [2, 2, 2]


def test_load_balancer_skips_full_peers_and_reactivates():
    a, b = make_peer(out_hwm=1), make_peer(out_hwm=0)
    lb = LoadBalancer()
    lb.activate(a)
    lb.activate(b)
    assert lb.send([b"1"]) is a
    assert lb.send([b"2"]) is b
    assert lb.send([b"3"]) is b  # a is full: skipped
    assert lb.send([b"4"]) is b
    assert drain(a.outbound) == [[b"1"]]
    lb.activate(a)  # the socket's writable() upcall
    sent = {lb.send([b"5"]), lb.send([b"6"])}
    assert sent == {a, b}


def test_load_balancer_all_full():
    a, b = make_peer(out_hwm=1), make_peer(out_hwm=1)
    lb = LoadBalancer()
    lb.activate(a)
    lb.activate(b)
    assert lb.send([b"1"]) is a
    assert lb.send([b"2"]) is b
    assert lb.can_send() is False
    assert lb.send([b"3"]) is None
    assert not lb
    a.outbound.read()
    lb.activate(a)
    assert lb.can_send() is True
    assert lb.send([b"4"]) is a


def test_load_balancer_ignores_detached_and_removed():
    a, b = make_peer(), make_peer()
    a.detached = True
    lb = LoadBalancer()
    lb.activate(a)
    assert lb.send([b"x"]) is None
    lb.activate(b)
    lb.remove(b)
    assert lb.send([b"x"]) is None


# -- Subscriptions -------------------------------------------------------------------------------


def test_subscriptions_counted():
    subs = Subscriptions()
    assert subs.add(b"A") is True
    assert subs.add(b"A") is False
    assert subs.remove(b"A") is False
    assert subs.matches(b"A1")
    assert subs.remove(b"A") is True
    assert not subs.matches(b"A1")
    assert subs.remove(b"A") is False  # unknown: ignored


def test_subscriptions_prefix_matching():
    subs = Subscriptions()
    subs.add(b"ab")
    subs.add(b"xyz")
    assert subs.matches(b"ab")
    assert subs.matches(b"abc")
    assert subs.matches(b"xyz\x00")
    assert not subs.matches(b"a")
    assert not subs.matches(b"xab")
    assert not subs.matches(b"xy")
    assert not subs.matches(b"")
    assert sorted(subs) == [b"ab", b"xyz"]


def test_subscriptions_empty_topic_matches_all():
    subs = Subscriptions()
    assert not subs.matches(b"anything")
    subs.add(b"")
    for data in (b"", b"a", b"\x00\x01", b"x" * 1000):
        assert subs.matches(data)
    subs.remove(b"")
    assert not subs.matches(b"a")


def test_subscriptions_remove_keeps_other_lengths():
    subs = Subscriptions()
    subs.add(b"a")
    subs.add(b"bb")
    subs.add(b"cc")
    subs.remove(b"bb")
    assert subs.matches(b"cc1")
    assert subs.matches(b"a1")
    assert not subs.matches(b"bb1")


@given(
    topics=st.lists(st.binary(max_size=3), max_size=40),
    unsubscribed=st.lists(st.binary(max_size=3), max_size=10),
    bodies=st.lists(st.binary(max_size=5), max_size=30),
)
def test_subscriptions_wanted_keeps_what_matches_would(topics, unsubscribed, bodies):
    """A batch filtered at once (bytes.startswith over few topics, the length index over
    many, nothing looked at when subscribed to everything) keeps exactly the messages
    ``matches`` keeps, whether a message is a body alone or a list of frames."""
    subs = Subscriptions()
    for topic in topics:
        subs.add(topic)
    for topic in unsubscribed:
        subs.remove(topic)
    messages: list[bytes | list[bytes]] = []
    for i, body in enumerate(bodies):
        messages.append(body if i % 2 else [body, b"more"])
    expected = [m for m in messages if subs.matches(m if isinstance(m, bytes) else m[0])]
    assert subs.wanted(messages) == expected


def test_subscriptions_wanted_with_many_topics_and_with_everything():
    subs = Subscriptions()
    for i in range(0, 80, 2):  # Forty topics: past the few that bytes.startswith takes.
        subs.add(bytes([i]))
    messages: list[bytes | list[bytes]] = [bytes([i, 7]) for i in range(80)] + [[b"\x02", b"x"]]
    assert subs.wanted(messages) == [bytes([i, 7]) for i in range(0, 80, 2)] + [[b"\x02", b"x"]]
    subs.add(b"")
    assert subs.wanted(messages) is messages  # Everything wanted: the batch as it is.


def test_subscriber_index_each_peer_once():
    p1, p2, p3 = make_peer(), make_peer(), make_peer()
    index = SubscriberIndex()
    index.add(b"", p1)
    index.add(b"a", p1)
    index.add(b"ab", p1)
    index.add(b"ab", p2)
    index.add(b"b", p3)
    assert index.match(b"abc") == {p1, p2}
    assert index.match(b"a") == {p1}
    assert index.match(b"b") == {p1, p3}
    assert index.match(b"") == {p1}


def test_subscriber_index_first_and_last():
    p1, p2 = make_peer(), make_peer()
    index = SubscriberIndex()
    assert index.add(b"t", p1) is True
    assert index.add(b"t", p2) is False
    assert index.add(b"t", p1) is False  # a peer counts once per topic
    assert index.remove(b"t", p1) is False
    assert index.remove(b"t", p1) is False  # no longer there
    assert index.remove(b"t", p2) is True
    assert index.match(b"t") == set()
    assert index.remove(b"t", p2) is False


def test_subscriber_index_remove_peer():
    p1, p2 = make_peer(), make_peer()
    index = SubscriberIndex()
    index.add(b"a", p1)
    index.add(b"b", p1)
    index.add(b"b", p2)
    assert index.remove_peer(p1) == [b"a"]
    assert index.match(b"a") == set()
    assert index.match(b"b") == {p2}


# -- socket types --------------------------------------------------------------------------------


def routing(cls: type[sockets.Routing], **options) -> sockets.Routing:
    opts = RoutingOptions()
    for name, value in options.items():
        setattr(opts, name, value)
    return cls(opts)


def test_routing_by_type_covers_all():
    assert set(sockets.ROUTING_BY_TYPE) == {
        "DGRAM",
        "PAIR",
        "PUB",
        "SUB",
        "REQ",
        "REP",
        "DEALER",
        "ROUTER",
        "PULL",
        "PUSH",
        "XPUB",
        "XSUB",
        "STREAM",
        # The thread-safe draft types (routing/draft.py).
        "SERVER",
        "CLIENT",
        "RADIO",
        "DISH",
        "SCATTER",
        "GATHER",
        "PEER",
        "CHANNEL",
    }


def test_req_envelope_and_reply():
    req = routing(sockets.Req)
    peer = make_peer()
    req.attach(peer)
    assert req.has_out()
    assert req.send([b"hello", b"there"]) is True
    assert drain(peer.outbound) == [[b"", b"hello", b"there"]]
    assert not req.has_out()
    deliver(req, peer, [b"", b"world"])
    assert req.recv() == ([b"world"], peer)
    assert req.has_out()


def test_req_efsm():
    req = routing(sockets.Req)
    peer = make_peer()
    req.attach(peer)
    with pytest.raises(ZMQError) as info:
        req.recv()
    assert info.value.errno == Errno.EFSM
    req.send([b"1"])
    with pytest.raises(ZMQError) as info:
        req.send([b"2"])
    assert info.value.errno == Errno.EFSM
    with pytest.raises(ZMQError):
        req.check_send_state()


def test_req_drops_bad_replies():
    req = routing(sockets.Req)
    a, b = make_peer(), make_peer()
    req.attach(a)
    req.attach(b)
    req.send([b"q"])
    target = a if a.outbound.peek() else b
    other = b if target is a else a
    deliver(req, other, [b"", b"wrong peer"])
    deliver(req, target, [b"no delimiter"], [b"x", b"bad delimiter"], [b""], [b"", b"ok"])
    assert req.recv() == ([b"ok"], target)
    assert not req.has_in()


def test_req_without_peers_cannot_send():
    req = routing(sockets.Req)
    assert req.send([b"q"]) is False
    req.check_send_state()  # still allowed to try again


def test_req_relaxed_and_correlate():
    req = routing(sockets.Req, req_relaxed=True, req_correlate=True)
    peer = make_peer()
    req.attach(peer)
    req.send([b"first"])
    req.send([b"second"])  # relaxed: no EFSM
    (id1, d1, _), (id2, d2, body) = drain(peer.outbound)
    assert d1 == d2 == b"" and len(id1) == 4 and id1 != id2 and body == b"second"
    deliver(req, peer, [id1, b"", b"stale"], [id2, b"", b"fresh"])
    assert req.recv() == ([b"fresh"], peer)


def test_rep_envelope_round_trip():
    rep = routing(sockets.Rep)
    peer = make_peer()
    rep.attach(peer)
    deliver(rep, peer, [b"hop2", b"hop1", b"", b"request", b"part2"])
    assert rep.recv() == ([b"request", b"part2"], peer)
    assert rep.has_out()
    assert rep.send([b"reply"]) is True
    assert drain(peer.outbound) == [[b"hop2", b"hop1", b"", b"reply"]]
    assert not rep.has_out()


def test_rep_efsm():
    rep = routing(sockets.Rep)
    peer = make_peer()
    rep.attach(peer)
    with pytest.raises(ZMQError) as info:
        rep.send([b"x"])
    assert info.value.errno == Errno.EFSM
    deliver(rep, peer, [b"", b"a"], [b"", b"b"])
    assert rep.recv() == ([b"a"], peer)
    with pytest.raises(ZMQError) as info:
        rep.recv()
    assert info.value.errno == Errno.EFSM
    rep.send([b"A"])
    assert rep.recv() == ([b"b"], peer)


def test_rep_drops_requests_without_delimiter():
    rep = routing(sockets.Rep)
    peer = make_peer()
    rep.attach(peer)
    deliver(rep, peer, [b"no", b"delimiter"], [b"", b"good"])
    assert rep.recv() == ([b"good"], peer)


def test_rep_fair_queues_and_replies_to_each():
    rep = routing(sockets.Rep)
    a, b = make_peer(), make_peer()
    rep.attach(a)
    rep.attach(b)
    deliver(rep, a, [b"", b"a1"], [b"", b"a2"])
    deliver(rep, b, [b"", b"b1"])
    order = []
    while (found := rep.recv()) is not None:
        message, peer = found
        order.append(message[0])
        rep.send([message[0].upper()])
    assert order == [b"a1", b"b1", b"a2"]
    assert drain(a.outbound) == [[b"", b"A1"], [b"", b"A2"]]
    assert drain(b.outbound) == [[b"", b"B1"]]


def test_router_generated_ids():
    router = routing(sockets.Router)
    a, b = make_peer(), make_peer()
    router.attach(a)
    router.attach(b)
    for peer in (a, b):
        assert len(peer.routing_id) == 5 and peer.routing_id[:1] == b"\x00"
    assert a.routing_id != b.routing_id
    assert router.peers == {a.routing_id: a, b.routing_id: b}


def test_router_uses_peer_identity():
    router = routing(sockets.Router)
    alice = make_peer(identity=b"alice")
    router.attach(alice)
    assert alice.routing_id == b"alice"
    # A second "alice" is not heard (libzmq keeps its connection, reads nothing from it).
    impostor = make_peer(identity=b"alice")
    router.attach(impostor)
    deliver(router, impostor, [b"from the impostor"])
    deliver(router, alice, [b"from alice"])
    assert recv_all(router) == [[b"alice", b"from alice"]]
    assert router.peers[b"alice"] is alice


def test_router_handover_takes_the_id_over():
    router = routing(sockets.Router)
    router.options.router_handover = True
    first, second = make_peer(identity=b"x"), make_peer(identity=b"x")
    router.attach(first)
    router.attach(second)
    assert router.peers[b"x"] is second
    deliver(router, first, [b"old"])
    deliver(router, second, [b"new"])
    assert recv_all(router) == [[b"x", b"new"]]
    assert router.send([b"x", b"reply"]) is True
    assert drain(second.outbound) == [[b"reply"]]
    assert drain(first.outbound) == []


def test_router_notify_and_disconnect_msg():
    router = routing(sockets.Router)
    router.options.router_notify = 3
    router.options.disconnect_msg = b"bye"
    peer = make_peer(identity=b"p")
    router.attach(peer)
    deliver(router, peer, [b"hello"])
    router.detach(peer)
    assert recv_all(router) == [[b"p", b""], [b"p", b"hello"], [b"p", b""], [b"p", b"bye"]]


def test_router_prepends_and_strips_id():
    router = routing(sockets.Router)
    a, b = make_peer(), make_peer(identity=b"B")
    router.attach(a)
    router.attach(b)
    deliver(router, a, [b"", b"from a"])
    deliver(router, b, [b"from b"])
    got = recv_all(router)
    assert got == [[a.routing_id, b"", b"from a"], [b"B", b"from b"]]
    assert router.send([b"B", b"x", b"y"]) is True
    assert router.send([a.routing_id, b"z"]) is True
    assert drain(b.outbound) == [[b"x", b"y"]]
    assert drain(a.outbound) == [[b"z"]]


def test_router_unknown_id_dropped():
    router = routing(sockets.Router)
    peer = make_peer(identity=b"p")
    router.attach(peer)
    assert router.send([b"nobody", b"x"]) is True
    assert not peer.outbound.peek()


def test_router_mandatory_ehostunreach():
    router = routing(sockets.Router, router_mandatory=True)
    peer = make_peer(identity=b"p", out_hwm=1)
    router.attach(peer)
    with pytest.raises(ZMQError) as info:
        router.send([b"nobody", b"x"])
    assert info.value.errno == errno.EHOSTUNREACH
    assert router.send([b"p", b"1"]) is True
    assert router.send([b"p", b"2"]) is False  # full: must block rather than drop
    router.detach(peer)
    with pytest.raises(ZMQError) as info:
        router.send([b"p", b"3"])
    assert info.value.errno == errno.EHOSTUNREACH


def test_router_full_peer_drops_without_mandatory():
    router = routing(sockets.Router)
    peer = make_peer(identity=b"p", out_hwm=1)
    router.attach(peer)
    assert router.send([b"p", b"1"]) is True
    assert router.send([b"p", b"2"]) is True
    assert drain(peer.outbound) == [[b"1"]]


def test_router_detach_frees_identity():
    router = routing(sockets.Router)
    first = make_peer(identity=b"x")
    router.attach(first)
    router.detach(first)
    again = make_peer(identity=b"x")
    router.attach(again)
    assert router.peers[b"x"] is again


def _subscribe(pub: sockets.Routing, peer: Peer, *topics: bytes, cancel: bool = False) -> None:
    deliver(pub, peer, *[[(b"\x00" if cancel else b"\x01") + t] for t in topics])


def test_pub_filters_by_subscription():
    pub = routing(sockets.Pub)
    a, b = make_peer(), make_peer()
    pub.attach(a)
    pub.attach(b)
    _subscribe(pub, a, b"A")
    _subscribe(pub, b, b"B", b"")
    for message in ([b"A1"], [b"B1", b"more"], [b"C1"]):
        assert pub.send(message) is True
    assert drain(a.outbound) == [[b"A1"]]
    assert drain(b.outbound) == [[b"A1"], [b"B1", b"more"], [b"C1"]]


def test_pub_overlapping_prefixes_deliver_once():
    pub = routing(sockets.Pub)
    peer = make_peer()
    pub.attach(peer)
    _subscribe(pub, peer, b"", b"A", b"AB", b"ABC")
    pub.send([b"ABCD"])
    assert drain(peer.outbound) == [[b"ABCD"]]


def test_pub_unsubscribe_and_detach():
    pub = routing(sockets.Pub)
    a = make_peer()
    pub.attach(a)
    _subscribe(pub, a, b"A")
    _subscribe(pub, a, b"A", cancel=True)
    pub.send([b"A1"])
    assert drain(a.outbound) == []
    _subscribe(pub, a, b"A")
    pub.detach(a)
    pub.send([b"A2"])
    assert drain(a.outbound) == []


def test_pub_takes_subscriptions_queued_before_attach():
    pub = routing(sockets.Pub)
    peer = make_peer()
    peer.inbound.write([b"\x01T"])
    pub.attach(peer)
    pub.send([b"T!"])
    assert drain(peer.outbound) == [[b"T!"]]


def test_pub_hiccup_forgets_subscriptions():
    pub = routing(sockets.Pub)
    peer = make_peer()
    pub.attach(peer)
    _subscribe(pub, peer, b"A")
    deliver(pub, peer, HICCUP)
    pub.send([b"A1"])
    assert drain(peer.outbound) == []


def test_pub_drops_for_full_peer_only():
    pub = routing(sockets.Pub)
    slow, fast = make_peer(out_hwm=1), make_peer(out_hwm=0)
    for peer in (slow, fast):
        pub.attach(peer)
        _subscribe(pub, peer, b"")
    assert pub.send([b"1"]) and pub.send([b"2"])
    assert drain(slow.outbound) == [[b"1"]]
    assert drain(fast.outbound) == [[b"1"], [b"2"]]


def test_pub_cannot_recv_and_takes_each_frame_as_libzmq_does():
    """libzmq reads every frame of a message from a subscriber on its own: b"\x01A" in a
    message of two frames subscribes too (pyzmq shows it); the rest is dropped by a PUB."""
    pub = routing(sockets.Pub)
    peer = make_peer()
    pub.attach(peer)
    deliver(pub, peer, [b"not a subscription"], [b"\x01A", b"two frames"])
    assert not pub.has_in()
    pub.send([b"A"])
    assert drain(peer.outbound) == [[b"A"]]


def test_xpub_reports_first_and_last():
    xpub = routing(sockets.XPub)
    a, b = make_peer(), make_peer()
    xpub.attach(a)
    xpub.attach(b)
    _subscribe(xpub, a, b"T")
    _subscribe(xpub, b, b"T")
    assert recv_all(xpub) == [[b"\x01T"]]
    _subscribe(xpub, a, b"T", cancel=True)
    assert recv_all(xpub) == []
    _subscribe(xpub, b, b"T", cancel=True)
    assert recv_all(xpub) == [[b"\x00T"]]


def test_xpub_verbose_reports_every_subscribe():
    xpub = routing(sockets.XPub, xpub_verbose=True)
    a, b = make_peer(), make_peer()
    xpub.attach(a)
    xpub.attach(b)
    _subscribe(xpub, a, b"T")
    _subscribe(xpub, b, b"T")
    _subscribe(xpub, a, b"T")
    assert recv_all(xpub) == [[b"\x01T"]] * 3
    _subscribe(xpub, a, b"T", cancel=True)
    assert recv_all(xpub) == []  # XPUB_VERBOSE does not pass on unsubscriptions


def test_xpub_reports_orphaned_topics_on_detach():
    xpub = routing(sockets.XPub)
    a = make_peer()
    xpub.attach(a)
    _subscribe(xpub, a, b"T", b"U")
    assert recv_all(xpub) == [[b"\x01T"], [b"\x01U"]]
    xpub.detach(a)
    assert sorted(m[0] for m in recv_all(xpub)) == [b"\x00T", b"\x00U"]


def test_xpub_passes_upstream_messages_and_still_filters():
    xpub = routing(sockets.XPub)
    a = make_peer()
    xpub.attach(a)
    deliver(xpub, a, [b"\x01A"], [b"upstream"], [b"\x01X", b"multi"])
    # (libzmq: each frame of a message on its own; the frames that are no subscription go up.)
    assert recv_all(xpub) == [[b"\x01A"], [b"upstream"], [b"\x01X"], [b"multi"]]
    xpub.send([b"A1"])
    xpub.send([b"B1"])
    assert drain(a.outbound) == [[b"A1"]]


def test_sub_sends_subscriptions_and_filters():
    sub = routing(sockets.Sub)
    sub.subscribe(b"A")
    peer = make_peer()
    sub.attach(peer)
    assert drain(peer.outbound) == [[b"\x01A"]]  # sent to a new publisher on attach
    sub.subscribe(b"C")
    assert drain(peer.outbound) == [[b"\x01C"]]
    deliver(sub, peer, [b"A1"], [b"B1"], [b"C1", b"part"], [b"B2", b"A"])
    assert recv_all(sub) == [[b"A1"], [b"C1", b"part"]]


def test_sub_unsubscribe_counted():
    sub = routing(sockets.Sub)
    peer = make_peer()
    sub.attach(peer)
    sub.subscribe(b"A")
    sub.subscribe(b"A")
    sub.unsubscribe(b"A")
    assert drain(peer.outbound) == [[b"\x01A"], [b"\x01A"]]
    deliver(sub, peer, [b"A1"])
    assert recv_all(sub) == [[b"A1"]]
    sub.unsubscribe(b"A")
    assert drain(peer.outbound) == [[b"\x00A"]]
    deliver(sub, peer, [b"A2"])
    assert recv_all(sub) == []
    sub.unsubscribe(b"never")
    assert drain(peer.outbound) == []


def test_sub_hiccup_resends_subscriptions():
    sub = routing(sockets.Sub)
    peer = make_peer()
    sub.attach(peer)
    sub.subscribe(b"A")
    sub.subscribe(b"B")
    drain(peer.outbound)
    sub.hiccup(peer)
    assert sorted(drain(peer.outbound)) == [[b"\x01A"], [b"\x01B"]]


def test_sub_cannot_send():
    sub = routing(sockets.Sub)
    with pytest.raises(ZMQError):
        sub.send([b"x"])


def test_xsub_forwards_subscriptions_and_messages():
    xsub = routing(sockets.XSub)
    a, b = make_peer(), make_peer()
    xsub.attach(a)
    xsub.attach(b)
    assert xsub.send([b"\x01A"]) is True
    assert xsub.send([b"upstream", b"data"]) is True
    assert xsub.send([b"\x00A"]) is True
    assert xsub.send([b"\x00never"]) is True  # unknown: not forwarded
    for peer in (a, b):
        assert drain(peer.outbound) == [[b"\x01A"], [b"upstream", b"data"], [b"\x00A"]]


def test_xsub_receives_unfiltered():
    xsub = routing(sockets.XSub)
    peer = make_peer()
    xsub.attach(peer)
    deliver(xsub, peer, [b"anything"], [b"else"])
    assert recv_all(xsub) == [[b"anything"], [b"else"]]


def test_xsub_new_publisher_gets_existing_subscriptions():
    xsub = routing(sockets.XSub)
    xsub.send([b"\x01T"])
    peer = make_peer()
    xsub.attach(peer)
    assert drain(peer.outbound) == [[b"\x01T"]]


def test_pair_refuses_second_peer():
    pair = routing(sockets.Pair)
    first, second = make_peer(), make_peer()
    assert pair.accepts(first)
    pair.attach(first)
    assert pair.accepts(first)
    assert not pair.accepts(second)
    pair.attach(second)  # ignored
    assert pair.send([b"x"]) is True
    assert drain(first.outbound) == [[b"x"]]
    assert drain(second.outbound) == []
    pair.detach(second)
    assert pair.peer is first
    pair.detach(first)
    assert pair.accepts(second)
    assert pair.send([b"y"]) is False


def test_pair_send_recv_and_hwm():
    pair = routing(sockets.Pair)
    peer = make_peer(out_hwm=1)
    pair.attach(peer)
    deliver(pair, peer, [b"in"])
    assert pair.has_in()
    assert pair.recv() == ([b"in"], peer)
    assert pair.recv() is None
    assert pair.send([b"1"]) is True
    assert pair.has_out() is False
    assert pair.send([b"2"]) is False


def test_push_pull():
    push, pull = routing(sockets.Push), routing(sockets.Pull)
    a, b = make_peer(), make_peer()
    push.attach(a)
    push.attach(b)
    for i in range(4):
        assert push.send([b"%d" % i])
    assert drain(a.outbound) == [[b"0"], [b"2"]]
    assert drain(b.outbound) == [[b"1"], [b"3"]]
    assert not push.has_in()
    with pytest.raises(ZMQError):
        pull.send([b"x"])
    pull.attach(a)
    pull.attach(b)
    deliver(pull, a, [b"a0"], [b"a1"])
    deliver(pull, b, [b"b0"])
    assert recv_all(pull) == [[b"a0"], [b"b0"], [b"a1"]]


def test_push_follows_its_peers_when_writing_a_lone_one_directly():
    push = routing(sockets.Push)
    a, b = make_peer(out_hwm=2), make_peer()
    assert not push.send([b"none"])  # No peer: mute.
    push.attach(a)
    assert push.send([b"0"]) and push.send([b"1"])
    assert not push.send([b"2"])  # The lone peer is full: mute, nothing lost or queued.
    assert drain(a.outbound) == [[b"0"], [b"1"]]
    push.writable(a)
    push.attach(b)  # A second peer: round-robin again.
    for i in range(3, 7):
        assert push.send([b"%d" % i])
    assert drain(a.outbound) == [[b"3"], [b"5"]]
    assert drain(b.outbound) == [[b"4"], [b"6"]]
    push.detach(a)  # Alone again: everything goes to b.
    assert push.send([b"7"]) and push.send([b"8"])
    assert drain(b.outbound) == [[b"7"], [b"8"]]
    assert drain(a.outbound) == []
    push.detach(b)
    assert not push.send([b"9"])


def test_pull_detach_keeps_queued_messages():
    pull = routing(sockets.Pull)
    peer = make_peer()
    pull.attach(peer)
    deliver(pull, peer, [b"left"])
    peer.detached = True
    pull.detach(peer)
    assert recv_all(pull) == [[b"left"]]


def test_dealer_round_robin_and_fair_queue():
    dealer = routing(sockets.Dealer)
    a, b = make_peer(out_hwm=1), make_peer()
    dealer.attach(a)
    dealer.attach(b)
    assert dealer.send([b"1"]) and dealer.send([b"2"]) and dealer.send([b"3"])
    assert drain(a.outbound) == [[b"1"]]
    assert drain(b.outbound) == [[b"2"], [b"3"]]
    dealer.writable(a)
    assert dealer.send([b"4"]) and dealer.send([b"5"])
    assert len(a.outbound) == 1 and len(b.outbound) == 1
    deliver(dealer, a, [b"x"])
    deliver(dealer, b, [b"y"])
    assert recv_all(dealer) == [[b"x"], [b"y"]]


def test_router_generated_id_does_not_collide_with_announced_id():
    """A peer may announce any Identity, even one shaped like a generated id (RFC 37 reserves a
    leading zero octet for implementations, but nothing refuses it): the next generated id must
    not take over that peer's routing entry."""
    router = routing(sockets.Router)
    squatter = make_peer(identity=b"\x00" + struct.pack(">I", router._next_id))
    anonymous = make_peer()
    router.attach(squatter)
    router.attach(anonymous)
    assert anonymous.routing_id != squatter.routing_id
    assert router.peers[squatter.routing_id] is squatter
    assert router.peers[anonymous.routing_id] is anonymous


def test_only_the_kinds_that_pass_messages_on_untouched_send_bodies_alone():
    """REQ puts an envelope in front, REP and ROUTER take one off, XSUB reads subscriptions
    out of messages: their send needs lists. A new kind must opt in knowingly."""
    bodies = {name for name, cls in sockets.ROUTING_BY_TYPE.items() if cls.sends_bodies}
    # (SERVER, PEER and RADIO take (routing id or group, body) pairs: no frames at all.)
    assert bodies == {"PUSH", "PAIR", "DEALER", "PUB", "XPUB", "CLIENT", "SCATTER", "CHANNEL"}


def test_dgram_takes_an_address_and_a_body_and_one_endpoint():
    dgram = routing(Dgram)
    assert not dgram.has_out()
    assert dgram.send([b"127.0.0.1:9", b"no endpoint yet"]) is False  # Mute: the send waits.
    first, second = make_peer(), make_peer()
    dgram.attach(first)
    dgram.attach(second)  # (One endpoint, as libzmq: the second is not heard.)
    assert dgram.send([b"127.0.0.1:9\0", b"x"]) is True
    assert drain(first.outbound) == [[b"127.0.0.1:9\0", b"x"]]
    deliver(dgram, second, [b"127.0.0.1:1", b"unheard"])
    deliver(dgram, first, [b"127.0.0.1:2", b"heard"])
    assert recv_all(dgram) == [[b"127.0.0.1:2", b"heard"]]
    for bad in ([b"127.0.0.1:9"], [b"127.0.0.1:9", b"a", b"b"], [b"host:9", b"a"]):
        with pytest.raises(ZMQError) as info:
            dgram.send(bad)
        assert info.value.errno == errno.EINVAL
    with pytest.raises(ZMQError) as info:
        dgram.send([b"127.0.0.1:9", b"x" * (MAX_BODY + 1)])
    assert info.value.errno == errno.EMSGSIZE


@pytest.mark.parametrize(
    ("frame", "address"),
    [
        (b"10.0.0.1:80", ("10.0.0.1", 80)),
        (b"10.0.0.1:80\0", ("10.0.0.1", 80)),
        (b"10.0.0.1:0", None),
        (b"10.0.0.1:65536", None),
        (b"10.0.0.1", None),
        (b"example.com:80", None),
        (b"[::1]:80", None),
        (b"\xff:80", None),
    ],
)
def test_dgram_peer_address(frame, address):
    assert peer_address(frame) == address

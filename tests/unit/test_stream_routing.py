"""The STREAM routing (routing/stream.py) without I/O: ids, frame pairs, closing, a full peer."""

from __future__ import annotations

import errno

import pytest

from purezmq.constants import SocketOption
from purezmq.error import ZMQError
from purezmq.options import Options
from purezmq.routing.pipe import Peer, Pipe
from purezmq.routing.sockets import ROUTING_BY_TYPE, RoutingOptions
from purezmq.routing.stream import CLOSED_HERE, Stream


def make_peer(out_hwm: int = 0) -> Peer:
    return Peer(Pipe(0), Pipe(out_hwm), endpoint="test")


def written(peer: Peer) -> list[object]:
    return peer.outbound.drain()


def test_registered() -> None:
    assert ROUTING_BY_TYPE["STREAM"] is Stream


def test_generated_ids_and_routing_id_option() -> None:
    options = Options.for_socket(11)
    stream = Stream(options)
    first, second = make_peer(), make_peer()
    stream.attach(first)
    stream.attach(second)
    assert first.routing_id[:1] == second.routing_id[:1] == b"\x00"
    assert len(first.routing_id) == 5
    assert (
        int.from_bytes(second.routing_id[1:], "big")
        == (int.from_bytes(first.routing_id[1:], "big") + 1) % 2**32
    )
    assert options.get(SocketOption.ROUTING_ID) == second.routing_id


def test_connect_routing_id_is_reserved_until_attached() -> None:
    stream = Stream(RoutingOptions())
    assert stream.reserve(b"mine")
    assert not stream.reserve(b"mine")
    peer = make_peer()
    peer.assigned_id = b"mine"
    stream.attach(peer)
    assert peer.routing_id == b"mine" and not stream.reserved
    assert not stream.reserve(b"mine")  # In use.


def test_recv_puts_the_id_first() -> None:
    stream = Stream(RoutingOptions())
    peer = make_peer()
    stream.attach(peer)
    peer.inbound.write(b"")
    peer.inbound.write(b"data")
    stream.readable(peer)
    assert stream.recv() == ([peer.routing_id, b""], peer)
    assert stream.recv() == ([peer.routing_id, b"data"], peer)
    assert stream.recv() is None


def test_frames_in_pairs() -> None:
    stream = Stream(RoutingOptions())
    peer = make_peer()
    stream.attach(peer)
    rid = peer.routing_id
    assert stream.send([rid, b"a", b"extra"])  # "extra": an id without MORE, dropped...
    assert stream.send([rid, b"lost"])  # ...then this id is data, dropped; "lost" an id...
    assert stream.send([rid])  # ...and this data: dropped. In step again.
    assert stream.send([rid, b"b", rid, b"c"])  # Two pairs in one message: both go.
    assert written(peer) == [b"a", b"b", b"c"]


def test_unknown_id() -> None:
    stream = Stream(RoutingOptions())
    with pytest.raises(ZMQError) as info:
        stream.first_frame(b"\x00nope")
    assert info.value.errno == errno.EHOSTUNREACH
    with pytest.raises(ZMQError) as info:
        stream.send([b"\x00nope", b"x"])
    assert info.value.errno == errno.EHOSTUNREACH
    assert not stream._more_out  # Nothing taken: the next message starts with an id.


def test_empty_data_closes() -> None:
    stream = Stream(RoutingOptions())
    peer = make_peer()
    stream.attach(peer)
    rid = peer.routing_id
    peer.inbound.write(b"unread")
    assert stream.send([rid, b"last"]) and stream.send([rid, b""])
    assert written(peer) == [b"last", b""]  # The engine closes at the empty one.
    assert peer.state is CLOSED_HERE
    with pytest.raises(ZMQError):
        stream.first_frame(rid)
    stream.readable(peer)
    assert stream.recv() is None  # Nothing more of it is read.
    stream.detach(peer)


def test_full_peer_waits_and_resumes() -> None:
    stream = Stream(RoutingOptions())
    full, free = make_peer(out_hwm=1), make_peer()
    stream.attach(full)
    stream.attach(free)
    assert stream.send([full.routing_id, b"1"])
    assert stream.first_frame(full.routing_id) is False
    assert stream.send([full.routing_id, b"2"]) is False
    message = [free.routing_id, b"to free", full.routing_id, b"3"]
    assert stream.send(message) is False  # The first pair went...
    assert written(free) == [b"to free"]
    assert written(full) == [b"1"]
    assert stream.send(message) is True  # ...the retry goes on from the second.
    assert written(free) == [] and written(full) == [b"3"]

"""The thread-safe draft sockets (issue 16) against libzmq built with the draft API, through
ctypes (pyzmq's wheels leave the draft types out): each pattern in both directions (purezmq binds
and libzmq connects, and the reverse) over tcp and ipc, groups and routing ids read and set on
both sides, PEER's connect_peer both ways, RADIO/DISH over udp both ways.

The libzmq is Debian's 4.3.4 source built with the draft API by scripts/build_draft_libzmq.sh
(which .ci/run calls), or one named by PUREZMQ_DRAFT_LIBZMQ. Debian's own libzmq5 is built
without it, whatever its package says: zmq_has("draft") is 0, and a draft socket type it
creates aborts the process at its first tcp or ipc handshake (an assertion in mechanism.cpp);
``test_debian_libzmq5_lacks_the_draft_api`` pins that down.

Two kinds of test: those of the first part drive libzmq's side with what any build exports (a
SERVER or PEER answers by sending a received message back as it is, its routing id going with
it: ``Socket.echo``; a RADIO sends to the empty group); those of the last part use the draft
functions (zmq_join, zmq_msg_set_group, zmq_msg_routing_id, zmq_connect_peer).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq

import purezmq

from . import _libzmq_ctypes as libzmq5

#: Where scripts/build_draft_libzmq.sh (which .ci/run calls) puts the library it builds.
BUILT_LIBRARY = os.path.expanduser("~/.cache/purezmq/libzmq-draft/libzmq.so")
DRAFT_LIBRARY = os.environ.get("PUREZMQ_DRAFT_LIBZMQ", "") or (
    BUILT_LIBRARY if os.path.exists(BUILT_LIBRARY) else ""
)


def _has_draft() -> bool:
    lib = libzmq5.load(DRAFT_LIBRARY or None)
    if lib is None:
        return False
    lib.zmq_has.argtypes = [ctypes.c_char_p]
    return bool(lib.zmq_has(b"draft"))


needs_draft_libzmq = pytest.mark.skipif(
    not _has_draft(),
    reason="no libzmq built with the draft API (Debian's libzmq5 is not): "
    "scripts/build_draft_libzmq.sh builds one, or set PUREZMQ_DRAFT_LIBZMQ to the path of one",
)
pytestmark = pytest.mark.timeout(30)


@pytest.mark.skipif(libzmq5.load() is None, reason="Debian's libzmq5 is not installed")
def test_debian_libzmq5_lacks_the_draft_api() -> None:
    """Why the interop tests below skip on Debian: no draft API, and a SCATTER's handshake
    aborts the process (so it runs in a child)."""
    lib = libzmq5.load()
    lib.zmq_has.argtypes = [ctypes.c_char_p]
    assert lib.zmq_has(b"draft") == 0
    child = (
        "import sys, time; sys.path.insert(0, sys.argv[1])\n"
        "from interop import _libzmq_ctypes as L\n"
        "ctx = L.Context(); a = ctx.socket(17); b = ctx.socket(16)\n"
        "a.bind('tcp://127.0.0.1:*'); b.connect(a.last_endpoint.decode())\n"
        "time.sleep(2)\n"
    )
    tests_dir = os.path.dirname(os.path.dirname(__file__))
    result = subprocess.run(
        [sys.executable, "-c", child, tests_dir], capture_output=True, text=True, timeout=20
    )
    assert result.returncode != 0
    assert "mechanism.cpp" in result.stderr


TIMEOUT_MS = 5000
_names = itertools.count()


@pytest.fixture
def ctx() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def lctx() -> Iterator[libzmq5.Context]:
    context = libzmq5.Context(DRAFT_LIBRARY or None)
    yield context
    context.destroy(linger=0)


@pytest.fixture(params=["tcp", "ipc"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def ours(ctx: purezmq.Context, socket_type: int) -> Any:
    sock = ctx.socket(socket_type)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = TIMEOUT_MS
    return sock


def theirs(lctx: libzmq5.Context, socket_type: int) -> libzmq5.Socket:
    sock = lctx.socket(socket_type)
    for option, value in ((zmq.LINGER, 0), (zmq.RCVTIMEO, TIMEOUT_MS), (zmq.SNDTIMEO, TIMEOUT_MS)):
        sock.setsockopt(option, value)
    return sock


def link(binder: Any, connecter: Any, transport: str) -> str:
    """Bind ``binder`` (either library) and connect ``connecter`` to it; the endpoint."""
    if transport == "tcp":
        binder.bind("tcp://127.0.0.1:*")
        endpoint = binder.last_endpoint.decode()
    else:
        path = os.path.join(tempfile.gettempdir(), f"purezmq-draft-{os.getpid()}-{next(_names)}")
        endpoint = f"ipc://{path}"
        binder.bind(endpoint)
    connecter.connect(endpoint)
    return endpoint


def pair(ctx: Any, lctx: Any, our_type: int, their_type: int, transport: str, we_bind: bool):
    mine, other = ours(ctx, our_type), theirs(lctx, their_type)
    if we_bind:
        link(mine, other, transport)
    else:
        link(other, mine, transport)
    return mine, other


directions = pytest.mark.parametrize(
    "we_bind", [True, False], ids=["purezmq-binds", "libzmq-binds"]
)


@needs_draft_libzmq
@directions
def test_a_purezmq_client_is_answered_by_a_libzmq_server(ctx, lctx, transport, we_bind):
    client, server = pair(ctx, lctx, purezmq.CLIENT, zmq.SERVER, transport, we_bind)
    for n in range(3):
        client.send(b"request %d" % n)
        assert server.echo() == b"request %d" % n
        assert client.recv() == b"request %d" % n


@needs_draft_libzmq
@directions
def test_a_purezmq_server_answers_libzmq_clients_by_routing_id(ctx, lctx, transport, we_bind):
    server, first = pair(ctx, lctx, purezmq.SERVER, zmq.CLIENT, transport, we_bind)
    clients = [first]
    if we_bind:  # (A second client, to show each has its own routing id.)
        clients.append(theirs(lctx, zmq.CLIENT))
        clients[1].connect(server.last_endpoint.decode())
    ids = set()
    for n, client in enumerate(clients):
        client.send(b"hello from %d" % n)
        frame = server.recv(copy=False)
        assert frame.bytes == b"hello from %d" % n
        assert isinstance(frame.routing_id, int) and 0 < frame.routing_id < 2**32
        ids.add(frame.routing_id)
        server.send(b"reply to %d" % n, routing_id=frame.routing_id)
        assert client.recv() == b"reply to %d" % n
    assert len(ids) == len(clients)
    unknown = next(i for i in range(1, 10) if i not in ids)
    with pytest.raises(purezmq.ZMQError) as info:
        server.send(b"to nobody", routing_id=unknown)
    assert info.value.errno == purezmq.EHOSTUNREACH


@needs_draft_libzmq
@directions
def test_scatter_and_gather_both_ways(ctx, lctx, transport, we_bind):
    scatter, gather = pair(ctx, lctx, purezmq.SCATTER, zmq.GATHER, transport, we_bind)
    for n in range(5):
        scatter.send(b"job %d" % n)
    assert [gather.recv() for _ in range(5)] == [b"job %d" % n for n in range(5)]

    gather2, scatter2 = pair(ctx, lctx, purezmq.GATHER, zmq.SCATTER, transport, we_bind)
    for n in range(5):
        scatter2.send(b"result %d" % n)
    assert [gather2.recv() for _ in range(5)] == [b"result %d" % n for n in range(5)]


@needs_draft_libzmq
@directions
def test_channel_both_ways(ctx, lctx, transport, we_bind):
    mine, other = pair(ctx, lctx, purezmq.CHANNEL, zmq.CHANNEL, transport, we_bind)
    mine.send(b"ping")
    assert other.recv() == b"ping"
    other.send(b"pong")
    assert mine.recv() == b"pong"


@needs_draft_libzmq
def test_a_purezmq_peer_connects_to_a_libzmq_peer_and_is_answered(ctx, lctx, transport):
    other = theirs(lctx, zmq.PEER)
    mine = ours(ctx, purezmq.PEER)
    if transport == "tcp":
        other.bind("tcp://127.0.0.1:*")
        endpoint = other.last_endpoint.decode()
    else:
        endpoint = f"ipc://{tempfile.gettempdir()}/purezmq-peer-{os.getpid()}-{next(_names)}"
        other.bind(endpoint)
    routing_id = mine.connect_peer(endpoint)
    assert isinstance(routing_id, int) and routing_id != 0
    mine.send(b"knock", routing_id=routing_id)
    assert other.echo() == b"knock"
    frame = mine.recv(copy=False)
    assert (frame.bytes, frame.routing_id) == (b"knock", routing_id)


@needs_draft_libzmq
@directions
def test_a_libzmq_radio_reaches_a_purezmq_dish(ctx, lctx, transport, we_bind):
    # (libzmq sends to the empty group: zmq_msg_set_group is not exported.)
    dish, radio = pair(ctx, lctx, purezmq.DISH, zmq.RADIO, transport, we_bind)
    dish.join(b"")
    # The JOIN reaches the radio some time after the connection: send until one arrives.
    for _ in range(200):
        radio.send(b"news")
        if dish.poll(25):
            break
    frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"news", "")
    dish.leave(b"")


@needs_draft_libzmq
def test_a_libzmq_dish_is_accepted_by_a_purezmq_radio(ctx, lctx, transport):
    """It cannot join a group (zmq_join is not exported), so it hears nothing; the handshake
    must still succeed (the socket types are compatible) and the radio send without blocking."""
    radio = ours(ctx, purezmq.RADIO)
    monitor = radio.get_monitor_socket(purezmq.EVENT_HANDSHAKE_SUCCEEDED)
    monitor.rcvtimeo = TIMEOUT_MS
    dish = theirs(lctx, zmq.DISH)
    link(radio, dish, transport)
    from purezmq.utils.monitor import recv_monitor_message

    assert recv_monitor_message(monitor)["event"] == purezmq.EVENT_HANDSHAKE_SUCCEEDED
    radio.send(b"unheard", group="weather")
    with pytest.raises(zmq.Again):
        dish.recv(zmq.DONTWAIT)


@needs_draft_libzmq
def test_mismatched_types_are_refused(ctx, lctx):
    """A CLIENT does not talk to a DISH: the connection is dropped at the handshake (libzmq
    reports no handshake failure for this, only the disconnection), nothing gets through."""
    client = ours(ctx, purezmq.CLIENT)
    monitor = client.get_monitor_socket()
    monitor.rcvtimeo = TIMEOUT_MS
    dish = theirs(lctx, zmq.DISH)
    link(dish, client, "tcp")
    from purezmq.utils.monitor import recv_monitor_message

    events = []
    while purezmq.EVENT_DISCONNECTED not in events:
        events.append(recv_monitor_message(monitor)["event"])
    assert purezmq.EVENT_HANDSHAKE_SUCCEEDED not in events


# -- with the draft functions of the library (zmq_join, groups, routing ids) -------------------


@needs_draft_libzmq
@directions
def test_groups_both_ways(ctx, lctx, transport, we_bind):
    """A purezmq RADIO to a libzmq DISH that joined, and a libzmq RADIO to a purezmq DISH, with
    groups on both sides (and what was not joined filtered out)."""
    radio, dish = pair(ctx, lctx, purezmq.RADIO, zmq.DISH, transport, we_bind)
    dish.join(b"weather")
    for _ in range(200):  # (The JOIN reaches the radio some time after the connection.)
        radio.send(b"other", group="traffic")
        radio.send(b"sunny", group="weather")
        try:
            received = dish.recv_draft(zmq.DONTWAIT)
            break
        except zmq.Again:
            time.sleep(0.02)
    else:
        raise AssertionError("nothing reached libzmq's DISH")
    assert received[:2] == (b"sunny", b"weather")

    ours_dish, their_radio = pair(ctx, lctx, purezmq.DISH, zmq.RADIO, transport, we_bind)
    ours_dish.join("news")
    for _ in range(200):
        their_radio.send_draft(b"ignored", group=b"sport")
        their_radio.send_draft(b"flash", group=b"news")
        if ours_dish.poll(20):
            break
    frame = ours_dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"flash", "news")


@needs_draft_libzmq
@directions
def test_routing_ids_both_ways(ctx, lctx, transport, we_bind):
    """libzmq's SERVER reads the routing id it gave purezmq's CLIENT and answers by it; purezmq's
    SERVER does the same for libzmq's CLIENT."""
    client, server = pair(ctx, lctx, purezmq.CLIENT, zmq.SERVER, transport, we_bind)
    client.send(b"hello")
    data, _, routing_id = server.recv_draft()
    assert data == b"hello" and routing_id != 0
    server.send_draft(b"by id", routing_id=routing_id)
    assert client.recv() == b"by id"


@needs_draft_libzmq
def test_a_libzmq_peer_connects_to_a_purezmq_peer(ctx, lctx, transport):
    mine = ours(ctx, purezmq.PEER)
    if transport == "tcp":
        mine.bind("tcp://127.0.0.1:*")
        endpoint = mine.last_endpoint.decode()
    else:
        endpoint = f"ipc://{tempfile.gettempdir()}/purezmq-peer-{os.getpid()}-{next(_names)}"
        mine.bind(endpoint)
    other = theirs(lctx, zmq.PEER)
    routing_id = other.connect_peer(endpoint)
    other.send_draft(b"knock", routing_id=routing_id)
    frame = mine.recv(copy=False)
    assert frame.bytes == b"knock"
    mine.send(b"who is there", routing_id=frame.routing_id)
    assert other.recv_draft()[::2] == (b"who is there", routing_id)


@needs_draft_libzmq
def test_udp_both_ways(ctx, lctx):
    """libzmq's DISH joins and hears purezmq's RADIO over udp; purezmq's DISH hears libzmq's."""
    import socket as stdlib_socket

    def free_port() -> int:
        with stdlib_socket.socket(stdlib_socket.AF_INET, stdlib_socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    port = free_port()
    their_dish = theirs(lctx, zmq.DISH)
    their_dish.bind(f"udp://127.0.0.1:{port}")
    their_dish.join(b"g")
    radio = ours(ctx, purezmq.RADIO)
    radio.connect(f"udp://127.0.0.1:{port}")
    radio.send(b"not joined", group="h")
    radio.send(b"to libzmq", group="g")
    assert their_dish.recv_draft()[:2] == (b"to libzmq", b"g")

    port = free_port()
    dish = ours(ctx, purezmq.DISH)
    dish.bind(f"udp://127.0.0.1:{port}")
    dish.join("g")
    their_radio = theirs(lctx, zmq.RADIO)
    their_radio.connect(f"udp://127.0.0.1:{port}")
    their_radio.send_draft(b"from libzmq", group=b"g")
    frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"from libzmq", "g")

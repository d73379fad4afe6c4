"""The thread-safe draft sockets on purezmq's blocking engine (issue 16): CLIENT/SERVER, RADIO/
DISH, SCATTER/GATHER, PEER and CHANNEL over tcp, ipc and inproc; several threads on one socket;
the errors libzmq gives for what these types refuse; and the bytes on the wire for RADIO/DISH
(libzmq's format: JOIN/LEAVE commands, a group frame before the body). purezmq.asyncio's:
tests/aio/test_aio_draft.py. Against libzmq: tests/interop/test_draft_sockets.py.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import purezmq
from purezmq.protocol.frames import encode_command
from purezmq.utils.monitor import recv_monitor_message

pytestmark = pytest.mark.timeout(30)
TIMEOUT_MS = 5000
_count = iter(range(10**6))


@pytest.fixture
def ctx() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture(params=["tcp", "ipc", "inproc"])
def endpoint(request: pytest.FixtureRequest) -> str:
    n = next(_count)
    if request.param == "tcp":
        return "tcp://127.0.0.1:*"
    if request.param == "ipc":
        return f"ipc://{tempfile.gettempdir()}/purezmq-draft-{os.getpid()}-{n}"
    return f"inproc://draft-{n}"


def make(ctx: purezmq.Context, socket_type: int) -> Any:
    sock = ctx.socket(socket_type)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = TIMEOUT_MS
    return sock


def linked(ctx: purezmq.Context, binder_type: int, connecter_type: int, endpoint: str):
    binder, connecter = make(ctx, binder_type), make(ctx, connecter_type)
    binder.bind(endpoint)
    connecter.connect(binder.last_endpoint.decode())
    return binder, connecter


def test_the_draft_api_is_there() -> None:
    assert purezmq.DRAFT_API is True
    assert purezmq.has("draft") is True
    for name in ("SERVER", "CLIENT", "RADIO", "DISH", "GATHER", "SCATTER", "PEER", "CHANNEL"):
        assert hasattr(purezmq, name)


def test_client_and_server(ctx, endpoint):
    server, client = linked(ctx, purezmq.SERVER, purezmq.CLIENT, endpoint)
    client.send(b"question")
    frame = server.recv(copy=False)
    assert frame.bytes == b"question"
    assert isinstance(frame.routing_id, int) and 0 < frame.routing_id < 2**32
    server.send(b"answer", routing_id=frame.routing_id)
    assert client.recv() == b"answer"
    # A Frame carries its routing id too.
    reply = purezmq.Frame(b"again")
    reply.routing_id = frame.routing_id
    server.send(reply)
    assert client.recv_multipart() == [b"again"]


def test_a_server_tells_its_clients_apart(ctx):
    server = make(ctx, purezmq.SERVER)
    server.bind("tcp://127.0.0.1:*")
    clients = [make(ctx, purezmq.CLIENT) for _ in range(3)]
    for client in clients:
        client.connect(server.last_endpoint.decode())
    ids = {}
    for n, client in enumerate(clients):
        client.send(b"%d" % n)
        frame = server.recv(copy=False)
        ids[frame.bytes] = frame.routing_id
    assert len(set(ids.values())) == 3
    for n, client in enumerate(clients):
        server.send(b"for %d" % n, routing_id=ids[b"%d" % n])
        assert client.recv() == b"for %d" % n


def test_server_errors_are_libzmqs(ctx):
    server, client = linked(ctx, purezmq.SERVER, purezmq.CLIENT, "inproc://server-errors")
    with pytest.raises(purezmq.ZMQError) as info:
        server.send(b"to nobody", routing_id=12345)
    assert info.value.errno == errno.EHOSTUNREACH
    with pytest.raises(purezmq.ZMQError) as info:
        server.send(b"no routing id")  # (libzmq's routing id 0: nobody's.)
    assert info.value.errno == errno.EHOSTUNREACH
    with pytest.raises(TypeError):
        server.send(b"x", routing_id="7")


@pytest.mark.parametrize("socket_type", ["CLIENT", "SERVER", "RADIO", "SCATTER", "CHANNEL", "PEER"])
def test_a_message_of_several_parts_is_einval(ctx, socket_type):
    sock = make(ctx, getattr(purezmq, socket_type))
    for send in (
        lambda: sock.send(b"first", purezmq.SNDMORE),
        lambda: sock.send_multipart([b"first", b"second"]),
    ):
        with pytest.raises(purezmq.ZMQError) as info:
            send()
        assert info.value.errno == errno.EINVAL


def test_a_message_of_several_parts_from_the_wire_is_dropped(ctx):
    """A DEALER-speaking peer can put several frames on the wire to a GATHER: that message is
    dropped, the next one of one part gets through."""
    gather = make(ctx, purezmq.GATHER)
    gather.bind("tcp://127.0.0.1:*")
    port = int(gather.last_endpoint.decode().rsplit(":", 1)[1])
    with raw_peer(port, b"SCATTER") as peer:
        peer.sendall(b"\x01\x05first" + b"\x00\x06second")
        peer.sendall(b"\x00\x04next")
        assert gather.recv() == b"next"


def test_scatter_and_gather(ctx, endpoint):
    gather, scatter = linked(ctx, purezmq.GATHER, purezmq.SCATTER, endpoint)
    for n in range(10):
        scatter.send(b"job %d" % n)
    assert [gather.recv() for _ in range(10)] == [b"job %d" % n for n in range(10)]


def test_scatter_load_balances(ctx):
    scatter = make(ctx, purezmq.SCATTER)
    scatter.bind("inproc://balance")
    gathers = [make(ctx, purezmq.GATHER) for _ in range(2)]
    for gather in gathers:
        gather.connect("inproc://balance")
    for n in range(4):
        scatter.send(b"%d" % n)
    assert sorted(gathers[0].recv() for _ in range(2)) + sorted(
        gathers[1].recv() for _ in range(2)
    ) in ([b"0", b"2", b"1", b"3"], [b"1", b"3", b"0", b"2"])


def test_channel(ctx, endpoint):
    first, second = linked(ctx, purezmq.CHANNEL, purezmq.CHANNEL, endpoint)
    first.send(b"ping")
    assert second.recv() == b"ping"
    second.send(b"pong")
    assert first.recv() == b"pong"


def test_peer_connect_peer(ctx, endpoint):
    listening = make(ctx, purezmq.PEER)
    listening.bind(endpoint)
    connecting = make(ctx, purezmq.PEER)
    routing_id = connecting.connect_peer(listening.last_endpoint.decode())
    assert isinstance(routing_id, int) and routing_id != 0
    connecting.send(b"hello", routing_id=routing_id)
    frame = listening.recv(copy=False)
    assert frame.bytes == b"hello"
    listening.send(b"welcome", routing_id=frame.routing_id)
    answer = connecting.recv(copy=False)
    assert (answer.bytes, answer.routing_id) == (b"welcome", routing_id)


def test_connect_peer_errors(ctx):
    client = make(ctx, purezmq.CLIENT)
    with pytest.raises(purezmq.ZMQError) as info:
        client.connect_peer("tcp://127.0.0.1:5555")
    assert info.value.errno == errno.ENOTSUP
    peer = make(ctx, purezmq.PEER)
    peer.immediate = 1
    with pytest.raises(purezmq.ZMQError) as info:
        peer.connect_peer("tcp://127.0.0.1:5555")
    assert info.value.errno == errno.EFAULT


def wait_for_group(radio: Any, dish: Any, group: str, body: bytes = b"probe") -> Any:
    """Send to ``group`` until the dish has it (its JOIN reaches the radio after the connection);
    the frame it got."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        radio.send(body, group=group)
        if dish.poll(20):
            return dish.recv(copy=False)
    raise AssertionError(f"nothing of group {group!r} reached the dish")


def test_radio_and_dish(ctx, endpoint):
    radio, dish = linked(ctx, purezmq.RADIO, purezmq.DISH, endpoint)
    dish.join("weather")
    frame = wait_for_group(radio, dish, "weather")
    assert (frame.bytes, frame.group) == (b"probe", "weather")
    while dish.poll(50):
        dish.recv()
    radio.send(b"not joined", group="traffic")
    radio.send(b"sunny", group="weather")
    frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"sunny", "weather")
    dish.leave("weather")
    dish.join(b"traffic")
    frame = wait_for_group(radio, dish, "traffic", b"jam")
    assert (frame.bytes, frame.group) == (b"jam", "traffic")
    # "weather" was left: nothing of it arrives (the radio sends it to nobody).
    radio.send(b"rain", group="weather")
    radio.send(b"clear", group="traffic")
    while True:
        frame = dish.recv(copy=False)
        assert frame.group == "traffic"
        if frame.bytes == b"clear":
            break


def test_join_and_leave_errors(ctx):
    dish = make(ctx, purezmq.DISH)
    dish.join("a" * 255)
    with pytest.raises(purezmq.ZMQError) as info:
        dish.join("a" * 256)
    assert info.value.errno == errno.EINVAL
    with pytest.raises(purezmq.ZMQError) as info:
        dish.join("a" * 255)  # Joined already.
    assert info.value.errno == errno.EINVAL
    with pytest.raises(purezmq.ZMQError) as info:
        dish.leave("never joined")
    assert info.value.errno == errno.EINVAL
    radio = make(ctx, purezmq.RADIO)
    with pytest.raises(purezmq.ZMQError) as info:
        radio.join("weather")
    assert info.value.errno == errno.ENOTSUP
    with pytest.raises(purezmq.ZMQError) as info:
        radio.send(b"x", group="g" * 256)
    assert info.value.errno == errno.EINVAL
    with pytest.raises(purezmq.ZMQError) as info:
        dish.send(b"dishes do not send")
    assert info.value.errno == errno.ENOTSUP
    with pytest.raises(purezmq.ZMQError) as info:
        radio.recv()
    assert info.value.errno == errno.ENOTSUP


def test_a_dish_joins_again_after_a_reconnection(ctx):
    """The radio forgets a connection's groups when it goes; the dish tells the new one."""
    radio = make(ctx, purezmq.RADIO)
    port = radio.bind_to_random_port("tcp://127.0.0.1")
    dish = make(ctx, purezmq.DISH)
    dish.reconnect_ivl = 20
    dish.connect(f"tcp://127.0.0.1:{port}")
    dish.join("g")
    wait_for_group(radio, dish, "g")
    radio.close()
    radio = make(ctx, purezmq.RADIO)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:  # (The old listener is closed by the I/O thread, soon after close().)
        try:
            radio.bind(f"tcp://127.0.0.1:{port}")
            break
        except purezmq.ZMQError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    frame = wait_for_group(radio, dish, "g", b"after")
    assert frame.group == "g"


def test_incompatible_types_are_refused(ctx):
    """A DEALER is no CLIENT: the SERVER drops its connection at the handshake (libzmq reports
    no handshake failure for this, only the disconnection) and hears nothing from it."""
    server = make(ctx, purezmq.SERVER)
    monitor = server.get_monitor_socket()
    monitor.rcvtimeo = TIMEOUT_MS
    server.bind("tcp://127.0.0.1:*")
    dealer = make(ctx, purezmq.DEALER)
    dealer.connect(server.last_endpoint.decode())
    dealer.send(b"not for a server", purezmq.NOBLOCK)
    events = []
    while purezmq.EVENT_DISCONNECTED not in events:
        events.append(recv_monitor_message(monitor)["event"])
    assert purezmq.EVENT_HANDSHAKE_SUCCEEDED not in events
    assert server.poll(100) == 0


# -- several threads on one socket --------------------------------------------------------------


def test_threads_share_a_server(ctx):
    """Four threads receive on one SERVER and answer each request: every request is answered
    once, whichever thread took it."""
    server = make(ctx, purezmq.SERVER)
    server.bind("tcp://127.0.0.1:*")
    clients = [make(ctx, purezmq.CLIENT) for _ in range(3)]
    for client in clients:
        client.connect(server.last_endpoint.decode())
    served: list[str] = []

    def serve() -> None:
        while True:
            frame = server.recv(copy=False)
            if frame.bytes == b"stop":
                return
            served.append(threading.current_thread().name)
            server.send(frame.bytes.upper(), routing_id=frame.routing_id)

    threads = [threading.Thread(target=serve, name=f"server-{n}") for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(50):
            for n, client in enumerate(clients):
                client.send(b"r%d c%d" % (round_, n))
            for n, client in enumerate(clients):
                assert client.recv() == b"R%d C%d" % (round_, n)
    finally:
        for _ in threads:
            clients[0].send(b"stop")
        for thread in threads:
            thread.join(TIMEOUT_MS / 1000)
    assert not any(thread.is_alive() for thread in threads)
    assert len(served) == 150


def test_threads_send_on_one_scatter_while_another_receives(ctx):
    scatter = make(ctx, purezmq.SCATTER)
    scatter.bind("inproc://shared-scatter")
    gather = make(ctx, purezmq.GATHER)
    gather.connect("inproc://shared-scatter")
    scatter.sndhwm = 10  # (Senders block at times: they must wake.)

    def produce(n: int) -> None:
        for i in range(500):
            scatter.send(b"%d:%d" % (n, i))

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    got = [gather.recv() for _ in range(2000)]
    for thread in threads:
        thread.join(TIMEOUT_MS / 1000)
    assert len(set(got)) == 2000
    for n in range(4):  # Each sender's messages in its order.
        mine = [int(m.split(b":")[1]) for m in got if m.startswith(b"%d:" % n)]
        assert mine == sorted(mine)


def test_a_blocked_receive_wakes_when_another_thread_closes_the_socket(ctx):
    gather = make(ctx, purezmq.GATHER)
    gather.rcvtimeo = -1
    failure: list[BaseException] = []

    def wait() -> None:
        try:
            gather.recv()
        except BaseException as exc:  # noqa: BLE001
            failure.append(exc)

    threads = [threading.Thread(target=wait) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)  # (Both asleep in recv; closing wakes them either way.)
    gather.close()
    for thread in threads:
        thread.join(TIMEOUT_MS / 1000)
    assert len(failure) == 2
    assert all(isinstance(exc, purezmq.ZMQError) for exc in failure)
    assert {exc.errno for exc in failure} == {errno.ENOTSOCK}  # type: ignore[attr-defined]


def test_timeouts_hold_for_each_waiting_thread(ctx):
    gather = make(ctx, purezmq.GATHER)
    gather.rcvtimeo = 100
    outcomes: list[str] = []

    def wait() -> None:
        try:
            gather.recv()
            outcomes.append("message")
        except purezmq.Again:
            outcomes.append("again")

    threads = [threading.Thread(target=wait) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_MS / 1000)
    assert outcomes == ["again"] * 3


# -- the wire: what libzmq's RADIO and DISH read and write ---------------------------------------


class raw_peer:
    """A ZMTP 3.1 NULL peer of the given socket type, written by hand."""

    def __init__(self, port: int, socket_type: bytes) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_MS / 1000)
        greeting = b"\xff" + b"\x00" * 8 + b"\x7f\x03\x01" + b"NULL".ljust(20, b"\x00")
        self.sock.sendall(greeting + b"\x00" * 32)
        ready = b"\x05READY\x0bSocket-Type" + len(socket_type).to_bytes(4, "big") + socket_type
        self.sock.sendall(b"\x04" + bytes([len(ready)]) + ready)
        self._exactly(64)  # Its greeting.
        assert self.read_frame()[1].startswith(b"\x05READY")

    def __enter__(self) -> socket.socket:
        return self.sock

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    def read_frame(self) -> tuple[int, bytes]:
        flags = self._exactly(1)[0]
        size = int.from_bytes(self._exactly(8 if flags & 2 else 1), "big")
        return flags, self._exactly(size)


def test_a_dish_sends_join_and_leave_commands_as_libzmq(ctx):
    dish = make(ctx, purezmq.DISH)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT_MS / 1000)
    with listener:
        port = listener.getsockname()[1]
        dish.connect(f"tcp://127.0.0.1:{port}")
        dish.join("weather")
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(TIMEOUT_MS / 1000)
            conn.sendall(b"\xff" + b"\x00" * 8 + b"\x7f\x03\x01" + b"NULL".ljust(20, b"\x00"))
            conn.sendall(b"\x00" * 32)
            ready = b"\x05READY\x0bSocket-Type\x00\x00\x00\x05RADIO"
            conn.sendall(b"\x04" + bytes([len(ready)]) + ready)
            peer = raw_peer.__new__(raw_peer)
            peer.sock = conn
            peer._exactly(64)
            assert peer.read_frame()[1].startswith(b"\x05READY")
            assert peer.read_frame() == (4, b"\x04JOINweather")
            dish.leave("weather")
            assert peer.read_frame() == (4, b"\x05LEAVEweather")
            # What the radio sends: the group frame (MORE), then the body.
            dish.join("news")
            assert peer.read_frame() == (4, b"\x04JOINnews")
            conn.sendall(b"\x01\x04news" + b"\x00\x05hello")
            frame = dish.recv(copy=False)
            assert (frame.bytes, frame.group) == (b"hello", "news")


def test_a_radio_reads_join_commands_and_writes_libzmqs_frames(ctx):
    radio = make(ctx, purezmq.RADIO)
    port = radio.bind_to_random_port("tcp://127.0.0.1")
    with raw_peer(port, b"DISH") as conn:
        conn.sendall(encode_command(b"JOIN", b"weather"))
        peer = raw_peer.__new__(raw_peer)
        peer.sock = conn
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        conn.settimeout(0.05)
        frames = []
        while time.monotonic() < deadline and not frames:
            radio.send(b"other", group="traffic")
            radio.send(b"sunny", group="weather")
            try:
                frames = [peer.read_frame(), peer.read_frame()]
            except TimeoutError:
                continue
        conn.settimeout(TIMEOUT_MS / 1000)
        assert frames == [(1, b"weather"), (0, b"sunny")]

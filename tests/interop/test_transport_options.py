"""The transport options that act on kernel sockets: SOCKS_PROXY/SOCKS_USERNAME/SOCKS_PASSWORD
(a SOCKS5 server of the tests' own on loopback), TCP_ACCEPT_FILTER, IPC_FILTER_PID/UID/GID,
USE_FD, BINDTODEVICE and RECONNECT_STOP.

Each test body runs on pyzmq (libzmq 4.3.5, the reference) and on purezmq's blocking sockets
(the ``lib`` fixture), with a peer of the other library where there is one; the ``Test*Asyncio``
tests repeat them on purezmq.asyncio.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import zmq as pyzmq

import purezmq
from interop._socks5 import Socks5Server

pytestmark = pytest.mark.timeout(60)

WAIT_MS = 5000


@pytest.fixture(params=["zmq", "purezmq"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def ctx(lib: ModuleType) -> Iterator[Any]:
    context = lib.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def peer_ctx(lib: ModuleType) -> Iterator[Any]:
    """A context of the other library: the peer."""
    other = purezmq if lib is pyzmq else pyzmq
    context = other.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def socks() -> Iterator[Socks5Server]:
    server = Socks5Server()
    yield server
    server.close()


def _sock(context: Any, kind: int) -> Any:
    sock = context.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = WAIT_MS
    return sock


def _events(lib: ModuleType, monitor: Any, wait_ms: int, until: str | None = None) -> list[str]:
    """Event names from a monitor PAIR for ``wait_ms`` (or until the event ``until``)."""
    parse = importlib.import_module(f"{lib.__name__}.utils.monitor").recv_monitor_message
    names: list[str] = []
    deadline = time.monotonic() + wait_ms / 1000
    while (left := deadline - time.monotonic()) > 0 and monitor.poll(int(left * 1000) + 1):
        names.append(lib.Event(parse(monitor)["event"]).name)
        if names[-1] == until:
            break
    return names


# -- SOCKS5 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "credentials", "address_type"),
    [
        ("127.0.0.1", None, 1),
        ("localhost", None, 3),  # A name goes to the proxy unresolved (address type 3).
        ("127.0.0.1", (b"zmq-user", b"secret"), 1),
    ],
    ids=["ipv4", "domain", "username-password"],
)
def test_socks5_connect(
    lib: ModuleType,
    ctx: Any,
    peer_ctx: Any,
    host: str,
    credentials: tuple[bytes, bytes] | None,
    address_type: int,
) -> None:
    proxy = Socks5Server(credentials=credentials)
    try:
        pull = _sock(peer_ctx, pyzmq.PULL)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push = _sock(ctx, lib.PUSH)
        push.setsockopt(lib.SOCKS_PROXY, proxy.address.encode())
        if credentials is not None:
            push.setsockopt(lib.SOCKS_USERNAME, credentials[0])
            push.setsockopt(lib.SOCKS_PASSWORD, credentials[1])
        push.connect(f"tcp://{host}:{port}")
        push.send_multipart([b"through", b"the proxy"])
        assert pull.recv_multipart() == [b"through", b"the proxy"]
        [request] = proxy.wait_for_requests(1)
        assert request.methods == (b"\x02" if credentials else b"\x00")
        assert (request.username, request.password) == (credentials or (None, None))
        assert (request.address_type, request.host, request.port) == (address_type, host, port)
    finally:
        proxy.close()


@pytest.mark.parametrize("refusal", ["connection-refused", "wrong-password"])
def test_socks5_refusal_means_retrying(lib: ModuleType, ctx: Any, refusal: str) -> None:
    """A proxy that refuses: the attempt's socket is closed and the connect tried again later,
    as libzmq does (seen in its monitor: CLOSED, CONNECT_RETRIED, again); nothing is
    delivered. purezmq only: libzmq 4.3.5 aborts the process ("Bad file descriptor",
    epoll.cpp) when a socket whose SOCKS connect was refused is closed, or at once when the
    proxy refuses its password."""
    if lib is pyzmq:
        pytest.skip("libzmq 4.3.5 aborts after a SOCKS refusal (a descriptor closed twice)")
    if refusal == "wrong-password":
        proxy = Socks5Server(credentials=(b"user", b"right"))
    else:
        proxy = Socks5Server(reply=5)
    try:
        push = _sock(ctx, lib.PUSH)
        push.reconnect_ivl = 20
        push.setsockopt(lib.SOCKS_PROXY, proxy.address.encode())
        if refusal == "wrong-password":
            push.setsockopt(lib.SOCKS_USERNAME, b"user")
            push.setsockopt(lib.SOCKS_PASSWORD, b"wrong")
        monitor = push.get_monitor_socket()
        push.connect("tcp://127.0.0.1:9")
        assert len(proxy.wait_for_requests(3)) >= 3
        names = _events(lib, monitor, 300)
        assert "CLOSED" in names and "CONNECT_RETRIED" in names
        assert "HANDSHAKE_SUCCEEDED" not in names
    finally:
        proxy.close()


def test_socks_proxy_option_round_trip(lib: ModuleType, ctx: Any) -> None:
    push = _sock(ctx, lib.PUSH)
    push.setsockopt(lib.SOCKS_PROXY, b"127.0.0.1:1080")
    assert push.getsockopt(lib.SOCKS_PROXY) == b"127.0.0.1:1080"
    with pytest.raises(TypeError):
        push.setsockopt(lib.SOCKS_PROXY, 5)


# -- TCP_ACCEPT_FILTER and IPC_FILTER_* ------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "admitted"),
    [([], True), ([b"127.0.0.1"], True), ([b"127.0.0.0/8"], True), ([b"10.0.0.0/8"], False)],
    ids=["none", "host", "network", "other-network"],
)
def test_tcp_accept_filter(
    lib: ModuleType, ctx: Any, peer_ctx: Any, filters: list[bytes], admitted: bool
) -> None:
    pull = _sock(ctx, lib.PULL)
    for network in filters:
        pull.setsockopt(lib.TCP_ACCEPT_FILTER, network)
    monitor = pull.get_monitor_socket()
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = _sock(peer_ctx, pyzmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"knock")
    if admitted:
        assert pull.recv() == b"knock"
        assert "ACCEPT_FAILED" not in _events(lib, monitor, 50)
    else:
        assert pull.poll(300) == 0
        # libzmq's listener says ACCEPT_FAILED (EAGAIN) for each refused connection.
        assert "ACCEPT_FAILED" in _events(lib, monitor, WAIT_MS, until="ACCEPT_FAILED")


def test_tcp_accept_filter_ipv6(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 here")
    outcomes = []
    for network in (b"::1", b"fe80::/10"):
        pull = _sock(ctx, lib.PULL)
        pull.ipv6 = 1
        pull.setsockopt(lib.TCP_ACCEPT_FILTER, network)
        port = pull.bind_to_random_port("tcp://[::1]")
        push = _sock(peer_ctx, pyzmq.PUSH)
        push.ipv6 = 1
        push.connect(f"tcp://[::1]:{port}")
        push.send(b"six")
        outcomes.append(pull.poll(300 if network != b"::1" else WAIT_MS))
        pull.close()
        push.close()
    assert outcomes == [pyzmq.POLLIN, 0]


@pytest.mark.parametrize("bad", [b"", b"not-an-address", b"127.0.0.1/33"])
def test_tcp_accept_filter_bad_values(lib: ModuleType, ctx: Any, bad: bytes) -> None:
    pull = _sock(ctx, lib.PULL)
    with pytest.raises(lib.ZMQError) as info:
        pull.setsockopt(lib.TCP_ACCEPT_FILTER, bad)
    assert info.value.errno == errno.EINVAL


@pytest.mark.parametrize(
    ("option", "value", "admitted"),
    [
        ("IPC_FILTER_UID", os.getuid(), True),
        ("IPC_FILTER_UID", os.getuid() + 4242, False),
        ("IPC_FILTER_GID", os.getgid(), True),
        ("IPC_FILTER_GID", os.getgid() + 4242, False),
        ("IPC_FILTER_PID", os.getpid(), True),
        ("IPC_FILTER_PID", 1, False),
    ],
)
def test_ipc_filters(
    lib: ModuleType,
    ctx: Any,
    peer_ctx: Any,
    ipc_endpoint: str,
    option: str,
    value: int,
    admitted: bool,
) -> None:
    pull = _sock(ctx, lib.PULL)
    pull.setsockopt(getattr(lib, option), value)
    pull.bind(ipc_endpoint)
    push = _sock(peer_ctx, pyzmq.PUSH)
    push.connect(ipc_endpoint)
    push.send(b"local")
    assert bool(pull.poll(WAIT_MS if admitted else 300)) is admitted


# -- USE_FD ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_use_fd_binds_the_given_listening_socket(
    lib: ModuleType, ctx: Any, peer_ctx: Any, transport: str, ipc_endpoint: str
) -> None:
    if transport == "tcp":
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        real = f"tcp://127.0.0.1:{listening.getsockname()[1]}"
        given = "tcp://127.0.0.1:1"  # (Not where it listens: the descriptor wins, as libzmq.)
    else:
        listening = socket.socket(socket.AF_UNIX)
        path = ipc_endpoint.removeprefix("ipc://")
        listening.bind(path)
        real, given = ipc_endpoint, ipc_endpoint + "-unused"
    listening.listen(8)
    pull = _sock(ctx, lib.PULL)
    pull.setsockopt(lib.USE_FD, listening.fileno())
    assert pull.getsockopt(lib.USE_FD) == listening.fileno()
    pull.bind(given)
    assert pull.last_endpoint.decode() == real
    push = _sock(peer_ctx, pyzmq.PUSH)
    push.connect(real)
    push.send(b"socket activation")
    assert pull.recv() == b"socket activation"
    listening.detach()  # The zmq socket owns the descriptor now (it closes it).


def test_purezmq_use_fd_errors(ipc_endpoint: str) -> None:
    """libzmq aborts the process on a descriptor that is not open; purezmq says EBADF, and
    EINVAL for a descriptor of the wrong kind."""
    ctx = purezmq.Context()
    try:
        pull = _sock(ctx, purezmq.PULL)
        with socket.socket() as closed:
            fd = closed.fileno()
        pull.setsockopt(purezmq.USE_FD, fd)
        with pytest.raises(purezmq.ZMQError) as info:
            pull.bind("tcp://127.0.0.1:*")
        assert info.value.errno == errno.EBADF
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagram:
            pull.setsockopt(purezmq.USE_FD, datagram.fileno())
            with pytest.raises(purezmq.ZMQError) as info:
                pull.bind("tcp://127.0.0.1:*")
            assert info.value.errno == errno.EINVAL
            with pytest.raises(purezmq.ZMQError) as info:
                pull.bind(ipc_endpoint)
            assert info.value.errno == errno.EINVAL
            datagram.getsockname()  # Still the caller's, still open.
    finally:
        ctx.destroy(linger=0)


# -- BINDTODEVICE ---------------------------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="SO_BINDTODEVICE needs CAP_NET_RAW")


@needs_root
def test_bindtodevice_lo(lib: ModuleType, ctx: Any, peer_ctx: Any) -> None:
    pull = _sock(ctx, lib.PULL)
    pull.setsockopt(lib.BINDTODEVICE, b"lo")
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = _sock(ctx, lib.PUSH)
    push.setsockopt(lib.BINDTODEVICE, b"lo")
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"on lo")
    assert pull.recv() == b"on lo"


@needs_root
def test_bindtodevice_unknown_device(lib: ModuleType, ctx: Any) -> None:
    pull = _sock(ctx, lib.PULL)
    pull.setsockopt(lib.BINDTODEVICE, b"nosuchdev0")
    with pytest.raises(lib.ZMQError) as info:
        pull.bind_to_random_port("tcp://127.0.0.1")
    assert info.value.errno == errno.ENODEV
    push = _sock(ctx, lib.PUSH)
    push.reconnect_ivl = 20
    push.setsockopt(lib.BINDTODEVICE, b"nosuchdev0")
    monitor = push.get_monitor_socket()
    push.connect("tcp://127.0.0.1:9")
    names = _events(lib, monitor, 300)
    # The socket cannot be made: retried, never even delayed.
    assert names.count("CONNECT_RETRIED") >= 2
    assert "CONNECTED" not in names and "CONNECT_DELAYED" not in names


# -- RECONNECT_STOP -------------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [0, 1], ids=["default", "conn-refused"])
def test_reconnect_stop_conn_refused(lib: ModuleType, ctx: Any, stop: int) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]  # Nobody listens there.
    push = _sock(ctx, lib.PUSH)
    push.reconnect_ivl = 20
    push.setsockopt(lib.RECONNECT_STOP, stop * int(lib.RECONNECT_STOP_CONN_REFUSED))
    monitor = push.get_monitor_socket()
    push.connect(f"tcp://127.0.0.1:{port}")
    names = _events(lib, monitor, 400)
    assert names[:2] == ["CONNECT_DELAYED", "CLOSED"]
    if stop:
        assert names == ["CONNECT_DELAYED", "CLOSED"]
    else:
        assert names.count("CONNECT_RETRIED") >= 2


class GarbageServer:
    """A tcp server that answers every connection with bytes that are not ZMTP, and counts."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            try:
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
                conn.recv(100)
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("stop", [0, 2], ids=["default", "handshake-failed"])
def test_reconnect_stop_handshake_failed(lib: ModuleType, ctx: Any, stop: int) -> None:
    server = GarbageServer()
    try:
        push = _sock(ctx, lib.PUSH)
        push.reconnect_ivl = 20
        push.setsockopt(lib.RECONNECT_STOP, stop)
        push.connect(f"tcp://127.0.0.1:{server.port}")
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and (stop or server.connections < 3):
            time.sleep(0.01)
        if stop:
            assert server.connections == 1
        else:
            assert server.connections >= 3
    finally:
        server.close()


@pytest.mark.parametrize("stop", [0, 4], ids=["default", "after-disconnect"])
def test_purezmq_reconnect_stop_after_disconnect(stop: int) -> None:
    """After disconnect(), nothing is tried again, as the manual has it for
    RECONNECT_STOP_AFTER_DISCONNECT; purezmq stops then with or without it. (pyzmq's libzmq
    4.3.5, built without the draft API, goes on reconnecting to an endpoint disconnected while
    its handshakes fail, with the option or without.)"""
    lib = purezmq
    ctx = purezmq.Context()
    server = GarbageServer()
    try:
        push = _sock(ctx, lib.PUSH)
        push.reconnect_ivl = 20
        push.setsockopt(lib.RECONNECT_STOP, stop)
        endpoint = f"tcp://127.0.0.1:{server.port}"
        push.connect(endpoint)
        deadline = time.monotonic() + WAIT_MS / 1000
        while server.connections < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        push.disconnect(endpoint)
        seen = server.connections
        time.sleep(0.2)  # Several reconnect intervals: none may come.
        assert server.connections == seen
    finally:
        server.close()
        ctx.destroy(linger=0)


# -- the same on purezmq.asyncio ----------------------------------------------------------------


def _run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


class TestAsyncio:
    def test_socks5_connect(self, pyctx: Any) -> None:
        import purezmq.asyncio as pza

        proxy = Socks5Server(credentials=(b"u", b"p"))
        pull = _sock(pyctx, pyzmq.PULL)
        port = pull.bind_to_random_port("tcp://127.0.0.1")

        async def main() -> None:
            ctx = pza.Context()
            push = ctx.socket(purezmq.PUSH)
            push.setsockopt(purezmq.SOCKS_PROXY, proxy.address.encode())
            push.setsockopt(purezmq.SOCKS_USERNAME, b"u")
            push.setsockopt(purezmq.SOCKS_PASSWORD, b"p")
            push.connect(f"tcp://localhost:{port}")
            await push.send(b"async through socks")
            got = await asyncio.get_running_loop().run_in_executor(None, pull.recv)
            assert got == b"async through socks"
            push.close(linger=0)
            ctx.term()

        try:
            _run(main())
            [request] = proxy.wait_for_requests(1)
            assert (request.address_type, request.host, request.port) == (3, "localhost", port)
            assert (request.username, request.password) == (b"u", b"p")
        finally:
            proxy.close()

    def test_socks5_refused_retries(self) -> None:
        import purezmq.asyncio as pza

        proxy = Socks5Server(reply=5)

        async def main() -> None:
            ctx = pza.Context()
            push = ctx.socket(purezmq.PUSH)
            push.reconnect_ivl = 20
            push.setsockopt(purezmq.SOCKS_PROXY, proxy.address.encode())
            push.connect("tcp://127.0.0.1:9")
            loop = asyncio.get_running_loop()
            requests = await loop.run_in_executor(None, proxy.wait_for_requests, 3)
            assert len(requests) >= 3
            push.close(linger=0)
            ctx.term()

        try:
            _run(main())
        finally:
            proxy.close()

    @pytest.mark.parametrize("network", [b"127.0.0.0/8", b"10.0.0.0/8"])
    def test_tcp_accept_filter(self, network: bytes, pyctx: Any) -> None:
        import purezmq.asyncio as pza

        admitted = network == b"127.0.0.0/8"

        async def main() -> None:
            ctx = pza.Context()
            pull = ctx.socket(purezmq.PULL)
            pull.setsockopt(purezmq.TCP_ACCEPT_FILTER, network)
            port = pull.bind_to_random_port("tcp://127.0.0.1")
            push = _sock(pyctx, pyzmq.PUSH)
            push.connect(f"tcp://127.0.0.1:{port}")
            push.send(b"knock")
            ready = await pull.poll(WAIT_MS if admitted else 300)
            assert bool(ready) is admitted
            if admitted:
                assert await pull.recv() == b"knock"
            pull.close(linger=0)
            ctx.term()

        _run(main())

    def test_ipc_filter_uid(self, ipc_endpoint: str, pyctx: Any) -> None:
        import purezmq.asyncio as pza

        async def main() -> list[int]:
            ctx = pza.Context()
            results = []
            for n, uid in enumerate((os.getuid() + 4242, os.getuid())):
                endpoint = f"{ipc_endpoint}-{n}"
                pull = ctx.socket(purezmq.PULL)
                pull.setsockopt(purezmq.IPC_FILTER_UID, uid)
                pull.bind(endpoint)
                push = _sock(pyctx, pyzmq.PUSH)
                push.connect(endpoint)
                push.send(b"local")
                results.append(await pull.poll(WAIT_MS if uid == os.getuid() else 300))
                pull.close(linger=0)
            ctx.term()
            return results

        assert _run(main()) == [0, purezmq.POLLIN]

    def test_use_fd(self, pyctx: Any) -> None:
        import purezmq.asyncio as pza

        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        real = f"tcp://127.0.0.1:{listening.getsockname()[1]}"

        async def main() -> None:
            ctx = pza.Context()
            pull = ctx.socket(purezmq.PULL)
            pull.setsockopt(purezmq.USE_FD, listening.detach())
            pull.bind("tcp://127.0.0.1:1")
            assert pull.last_endpoint.decode() == real
            push = _sock(pyctx, pyzmq.PUSH)
            push.connect(real)
            push.send(b"adopted")
            assert await asyncio.wait_for(pull.recv(), WAIT_MS / 1000) == b"adopted"
            pull.close(linger=0)
            ctx.term()

        _run(main())

    @needs_root
    def test_bindtodevice(self) -> None:
        import purezmq.asyncio as pza

        async def main() -> None:
            ctx = pza.Context()
            pull = ctx.socket(purezmq.PULL)
            pull.setsockopt(purezmq.BINDTODEVICE, b"lo")
            port = pull.bind_to_random_port("tcp://127.0.0.1")
            push = ctx.socket(purezmq.PUSH)
            push.setsockopt(purezmq.BINDTODEVICE, b"lo")
            push.connect(f"tcp://127.0.0.1:{port}")
            await push.send(b"on lo")
            assert await asyncio.wait_for(pull.recv(), WAIT_MS / 1000) == b"on lo"
            bad = ctx.socket(purezmq.PULL)
            bad.setsockopt(purezmq.BINDTODEVICE, b"nosuchdev0")
            with pytest.raises(purezmq.ZMQError) as info:
                bad.bind_to_random_port("tcp://127.0.0.1")
            assert info.value.errno == errno.ENODEV
            for sock in (pull, push, bad):
                sock.close(linger=0)
            ctx.term()

        _run(main())

    @pytest.mark.parametrize("stop", [0, 2], ids=["default", "handshake-failed"])
    def test_reconnect_stop_handshake_failed(self, stop: int) -> None:
        import purezmq.asyncio as pza

        server = GarbageServer()

        async def main() -> None:
            ctx = pza.Context()
            push = ctx.socket(purezmq.PUSH)
            push.reconnect_ivl = 20
            push.setsockopt(purezmq.RECONNECT_STOP, stop)
            push.connect(f"tcp://127.0.0.1:{server.port}")
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline and (stop or server.connections < 3):
                await asyncio.sleep(0.01)
            push.close(linger=0)
            ctx.term()

        try:
            _run(main())
            if stop:
                assert server.connections == 1
            else:
                assert server.connections >= 3
        finally:
            server.close()

    def test_reconnect_stop_conn_refused(self) -> None:
        import purezmq.asyncio as pza

        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            port = holder.getsockname()[1]

        async def main() -> list[str]:
            ctx = pza.Context()
            push = ctx.socket(purezmq.PUSH)
            push.reconnect_ivl = 20
            push.setsockopt(purezmq.RECONNECT_STOP, int(purezmq.RECONNECT_STOP_CONN_REFUSED))
            push._core.monitor("inproc://stop-refused")
            pair = ctx.socket(purezmq.PAIR)
            pair.connect("inproc://stop-refused")
            push.connect(f"tcp://127.0.0.1:{port}")
            names = []
            from purezmq.utils.monitor import parse_monitor_message

            while await pair.poll(300):
                event = parse_monitor_message(await pair.recv_multipart())["event"]
                names.append(purezmq.Event(event).name)
            for sock in (push, pair):
                sock.close(linger=0)
            ctx.term()
            return names

        assert _run(main()) == ["CONNECT_DELAYED", "CLOSED"]

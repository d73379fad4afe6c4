"""Transport semantics: tcp (IPv4/IPv6, wildcards, interface and host names), ipc (paths,
abstract names, stale files), inproc (connect-before-bind, per-context namespace), and
bind/unbind/connect/disconnect/reconnect behaviour.

Expectations are libzmq's (run with PUREZMQ_TEST_IMPL=zmq to check them against pyzmq).
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import threading
import time
import uuid

import pytest
from zmq.utils.monitor import recv_monitor_message

from ._helpers import (
    DEADLINE_S,
    assert_silent,
    drain,
    free_tcp_port,
    make,
    port_of,
    recv,
)

pytestmark = pytest.mark.timeout(30)


def _ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback")
linux_only = pytest.mark.skipif(not os.uname().sysname == "Linux", reason="Linux only")


def _assert_flow(sender, receiver, payload: bytes = b"hello") -> None:
    sender.send(payload)
    assert recv(receiver) == [payload]


# ==================================================================================================
# tcp


def test_bind_wildcard_host_and_port(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(ctx, zmq_impl.PULL)
    pull.bind("tcp://*:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://0.0.0.0:"), endpoint
    port = port_of(endpoint)
    assert 0 < port < 65536

    push = make(pyctx, pyzmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    _assert_flow(push, pull)


@pytest.mark.parametrize("host", ["lo", "localhost", "127.0.0.1"])
def test_bind_interface_host_or_address_with_wildcard_port(
    zmq_impl, ctx, pyctx, pyzmq, host: str
) -> None:
    pull = make(ctx, zmq_impl.PULL)
    pull.bind(f"tcp://{host}:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://127.0.0.1:"), endpoint
    port = port_of(endpoint)
    assert 0 < port < 65536

    push = make(pyctx, pyzmq.PUSH)
    push.connect(endpoint)
    _assert_flow(push, pull)


@needs_ipv6
def test_ipv6_bind_loopback_pyzmq_connects(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(ctx, zmq_impl.PULL, ipv6=1)
    pull.bind("tcp://[::1]:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://[::1]:"), endpoint

    push = make(pyctx, pyzmq.PUSH, ipv6=1)
    push.connect(endpoint)
    _assert_flow(push, pull, b"over ipv6")

    # And the other way on the same connection kind: zmq_impl sends to a pyzmq receiver.
    pub_side = make(ctx, zmq_impl.PUSH, ipv6=1)
    pub_side.bind("tcp://[::1]:*")
    sink = make(pyctx, pyzmq.PULL, ipv6=1)
    sink.connect(pub_side.last_endpoint.decode())
    _assert_flow(pub_side, sink, b"back over ipv6")


@needs_ipv6
def test_ipv6_connect_to_pyzmq_bound_loopback(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(pyctx, pyzmq.PULL, ipv6=1)
    pull.bind("tcp://[::1]:*")
    endpoint = pull.last_endpoint.decode()

    push = make(ctx, zmq_impl.PUSH, ipv6=1)
    push.connect(endpoint)
    _assert_flow(push, pull, b"to pyzmq over ipv6")

    rep = make(pyctx, pyzmq.REP, ipv6=1)
    rep.bind("tcp://[::1]:*")
    req = make(ctx, zmq_impl.REQ, ipv6=1)
    req.connect(rep.last_endpoint.decode())
    req.send(b"ping")
    assert recv(rep) == [b"ping"]
    rep.send(b"pong")
    assert recv(req) == [b"pong"]


@needs_ipv6
def test_ipv6_wildcard_bind_accepts_ipv4_and_ipv6(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(ctx, zmq_impl.PULL, ipv6=1)
    pull.bind("tcp://*:*")
    endpoint = pull.last_endpoint.decode()
    assert endpoint.startswith("tcp://[::]:"), endpoint
    port = port_of(endpoint)

    push4 = make(pyctx, pyzmq.PUSH)  # IPv4-only peer
    push4.connect(f"tcp://127.0.0.1:{port}")
    _assert_flow(push4, pull, b"from ipv4")

    push6 = make(pyctx, pyzmq.PUSH, ipv6=1)
    push6.connect(f"tcp://[::1]:{port}")
    _assert_flow(push6, pull, b"from ipv6")


def test_ipv6_address_without_ipv6_option_fails(zmq_impl, ctx) -> None:
    sock = make(ctx, zmq_impl.PULL)
    assert sock.ipv6 == 0
    with pytest.raises(zmq_impl.ZMQError) as info:
        sock.bind("tcp://[::1]:*")
    assert info.value.errno == errno.ENODEV  # what libzmq 4.3.5 says


def test_bind_to_random_port(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(ctx, zmq_impl.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1", min_port=20000, max_port=60000)
    assert isinstance(port, int)
    assert 20000 <= port < 60000
    assert pull.last_endpoint.decode() == f"tcp://127.0.0.1:{port}"
    push = make(pyctx, pyzmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    _assert_flow(push, pull)

    # Default range, and a second socket gets a different port.
    other = make(ctx, zmq_impl.PULL)
    port2 = other.bind_to_random_port("tcp://127.0.0.1")
    assert isinstance(port2, int) and port2 != port
    assert port_of(other.last_endpoint) == port2


def test_connect_to_hostname_localhost(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(pyctx, pyzmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = make(ctx, zmq_impl.PUSH)
    push.connect(f"tcp://localhost:{port}")
    assert push.last_endpoint == f"tcp://localhost:{port}".encode()
    _assert_flow(push, pull, b"via localhost")


# ==================================================================================================
# ipc


def test_ipc_filesystem_path(zmq_impl, ctx, pyctx, pyzmq, ipc_endpoint: str) -> None:
    path = ipc_endpoint[len("ipc://") :]
    pull = make(ctx, zmq_impl.PULL)
    pull.bind(ipc_endpoint)
    assert pull.last_endpoint.decode() == ipc_endpoint
    assert stat.S_ISSOCK(os.stat(path).st_mode)

    push = make(pyctx, pyzmq.PUSH)
    push.connect(ipc_endpoint)
    _assert_flow(push, pull, b"over ipc")

    # And zmq_impl connecting to a pyzmq-bound path.
    other = ipc_endpoint + ".2"
    sink = make(pyctx, pyzmq.PULL)
    sink.bind(other)
    src = make(ctx, zmq_impl.PUSH)
    src.connect(other)
    _assert_flow(src, sink, b"to pyzmq over ipc")


@linux_only
@pytest.mark.parametrize("impl_binds", [True, False], ids=["impl_binds", "pyzmq_binds"])
def test_ipc_abstract_namespace(zmq_impl, ctx, pyctx, pyzmq, impl_binds: bool) -> None:
    endpoint = f"ipc://@purezmq-test-{uuid.uuid4().hex}"
    if impl_binds:
        binder, connecter = make(ctx, zmq_impl.PAIR), make(pyctx, pyzmq.PAIR)
    else:
        binder, connecter = make(pyctx, pyzmq.PAIR), make(ctx, zmq_impl.PAIR)
    binder.bind(endpoint)
    assert binder.last_endpoint.decode() == endpoint
    connecter.connect(endpoint)
    _assert_flow(connecter, binder, b"to binder")
    _assert_flow(binder, connecter, b"to connecter")
    # No file is created for an abstract name.
    assert not os.path.exists("@" + endpoint[len("ipc://@") :])


def test_ipc_rebind_over_stale_socket_file(zmq_impl, ctx, pyctx, pyzmq, ipc_endpoint: str) -> None:
    path = ipc_endpoint[len("ipc://") :]
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # leaves the socket file behind, nobody listening
    assert stat.S_ISSOCK(os.stat(path).st_mode)

    pull = make(ctx, zmq_impl.PULL)
    pull.bind(ipc_endpoint)
    push = make(pyctx, pyzmq.PUSH)
    push.connect(ipc_endpoint)
    _assert_flow(push, pull, b"after stale file")


# ==================================================================================================
# inproc


def test_inproc_connect_before_bind(zmq_impl, ctx) -> None:
    endpoint = f"inproc://cbb-{uuid.uuid4().hex}"
    push = make(ctx, zmq_impl.PUSH)
    push.connect(endpoint)
    for i in range(3):
        push.send(b"early-%d" % i, zmq_impl.NOBLOCK)  # queued before any binder exists
    pull = make(ctx, zmq_impl.PULL)
    pull.bind(endpoint)
    assert [recv(pull) for _ in range(3)] == [[b"early-0"], [b"early-1"], [b"early-2"]]
    _assert_flow(push, pull, b"late")


def test_inproc_bind_twice_same_name(zmq_impl, ctx) -> None:
    endpoint = f"inproc://twice-{uuid.uuid4().hex}"
    first = make(ctx, zmq_impl.PULL)
    first.bind(endpoint)
    second = make(ctx, zmq_impl.PULL)
    with pytest.raises(zmq_impl.ZMQError) as info:
        second.bind(endpoint)
    assert info.value.errno == errno.EADDRINUSE
    # The same socket binding it again is refused too.
    with pytest.raises(zmq_impl.ZMQError) as info:
        first.bind(endpoint)
    assert info.value.errno == errno.EADDRINUSE


def test_inproc_many_connecters(zmq_impl, ctx) -> None:
    endpoint = f"inproc://many-{uuid.uuid4().hex}"
    pull = make(ctx, zmq_impl.PULL)
    pull.bind(endpoint)
    pushes = []
    for _ in range(20):
        push = make(ctx, zmq_impl.PUSH)
        push.connect(endpoint)
        pushes.append(push)
    for i, push in enumerate(pushes):
        push.send(b"from-%d" % i)
    got = sorted(recv(pull)[0] for _ in pushes)
    assert got == sorted(b"from-%d" % i for i in range(20))
    assert_silent(pull, 100)


def test_inproc_pair_between_threads(zmq_impl, ctx) -> None:
    endpoint = f"inproc://pair-{uuid.uuid4().hex}"
    bound = threading.Event()
    done = threading.Event()
    errors: list[BaseException] = []

    def echo() -> None:
        try:
            sock = make(ctx, zmq_impl.PAIR)
            try:
                sock.bind(endpoint)
                bound.set()
                while True:
                    msg = recv(sock)
                    sock.send_multipart(msg)
                    if msg == [b"stop"]:
                        break
                done.wait(DEADLINE_S)  # close only once the main thread has the last echo
            finally:
                sock.close()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
            bound.set()

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    assert bound.wait(DEADLINE_S)
    pair = make(ctx, zmq_impl.PAIR)
    pair.connect(endpoint)
    for i in range(50):
        pair.send_multipart([b"msg", b"%d" % i])
        assert recv(pair) == [b"msg", b"%d" % i]
    pair.send(b"stop")
    try:
        assert recv(pair) == [b"stop"]
    finally:
        done.set()
    thread.join(DEADLINE_S)
    assert not thread.is_alive()
    assert not errors, errors


def test_inproc_is_per_context(zmq_impl, ctx) -> None:
    endpoint = f"inproc://private-{uuid.uuid4().hex}"
    pull_a = make(ctx, zmq_impl.PULL)
    pull_a.bind(endpoint)

    other = zmq_impl.Context()
    try:
        # The name is free in the other context ...
        pull_b = make(other, zmq_impl.PULL)
        pull_b.bind(endpoint)
        # ... and a connecter there reaches that context's binder only.
        push_b = make(other, zmq_impl.PUSH)
        push_b.connect(endpoint)
        push_b.send(b"context b")
        assert recv(pull_b) == [b"context b"]
        assert_silent(pull_a)

        # A connecter in a context where the name is unbound never reaches the first context.
        third = zmq_impl.Context()
        try:
            push_c = make(third, zmq_impl.PUSH)
            push_c.connect(endpoint)
            push_c.send(b"context c", zmq_impl.NOBLOCK)  # queued for a future binder
            assert_silent(pull_a)
            assert_silent(pull_b, 50)
        finally:
            third.destroy(linger=0)
    finally:
        other.destroy(linger=0)


# ==================================================================================================
# bind / unbind / connect / disconnect at any time


def _wait_event(monitor, event: int, kick=None, timeout_s: float = DEADLINE_S) -> None:
    """Wait for a pyzmq monitor event, touching ``kick`` meanwhile (libzmq completes the
    teardown of a socket's pipes only when its owner thread processes commands)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if kick is not None:
            kick.poll(0)
        if monitor.poll(50):
            if recv_monitor_message(monitor)["event"] == event:
                return
    raise AssertionError(f"monitor event {event} not seen within {timeout_s}s")


def _refused(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
    return False


def test_unbind_closes_listener_and_accepted_connections(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull = make(ctx, zmq_impl.PULL)
    pull.bind("tcp://127.0.0.1:*")
    endpoint = pull.last_endpoint.decode()
    port = port_of(endpoint)

    push = make(pyctx, pyzmq.PUSH, reconnect_ivl=50)
    monitor = push.get_monitor_socket(pyzmq.EVENT_CONNECTED | pyzmq.EVENT_DISCONNECTED)
    monitor.rcvtimeo = 1000
    push.connect(endpoint)
    _wait_event(monitor, pyzmq.EVENT_CONNECTED)
    _assert_flow(push, pull, b"before unbind")

    pull.unbind(endpoint)
    # The accepted connection is closed by the unbind ...
    _wait_event(monitor, pyzmq.EVENT_DISCONNECTED, kick=pull)
    # ... and the endpoint refuses new connections (the close may take a moment to happen).
    deadline = time.monotonic() + DEADLINE_S
    while not _refused(port):
        assert time.monotonic() < deadline, "unbound endpoint still accepts connections"
        time.sleep(0.01)
    assert _refused(port)

    # Nothing the pyzmq peer sends gets through now.
    push.send(b"while unbound", pyzmq.NOBLOCK)
    assert_silent(pull)

    # Rebinding the same endpoint works and the peer's reconnect brings traffic back.
    pull.bind(endpoint)
    _wait_event(monitor, pyzmq.EVENT_CONNECTED)
    push.send(b"after rebind")
    got = [recv(pull)]
    while got[-1] != [b"after rebind"]:
        got.append(recv(pull))
    assert got in ([[b"after rebind"]], [[b"while unbound"], [b"after rebind"]]), got
    monitor.close()


def test_disconnect_stops_sending_to_that_peer(zmq_impl, ctx, pyctx, pyzmq) -> None:
    pull_a = make(pyctx, pyzmq.PULL)
    ep_a = f"tcp://127.0.0.1:{pull_a.bind_to_random_port('tcp://127.0.0.1')}"
    pull_b = make(pyctx, pyzmq.PULL)
    ep_b = f"tcp://127.0.0.1:{pull_b.bind_to_random_port('tcp://127.0.0.1')}"

    push = make(ctx, zmq_impl.PUSH)
    push.connect(ep_a)
    push.connect(ep_b)
    # Round-robin over the two pipes: one probe reaches each peer.
    push.send(b"probe")
    push.send(b"probe")
    assert recv(pull_a) == [b"probe"]
    assert recv(pull_b) == [b"probe"]
    assert drain(pull_a) == [] and drain(pull_b) == []

    push.disconnect(ep_a)
    for i in range(20):
        push.send(b"%d" % i)
    assert [recv(pull_b) for _ in range(20)] == [[b"%d" % i] for i in range(20)]
    assert_silent(pull_a)
    assert_silent(pull_b, 50)

    # The endpoint is no longer known to the socket.
    with pytest.raises(zmq_impl.ZMQError) as info:
        push.disconnect(ep_a)
    assert info.value.errno == errno.ENOENT


def test_unbind_unknown_endpoint_is_enoent(zmq_impl, ctx) -> None:
    sock = make(ctx, zmq_impl.PULL)
    with pytest.raises(zmq_impl.ZMQError) as info:
        sock.unbind(f"tcp://127.0.0.1:{free_tcp_port()}")
    assert info.value.errno == errno.ENOENT


# ==================================================================================================
# reconnection


def _rebind_raw_listener(port: int) -> socket.socket:
    """Bind a plain TCP socket to ``port`` (retrying while the previous owner releases it)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", port))
            return listener
        except OSError:
            listener.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@pytest.mark.parametrize("reconnect_ivl", [-1, 50])
def test_reconnect_ivl_minus_one_never_reconnects(
    zmq_impl, ctx, pyctx, pyzmq, reconnect_ivl: int
) -> None:
    """After the peer goes away, RECONNECT_IVL=-1 makes no new attempt (50 is the control)."""
    peer = make(pyctx, pyzmq.PULL)
    port = peer.bind_to_random_port("tcp://127.0.0.1")
    push = make(ctx, zmq_impl.PUSH, reconnect_ivl=reconnect_ivl)
    push.connect(f"tcp://127.0.0.1:{port}")
    _assert_flow(push, peer, b"while connected")

    peer.close(linger=0)  # the peer goes away
    listener = _rebind_raw_listener(port)
    try:
        listener.listen(8)
        listener.settimeout(0.8)
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            conn = None
        if conn is not None:
            conn.close()
    finally:
        listener.close()
    if reconnect_ivl == -1:
        assert conn is None, "RECONNECT_IVL=-1 reconnected"
    else:
        assert conn is not None, "RECONNECT_IVL=50 did not reconnect within 0.8 s"


def _accept_and_close_timestamps(port_listener: socket.socket, duration_s: float) -> list[float]:
    stamps: list[float] = []
    port_listener.settimeout(0.02)
    end = time.monotonic() + duration_s
    while time.monotonic() < end:
        try:
            conn, _ = port_listener.accept()
        except TimeoutError:
            continue
        stamps.append(time.monotonic())
        conn.close()
    return stamps


@pytest.mark.parametrize("ivl_max", [0, 400])
def test_reconnect_interval_after_dropped_connections(zmq_impl, ctx, ivl_max: int) -> None:
    """A listener that accepts and closes at once: the connecter retries every ~RECONNECT_IVL.

    libzmq restarts its backoff after every connection that got through at TCP level, so the
    exponential backoff of RECONNECT_IVL_MAX does not build up here (attempts stay ~50 ms apart
    with RECONNECT_IVL_MAX=400); without a maximum the interval is 50 ms plus a random jitter of
    up to 50 ms.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        sock = make(ctx, zmq_impl.DEALER, reconnect_ivl=50, reconnect_ivl_max=ivl_max)
        sock.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
        stamps = _accept_and_close_timestamps(listener, 1.0)
    finally:
        listener.close()
    gaps_ms = [(b - a) * 1000 for a, b in zip(stamps[:-1], stamps[1:], strict=True)]
    assert len(stamps) >= 6, f"only {len(stamps)} attempts in 1 s: gaps {gaps_ms}"
    assert min(gaps_ms) >= 35, f"reconnected faster than RECONNECT_IVL: {gaps_ms}"
    assert sorted(gaps_ms)[len(gaps_ms) // 2] <= 150, f"reconnects too slow: {gaps_ms}"


@pytest.mark.parametrize("ivl_max", [0, 400])
def test_reconnect_backoff_while_refused(zmq_impl, ctx, ivl_max: int) -> None:
    """Refused attempts: with RECONNECT_IVL_MAX=400 the interval doubles from 50 up to 400 ms.

    Attempts at about 0, 50, 150, 350, 750, 1150 ms with backoff, so a listener that appears at
    800 ms is found ~350 ms later; without backoff (ivl_max=0) attempts are at most ~100 ms apart.
    """
    port = free_tcp_port()
    # Bound but not listening: connection attempts are refused, and nobody else takes the port.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    try:
        sock = make(ctx, zmq_impl.DEALER, reconnect_ivl=50, reconnect_ivl_max=ivl_max)
        t0 = time.monotonic()
        sock.connect(f"tcp://127.0.0.1:{port}")
        # Deliberate schedule, not a wait for an event: the listener appears at t0 + 0.8 s.
        time.sleep(max(0.0, t0 + 0.8 - time.monotonic()))
        listener.listen(8)
        t_listen = time.monotonic()
        listener.settimeout(3.0)
        conn, _ = listener.accept()
        delay_ms = (time.monotonic() - t_listen) * 1000
        conn.close()
    finally:
        listener.close()
    if ivl_max == 0:
        assert delay_ms < 180, f"no backoff expected, but the next attempt took {delay_ms:.0f} ms"
    else:
        assert 200 <= delay_ms <= 650, f"backoff to 400 ms expected, got {delay_ms:.0f} ms"

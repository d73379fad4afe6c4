"""STREAM sockets (issue 15): raw tcp and ipc connections, no ZMTP, each known by a routing id.

The behaviour tests run the same body on pyzmq (libzmq 4.3.5, the reference) and on purezmq's
blocking sockets (the threaded engine), against plain Python sockets as the raw peers. Then a
purezmq STREAM talks to a pyzmq STREAM in both directions over tcp and ipc, serves HTTP to
``http.client``/``urllib``, and fetches a page from ``http.server``. purezmq.asyncio's STREAM:
tests/aio/test_aio_stream.py.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import http.server
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import zmq

import purezmq

from ._util import bind_any, free_tcp_port, make_socket, recv_frames

pytestmark = pytest.mark.timeout(30)

LIBS = {"purezmq": purezmq, "pyzmq": zmq}
#: The peer's own socket timeout (s): far above loopback latency.
PEER_TIMEOUT = 5.0


@pytest.fixture(params=list(LIBS))
def lib(request: pytest.FixtureRequest) -> ModuleType:
    """The library under test: libzmq's behaviour is the reference."""
    return LIBS[request.param]


@pytest.fixture
def lctx(lib: ModuleType) -> Iterator[Any]:
    context = lib.Context()
    yield context
    context.destroy(linger=0)


def stream(context: Any, timeout_ms: int = 5000) -> Any:
    return make_socket(context, zmq.STREAM, timeout_ms)


def tcp_port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def raw_client(endpoint: str) -> socket.socket:
    """A plain socket connected to a tcp or ipc endpoint."""
    if endpoint.startswith("ipc://"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(endpoint[len("ipc://") :])
    else:
        sock = socket.create_connection(("127.0.0.1", tcp_port(endpoint)))
    sock.settimeout(PEER_TIMEOUT)
    return sock


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"connection ended after {len(data)} of {size} bytes"
        data += chunk
    return data


def read_to_eof(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def recv_data(sock: Any, routing_id: bytes, size: int) -> bytes:
    """What ``sock`` receives from ``routing_id`` until ``size`` bytes came (any chunking)."""
    data = b""
    while len(data) < size:
        rid, chunk = recv_frames(sock)
        assert rid == routing_id
        assert chunk, "the connection ended"
        data += chunk
    return data


def wait_unreachable(sock: Any, routing_id: bytes, lib: ModuleType) -> None:
    """Until sending to ``routing_id`` gets EHOSTUNREACH. (libzmq forgets a connection that
    ended once the socket has read past its end: meanwhile the id is known, its pipe full.)"""
    deadline = time.monotonic() + 5
    while True:
        try:
            sock.send(routing_id, zmq.SNDMORE | zmq.NOBLOCK)
        except lib.Again:
            pass
        except lib.ZMQError as exc:
            assert exc.errno == errno.EHOSTUNREACH
            return
        else:
            sock.send(b"x")  # (Still there: the pair is completed, then asked again.)
        assert time.monotonic() < deadline, "the routing id is still known"
        assert not sock.poll(10)  # (Nothing else to read, and libzmq reads past the end.)


@contextlib.contextmanager
def raw_listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(PEER_TIMEOUT)
    try:
        yield server
    finally:
        server.close()


# -- the same body on libzmq and purezmq ----------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_accepted_connections(
    lctx: Any, lib: ModuleType, transport: str, ipc_endpoint: str
) -> None:
    """Each connection gets a routing id of libzmq's form (a zero byte and a 32-bit counter),
    announced by an empty message; data comes as [id, data] and goes back by id; the peer
    leaving is an empty message too."""
    server = stream(lctx)
    endpoint = bind_any(server, transport, ipc_endpoint)
    assert server.getsockopt(zmq.ROUTING_ID) == b""
    first, second = raw_client(endpoint), raw_client(endpoint)
    rid1, hello = recv_frames(server)
    rid2, hello2 = recv_frames(server)
    assert hello == hello2 == b""
    for rid in (rid1, rid2):
        assert len(rid) == 5 and rid[0] == 0
    assert int.from_bytes(rid2[1:], "big") == (int.from_bytes(rid1[1:], "big") + 1) % 2**32
    # (libzmq: ROUTING_ID reads the id given last.)
    assert server.getsockopt(zmq.ROUTING_ID) == rid2
    first.sendall(b"from one")
    second.sendall(b"from two")
    got = {tuple(recv_frames(server)) for _ in range(2)}
    assert got == {(rid1, b"from one"), (rid2, b"from two")}
    server.send_multipart([rid2, b"to two"])
    server.send(rid1, zmq.SNDMORE)
    server.send(b"to one")
    assert read_exactly(first, 6) == b"to one"
    assert read_exactly(second, 6) == b"to two"
    first.close()
    assert recv_frames(server) == [rid1, b""]
    wait_unreachable(server, rid1, lib)
    second.close()
    assert recv_frames(server) == [rid2, b""]


def test_stream_notify_off(lctx: Any, lib: ModuleType) -> None:
    server = stream(lctx)
    server.setsockopt(zmq.STREAM_NOTIFY, 0)
    endpoint = bind_any(server, "tcp")
    client = raw_client(endpoint)
    client.sendall(b"first")
    rid, data = recv_frames(server)
    assert data == b"first"  # (Not an empty notification.)
    server.send_multipart([rid, b"back"])
    assert read_exactly(client, 4) == b"back"
    client.close()
    wait_unreachable(server, rid, lib)
    assert not server.poll(100)  # No notification of the end.


def test_unknown_routing_id(lctx: Any, lib: ModuleType) -> None:
    """An id no connection has: EHOSTUNREACH at the id frame (blocking or not), as libzmq."""
    server = stream(lctx)
    bind_any(server, "tcp")
    for flags in (zmq.SNDMORE, zmq.SNDMORE | zmq.NOBLOCK):
        with pytest.raises(lib.ZMQError) as info:
            server.send(b"\x00nope", flags)
        assert info.value.errno == errno.EHOSTUNREACH
    with pytest.raises(lib.ZMQError) as info:
        server.send_multipart([b"\x00nope", b"data"])
    assert info.value.errno == errno.EHOSTUNREACH


def test_frames_are_taken_in_pairs(lctx: Any) -> None:
    """libzmq reads frames as (id, data) pairs whatever the message: an extra frame takes the
    place of the next id (and is dropped with the frame after it); an id alone is dropped."""
    server = stream(lctx)
    endpoint = bind_any(server, "tcp")
    client = raw_client(endpoint)
    rid, _ = recv_frames(server)
    server.send_multipart([rid, b"a", b"extra"])  # "a" goes; "extra" is an id without MORE...
    server.send_multipart([rid, b"lost"])  # ...so this id is data (dropped), "lost" an id...
    server.send(rid)  # ...and this is data again: dropped. In step from here on.
    server.send_multipart([rid, b"b"])
    server.send(b"\x00nope")  # An id with no MORE: dropped, and the next frame with it.
    server.send(b"dropped")
    server.send_multipart([rid, b"c"])
    assert read_exactly(client, 3) == b"abc"
    client.settimeout(0.2)
    with pytest.raises(socket.timeout):
        client.recv(10)


def test_slow_reader_gets_everything_then_the_end() -> None:
    """With RCVHWM small the connection waits for the application (reading stops meanwhile):
    all the data comes, in order, then the notification of the end. (purezmq only: libzmq
    4.3.5 drops that notification when it finds the socket's queue full at the end.)"""
    with purezmq.Context() as context:
        server = stream(context)
        server.setsockopt(zmq.RCVHWM, 2)
        endpoint = bind_any(server, "tcp")
        client = raw_client(endpoint)
        rid, _ = recv_frames(server)
        payload = os.urandom(4 << 20)
        sender = threading.Thread(target=lambda: (client.sendall(payload), client.close()))
        sender.start()
        assert recv_data(server, rid, len(payload)) == payload
        assert recv_frames(server) == [rid, b""]
        sender.join(5)
        server.close(linger=0)


def test_connection_broken_while_the_reader_is_behind() -> None:
    """A connection that breaks (here: cut under the engine) while what it read waits for
    room in the socket's queue: that is delivered, then the notification, then it is gone."""
    with purezmq.Context() as context:
        server = stream(context)
        server.setsockopt(zmq.RCVHWM, 1)
        endpoint = bind_any(server, "tcp")
        client = raw_client(endpoint)
        rid, _ = recv_frames(server)
        core = server._core
        client.sendall(b"a" * 1000)
        assert server.poll(5000)  # (In the queue: what comes next waits in the engine.)
        client.sendall(b"b" * 1000)
        (session,) = core.sessions
        deadline = time.monotonic() + 5
        while not session.engine._stalled:
            assert time.monotonic() < deadline, "the engine never waited for room"
            client.sendall(b"c")
            time.sleep(0.01)
        with core.io_lock:
            session.engine.transport.abort()  # (Its connection_lost, as for a broken one.)
        got = b""
        while True:
            got_id, data = recv_frames(server)
            assert got_id == rid
            if not data:
                break
            got += data
        assert got.startswith(b"a" * 1000 + b"b" * 1000)
        assert wait_until_gone(core)
        client.close()
        server.close(linger=0)


def wait_until_gone(core: Any) -> bool:
    deadline = time.monotonic() + 5
    while core.sessions:
        if time.monotonic() > deadline:
            return False
        core.process_mailbox()
        time.sleep(0.005)
    return True


def test_closing_a_connection(lctx: Any, lib: ModuleType) -> None:
    """Empty data closes the connection (after what was sent before it): its id is unknown at
    once, and no notification follows. (libzmq 4.3.5 closes the tcp connection only once the
    peer sends something more; purezmq at once: see the next test.)"""
    server = stream(lctx)
    endpoint = bind_any(server, "tcp")
    client = raw_client(endpoint)
    rid, _ = recv_frames(server)
    big = os.urandom(1 << 20)
    server.send_multipart([rid, big])
    server.send_multipart([rid, b""])
    with pytest.raises(lib.ZMQError) as info:
        server.send(rid, zmq.SNDMORE)
    assert info.value.errno == errno.EHOSTUNREACH
    assert read_exactly(client, len(big)) == big
    with contextlib.suppress(OSError):
        client.sendall(b"anyone?")  # (What libzmq needs to notice that it should close.)
    assert read_to_eof(client) == b""
    assert not server.poll(200)


def test_closing_a_connection_at_once() -> None:
    """purezmq closes the connection as soon as what was queued before is written, as
    zmq_socket(3) says, without waiting for the peer to send something."""
    with purezmq.Context() as context:
        server = stream(context)
        endpoint = bind_any(server, "tcp")
        client = raw_client(endpoint)
        rid, _ = recv_frames(server)
        server.send_multipart([rid, b"bye"])
        server.send_multipart([rid, b""])
        assert read_to_eof(client) == b"bye"
        client.close()
        server.close(linger=0)


def test_closing_the_socket_does_not_wait_for_the_peer() -> None:
    """Closing the socket (LINGER -1, its default) writes out what was sent and closes its
    connections; term() does not wait for a raw peer to close its side, which it may never."""
    context = purezmq.Context()
    server = context.socket(zmq.STREAM)
    assert server.getsockopt(zmq.LINGER) == -1
    endpoint = bind_any(server, "tcp")
    client = raw_client(endpoint)
    rid, _ = recv_frames(server)
    big = os.urandom(1 << 20)
    server.send_multipart([rid, big])
    started = time.monotonic()
    server.close()
    context.term()
    assert time.monotonic() - started < 2
    assert read_to_eof(client) == big
    client.close()


def test_connect(lctx: Any, lib: ModuleType) -> None:
    """A connect has its routing id at once (ROUTING_ID reads it); what is sent before the
    connection is made waits for it, and so do sends while it is down; it reconnects with the
    same id, each connection announced, each end too."""
    with raw_listener() as listener:
        client = stream(lctx)
        client.setsockopt(zmq.RECONNECT_IVL, 20)
        client.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
        rid = client.getsockopt(zmq.ROUTING_ID)
        assert len(rid) == 5 and rid[0] == 0
        client.send_multipart([rid, b"early"])
        conn, _ = listener.accept()
        conn.settimeout(PEER_TIMEOUT)
        assert recv_frames(client) == [rid, b""]
        assert read_exactly(conn, 5) == b"early"
        conn.sendall(b"reply")
        assert recv_data(client, rid, 5) == b"reply"
        conn.close()
        assert recv_frames(client) == [rid, b""]
        client.send_multipart([rid, b"while down"])
        conn, _ = listener.accept()
        conn.settimeout(PEER_TIMEOUT)
        assert recv_frames(client) == [rid, b""]
        assert read_exactly(conn, 10) == b"while down"
        conn.close()


def test_connect_routing_id(lctx: Any, lib: ModuleType) -> None:
    """CONNECT_ROUTING_ID names the next connect's peer (and that one only); ROUTING_ID still
    reads the id generated last. An empty message to it closes it for good: no reconnection."""
    with raw_listener() as listener:
        client = stream(lctx)
        client.setsockopt(zmq.RECONNECT_IVL, 20)
        endpoint = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        client.setsockopt(zmq.CONNECT_ROUTING_ID, b"mine")
        client.connect(endpoint)
        assert client.getsockopt(zmq.ROUTING_ID) == b""
        client.send_multipart([b"mine", b"hello"])  # Known at once.
        conn, _ = listener.accept()
        conn.settimeout(PEER_TIMEOUT)
        assert recv_frames(client) == [b"mine", b""]
        assert read_exactly(conn, 5) == b"hello"
        conn.sendall(b"back")
        assert recv_data(client, b"mine", 4) == b"back"
        client.connect(endpoint)  # This one gets a generated id.
        generated = client.getsockopt(zmq.ROUTING_ID)
        assert generated[:1] == b"\x00"
        other, _ = listener.accept()
        assert recv_frames(client) == [generated, b""]
        client.send_multipart([b"mine", b""])
        if lib is purezmq:  # (libzmq 4.3.5 leaves a connect's connection open.)
            assert read_to_eof(conn) == b""
        listener.settimeout(0.3)
        with pytest.raises(socket.timeout):
            listener.accept()  # Not made again.
        with pytest.raises(lib.ZMQError) as info:
            client.send(b"mine", zmq.SNDMORE)
        assert info.value.errno == errno.EHOSTUNREACH
        other.close()
        conn.close()


def test_send_to_a_full_peer(lctx: Any, lib: ModuleType) -> None:
    """A peer that reads nothing: once its queue is at SNDHWM, its id frame gets EAGAIN
    (NOBLOCK, or after SNDTIMEO); once it reads, sending goes on."""
    server = stream(lctx)
    server.setsockopt(zmq.SNDHWM, 4)
    server.setsockopt(zmq.SNDBUF, 1 << 16)
    endpoint = bind_any(server, "tcp")
    client = raw_client(endpoint)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    rid, _ = recv_frames(server)
    chunk = b"z" * (1 << 16)
    sent = 0
    with pytest.raises(lib.Again):
        for _ in range(2000):
            server.send(rid, zmq.SNDMORE | zmq.NOBLOCK)
            server.send(chunk, zmq.NOBLOCK)
            sent += 1
    server.setsockopt(zmq.SNDTIMEO, 100)
    while True:  # (The kernel may take some more meanwhile.)
        started = time.monotonic()
        try:
            server.send_multipart([rid, chunk])
        except lib.Again:
            assert time.monotonic() - started >= 0.09
            break
        sent += 1
        assert sent < 2000
    server.setsockopt(zmq.SNDTIMEO, 5000)
    reader = threading.Thread(target=read_exactly, args=(client, (sent + 1) * len(chunk)))
    reader.start()
    server.send_multipart([rid, chunk])  # Waits for room.
    reader.join(10)
    assert not reader.is_alive()


# -- purezmq and libzmq STREAM sockets, each end ---------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("binder", ["purezmq", "pyzmq"])
def test_stream_to_stream(transport: str, binder: str, ipc_endpoint: str) -> None:
    pctx, zctx = purezmq.Context(), zmq.Context()
    try:
        ours, theirs = stream(pctx), stream(zctx)
        bound, connecting = (ours, theirs) if binder == "purezmq" else (theirs, ours)
        endpoint = bind_any(bound, transport, ipc_endpoint)
        connecting.connect(endpoint)
        out_id = connecting.getsockopt(zmq.ROUTING_ID)
        assert recv_frames(connecting) == [out_id, b""]
        in_id, hello = recv_frames(bound)
        assert hello == b""
        payload = os.urandom(300_000)
        connecting.send_multipart([out_id, payload])
        assert recv_data(bound, in_id, len(payload)) == payload
        bound.send_multipart([in_id, b"and back"])
        assert recv_data(connecting, out_id, 8) == b"and back"
        # purezmq's end closes the connection: libzmq's hears of it. (libzmq 4.3.5's own close
        # leaves a connection that brought data open: not tried here.)
        if ours is bound:
            ours.send_multipart([in_id, b""])
            assert recv_frames(theirs) == [out_id, b""]
        else:
            ours.send_multipart([out_id, b""])
            assert recv_frames(theirs) == [in_id, b""]
    finally:
        pctx.destroy(linger=0)
        zctx.destroy(linger=0)


# -- HTTP ------------------------------------------------------------------------------------------

RESPONSE_BODY = b"Hello from a purezmq STREAM socket\n"


def serve_http(server: Any, requests: int) -> None:
    """Answer ``requests`` HTTP requests on a STREAM socket, closing each connection after."""
    pending: dict[bytes, bytes] = {}
    answered = 0
    while answered < requests:
        rid, data = recv_frames(server)
        if not data:
            pending.pop(rid, None)  # (A connection made, or ended.)
            continue
        pending[rid] = pending.get(rid, b"") + data
        if b"\r\n\r\n" not in pending[rid]:
            continue
        path = pending.pop(rid).split(b" ", 2)[1]
        body = RESPONSE_BODY + b"path=" + path + b"\n"
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        server.send(rid, zmq.SNDMORE)
        server.send(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        server.send_multipart([rid, b""])
        answered += 1


def test_http_server() -> None:
    """A purezmq STREAM as an HTTP server, asked by http.client and urllib (in turn, so that
    the socket's thread reads and answers each connection itself: the fast paths)."""
    with purezmq.Context() as context:
        server = stream(context)
        endpoint = bind_any(server, "tcp")
        port = tcp_port(endpoint)
        thread = threading.Thread(target=serve_http, args=(server, 3), daemon=True)
        thread.start()
        try:
            for path in ("/first", "/second"):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PEER_TIMEOUT)
                conn.request("GET", path)
                response = conn.getresponse()
                assert response.status == 200
                assert response.read() == RESPONSE_BODY + b"path=" + path.encode() + b"\n"
                conn.close()
            url = f"http://127.0.0.1:{port}/by-urllib"
            with urllib.request.urlopen(url, timeout=PEER_TIMEOUT) as response:
                assert response.read() == RESPONSE_BODY + b"path=/by-urllib\n"
        finally:
            thread.join(10)
        assert not thread.is_alive()
        server.close(linger=0)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"page " + self.path.encode() + b"\n" + b"x" * 100_000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def http_server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def fetch_over_stream(client: Any, port: int, path: str) -> bytes:
    """GET ``path`` with HTTP/1.0 through a STREAM socket: the whole answer, read up to the
    end-of-connection notification."""
    client.connect(f"tcp://127.0.0.1:{port}")
    rid = client.getsockopt(zmq.ROUTING_ID)
    assert recv_frames(client) == [rid, b""]
    client.send_multipart([rid, f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode()])
    answer = b""
    while True:
        got, data = recv_frames(client)
        assert got == rid
        if not data:
            return answer
        answer += data


def test_http_client() -> None:
    with purezmq.Context() as context, http_server() as port:
        client = stream(context)
        answer = fetch_over_stream(client, port, "/wanted")
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200")
        assert body == b"page /wanted\n" + b"x" * 100_000
        client.close(linger=0)


def test_connect_before_the_listener() -> None:
    """A connect to a port where nobody listens keeps its id and tries again (as libzmq):
    nothing is announced until a connection is made."""
    port = free_tcp_port()
    with purezmq.Context() as context:
        client = stream(context)
        client.setsockopt(zmq.RECONNECT_IVL, 20)
        client.connect(f"tcp://127.0.0.1:{port}")
        rid = client.getsockopt(zmq.ROUTING_ID)
        assert not client.poll(150)
        with raw_listener_on(port) as listener:
            conn, _ = listener.accept()
            assert recv_frames(client) == [rid, b""]
            conn.close()
        client.close(linger=0)


@contextlib.contextmanager
def raw_listener_on(port: int) -> Iterator[socket.socket]:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(8)
    server.settimeout(PEER_TIMEOUT)
    try:
        yield server
    finally:
        server.close()


def test_inproc_takes_no_stream_peer() -> None:
    """libzmq's STREAM has no compatible peer: over inproc nothing connects (nothing breaks)."""
    with purezmq.Context() as context:
        server, client = stream(context, 200), stream(context, 200)
        server.bind("inproc://stream-test")
        client.connect("inproc://stream-test")
        assert not server.poll(100) and not client.poll(0)
        server.close(linger=0)
        client.close(linger=0)


def test_no_websocket_transport() -> None:
    """ws:// and wss:// carry ZMTP messages: a STREAM (raw tcp or ipc) refuses them."""
    with purezmq.Context() as context:
        sock = stream(context)
        for endpoint in ("ws://127.0.0.1:5555/x", "wss://127.0.0.1:5555/x"):
            for method in (sock.bind, sock.connect):
                with pytest.raises(purezmq.ZMQError) as info:
                    method(endpoint)
                assert info.value.errno == purezmq.ENOCOMPATPROTO
        sock.close(linger=0)

"""zmq.green for gevent programs: each test body runs on pyzmq's zmq.green and on purezmq.green
(the ``green`` fixture), in one thread, with no monkey-patching: a greenlet blocked in a
socket call must let the others run. Plus interop between the two libraries' green sockets,
and gevent's monkey-patching (``patch_all``) with plain purezmq sockets, in a subprocess."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import time
from types import ModuleType
from typing import Any

import pytest

gevent = pytest.importorskip("gevent")

pytestmark = pytest.mark.timeout(60)

#: Every wait in these tests is bounded by this (gevent.joinall's timeout, sockets' timeouts).
BOUND_S = 10.0


@pytest.fixture(params=["zmq.green", "purezmq.green"])
def green(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


@pytest.fixture
def gctx(green: ModuleType) -> Any:
    context = green.Context()
    yield context
    context.destroy(linger=0)


def _sock(context: Any, kind: int) -> Any:
    sock = context.socket(kind)
    sock.linger = 0
    return sock


def _pair(context: Any, green: ModuleType, bind_kind: int, connect_kind: int) -> tuple[Any, Any]:
    bound = _sock(context, bind_kind)
    port = bound.bind_to_random_port("tcp://127.0.0.1")
    connected = _sock(context, connect_kind)
    connected.connect(f"tcp://127.0.0.1:{port}")
    return bound, connected


class Ticker:
    """A greenlet that counts while others wait: proof that a blocked call yields."""

    def __init__(self) -> None:
        self.ticks = 0
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            self.ticks += 1
            gevent.sleep(0.001)

    def stop(self) -> None:
        self.greenlet.kill()


def _join(*greenlets: Any) -> None:
    done = gevent.joinall(list(greenlets), timeout=BOUND_S, raise_error=True)
    assert len(done) == len(greenlets), "greenlets did not finish in time"


def test_sockets_are_green(green: ModuleType, gctx: Any) -> None:
    sock = _sock(gctx, green.PUSH)
    assert isinstance(gctx, green.Context)
    assert isinstance(sock, green.Socket)
    assert green.Context is green.core._Context
    assert green.Socket is green.core._Socket
    assert green.Poller is green.poll._Poller


def test_blocked_recv_lets_other_greenlets_run(green: ModuleType, gctx: Any) -> None:
    pull, push = _pair(gctx, green, green.PULL, green.PUSH)
    ticker = Ticker()
    got: list[bytes] = []

    def receiver() -> None:
        got.append(pull.recv())

    def sender() -> None:
        # Only once the ticker has run a while, the receiver being blocked all that time.
        while ticker.ticks < 20:
            gevent.sleep(0.001)
        push.send(b"after the ticks")

    _join(gevent.spawn(receiver), gevent.spawn(sender))
    ticker.stop()
    assert got == [b"after the ticks"]
    assert ticker.ticks >= 20


def test_many_greenlets_req_rep_and_push_pull(green: ModuleType, gctx: Any) -> None:
    rep, _ = _pair(gctx, green, green.REP, green.REQ)
    _.close()
    endpoint = rep.last_endpoint.decode()
    clients = []
    for _i in range(5):
        req = _sock(gctx, green.REQ)
        req.connect(endpoint)
        clients.append(req)
    pull, push = _pair(gctx, green, green.PULL, green.PUSH)
    ticker = Ticker()
    answered: list[int] = []
    pulled: list[bytes] = []
    rounds = 20

    def server() -> None:
        for _ in range(rounds * len(clients)):
            rep.send(b"re:" + rep.recv())

    def client(index: int, req: Any) -> None:
        for n in range(rounds):
            body = b"%d-%d" % (index, n)
            req.send(body)
            assert req.recv() == b"re:" + body
        answered.append(index)

    def pusher() -> None:
        for n in range(200):
            push.send(b"%d" % n)

    def puller() -> None:
        for _ in range(200):
            pulled.append(pull.recv())

    greenlets = [gevent.spawn(server), gevent.spawn(pusher), gevent.spawn(puller)]
    greenlets += [gevent.spawn(client, i, req) for i, req in enumerate(clients)]
    _join(*greenlets)
    ticker.stop()
    assert sorted(answered) == list(range(len(clients)))
    assert pulled == [b"%d" % n for n in range(200)]
    assert ticker.ticks > 0


@pytest.fixture
def purezmq_green() -> ModuleType:
    return importlib.import_module("purezmq.green")


@pytest.fixture
def pctx(purezmq_green: ModuleType) -> Any:
    context = purezmq_green.Context()
    yield context
    context.destroy(linger=0)


# pyzmq's zmq.green warns "TIMEO socket options have no effect in zmq.green" and then blocks
# forever; purezmq.green keeps libzmq's meaning: the call gives up with EAGAIN (purezmq only).


def test_purezmq_rcvtimeo_raises_again_without_blocking_others(pctx: Any) -> None:
    green = importlib.import_module("purezmq.green")
    gctx = pctx
    pull = _sock(gctx, green.PULL)
    pull.bind_to_random_port("tcp://127.0.0.1")
    pull.rcvtimeo = 200
    ticker = Ticker()
    outcome: list[Any] = []

    def receiver() -> None:
        started = time.monotonic()
        try:
            pull.recv()
        except green.Again as exc:
            outcome.append((exc.errno, time.monotonic() - started))

    _join(gevent.spawn(receiver))
    ticker.stop()
    [(errno, waited)] = outcome
    assert errno == green.EAGAIN
    assert 0.15 <= waited < 5
    assert ticker.ticks >= 10  # The hub ran the ticker through the 200 ms wait.


def test_noblock_recv_raises_again_at_once(green: ModuleType, gctx: Any) -> None:
    pull = _sock(gctx, green.PULL)
    pull.bind_to_random_port("tcp://127.0.0.1")
    with pytest.raises(green.Again):
        pull.recv(green.NOBLOCK)


def test_poller_waits_cooperatively(green: ModuleType, gctx: Any) -> None:
    pull, push = _pair(gctx, green, green.PULL, green.PUSH)
    poller = green.Poller()
    poller.register(pull, green.POLLIN)
    ticker = Ticker()
    results: list[Any] = []

    def polling() -> None:
        results.append(poller.poll(100))  # Nothing yet: times out.
        results.append(dict(poller.poll(BOUND_S * 1000)))

    def sender() -> None:
        while len(results) < 1:
            gevent.sleep(0.005)
        push.send(b"now")

    _join(gevent.spawn(polling), gevent.spawn(sender))
    ticker.stop()
    assert results[0] == []
    assert results[1] == {pull: green.POLLIN}
    assert pull.recv() == b"now"
    assert ticker.ticks >= 10


def test_socket_poll_waits_cooperatively(green: ModuleType, gctx: Any) -> None:
    pull, push = _pair(gctx, green, green.PULL, green.PUSH)
    ticker = Ticker()
    results: list[int] = []

    def polling() -> None:
        results.append(pull.poll(50))
        results.append(pull.poll(BOUND_S * 1000))

    def sender() -> None:
        while not results:
            gevent.sleep(0.005)
        push.send(b"x")

    _join(gevent.spawn(polling), gevent.spawn(sender))
    ticker.stop()
    assert results == [0, green.POLLIN]
    assert ticker.ticks > 0


def test_purezmq_send_at_hwm_waits_cooperatively_then_times_out(pctx: Any) -> None:
    green = importlib.import_module("purezmq.green")
    gctx = pctx
    push = _sock(gctx, green.PUSH)
    push.sndhwm = 1
    push.sndtimeo = 200
    push.connect("tcp://127.0.0.1:1")  # Nobody there: queued messages stay, then HWM.
    ticker = Ticker()
    outcome: list[int] = []

    def sender() -> None:
        sent = 0
        try:
            for _ in range(100):
                push.send(b"x")
                sent += 1
        except green.Again:
            outcome.append(sent)

    _join(gevent.spawn(sender))
    ticker.stop()
    assert outcome and outcome[0] < 100
    assert ticker.ticks >= 10


def test_purezmq_green_proxy_forwards_while_others_run(pctx: Any) -> None:
    """pyzmq's zmq.green.proxy is libzmq's, which blocks the whole thread (purezmq only)."""
    green = importlib.import_module("purezmq.green")
    gctx = pctx
    frontend = _sock(gctx, green.ROUTER)
    front_port = frontend.bind_to_random_port("tcp://127.0.0.1")
    backend = _sock(gctx, green.DEALER)
    back_port = backend.bind_to_random_port("tcp://127.0.0.1")
    worker = _sock(gctx, green.REP)
    worker.connect(f"tcp://127.0.0.1:{back_port}")
    client = _sock(gctx, green.REQ)
    client.connect(f"tcp://127.0.0.1:{front_port}")
    replies: list[bytes] = []

    def proxying() -> None:
        try:
            green.proxy(frontend, backend)
        except green.ContextTerminated:
            pass

    def working() -> None:
        for _ in range(10):
            worker.send(worker.recv().upper())

    def asking() -> None:
        for n in range(10):
            client.send(b"hello %d" % n)
            replies.append(client.recv())

    proxy = gevent.spawn(proxying)
    _join(gevent.spawn(working), gevent.spawn(asking))
    proxy.kill()
    assert replies == [b"HELLO %d" % n for n in range(10)]


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("purezmq_binds", [True, False], ids=["purezmq-binds", "pyzmq-binds"])
def test_green_interop_with_pyzmq_green(
    transport: str, purezmq_binds: bool, ipc_endpoint: str
) -> None:
    ours = importlib.import_module("purezmq.green")
    theirs = importlib.import_module("zmq.green")
    our_ctx, their_ctx = ours.Context(), theirs.Context()
    try:
        binder_lib, connecter_lib = (ours, theirs) if purezmq_binds else (theirs, ours)
        binder_ctx, connecter_ctx = (our_ctx, their_ctx) if purezmq_binds else (their_ctx, our_ctx)
        rep = _sock(binder_ctx, binder_lib.REP)
        if transport == "tcp":
            port = rep.bind_to_random_port("tcp://127.0.0.1")
            endpoint = f"tcp://127.0.0.1:{port}"
        else:
            endpoint = ipc_endpoint
            rep.bind(endpoint)
        req = _sock(connecter_ctx, connecter_lib.REQ)
        req.connect(endpoint)
        ticker = Ticker()
        replies: list[bytes] = []

        def server() -> None:
            for _ in range(20):
                rep.send_multipart([b"re"] + rep.recv_multipart())

        def client() -> None:
            for n in range(20):
                req.send_multipart([b"q", b"%d" % n])
                replies.append(b"|".join(req.recv_multipart()))

        _join(gevent.spawn(server), gevent.spawn(client))
        ticker.stop()
        assert replies == [b"re|q|%d" % n for n in range(20)]
        assert ticker.ticks > 0
    finally:
        our_ctx.destroy(linger=0)
        their_ctx.destroy(linger=0)


PATCH_ALL_PROGRAM = textwrap.dedent(
    """
    from gevent import monkey; monkey.patch_all()
    import sys, gevent, importlib
    zmq = importlib.import_module(sys.argv[1])
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP); rep.linger = 0
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = ctx.socket(zmq.REQ); req.linger = 0
    req.connect(f"tcp://127.0.0.1:{port}")
    ticks = 0
    def ticker():
        global ticks
        while True:
            ticks += 1
            gevent.sleep(0.001)
    def server():
        for _ in range(50):
            rep.send(rep.recv())
    def client():
        for n in range(50):
            req.send(b"%d" % n)
            assert req.recv() == b"%d" % n
    t = gevent.spawn(ticker)
    done = gevent.joinall([gevent.spawn(server), gevent.spawn(client)], timeout=10,
                          raise_error=True)
    assert len(done) == 2, "timed out"
    t.kill()
    req.close(); rep.close(); ctx.term()
    print("ok", ticks > 0)
    """
)


@pytest.mark.parametrize("library", ["zmq.green", "purezmq.green", "purezmq"])
def test_monkey_patched_program(library: str) -> None:
    """With gevent.monkey.patch_all() first, as gevent programs start: the green module and,
    for purezmq, plain sockets too (its I/O thread and locks become gevent's)."""
    env = {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..", "..", "src")}
    result = subprocess.run(
        [sys.executable, "-c", PATCH_ALL_PROGRAM, library],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "True"]

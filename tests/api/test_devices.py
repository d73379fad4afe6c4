"""Devices and proxies: zmq.proxy, zmq.proxy_steerable, zmq.device and zmq.devices.

Each test body runs against purezmq and against pyzmq (the ``lib`` fixture), so that what is
asserted of purezmq is what pyzmq (libzmq 4.3.5) does, except where a comment says otherwise;
the interop tests at the end put one library's proxy between the other's sockets.

Sockets a proxy uses are handed to its thread, which closes them when the proxy ends; the test
ends a proxy by terminating the context from another thread (the proxy raises ETERM), after
closing its own sockets. Every wait is bounded: socket timeouts, or poll with a timeout.
"""

from __future__ import annotations

import errno
import inspect
import resource
import struct
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import zmq as pyzmq_module
from interop._util import make_socket, recv_frames

import purezmq
import purezmq.devices

from ._helpers import Worker

pytestmark = pytest.mark.timeout(30)

LIBS = {"purezmq": purezmq, "pyzmq": pyzmq_module}
#: How long a test waits to see that a message does NOT come (a paused proxy).
QUIET_MS = 300


class Env:
    """A context of one library, the sockets the test thread uses, and the proxies running in
    threads of their own."""

    def __init__(self, lib: ModuleType) -> None:
        self.lib = lib
        self.ctx = lib.Context()
        self.mine: list[Any] = []
        self.runners: list[Worker] = []
        self.stopped = False

    @property
    def is_purezmq(self) -> bool:
        return self.lib is purezmq

    def socket(self, kind: int, **options: Any) -> Any:
        sock = make_socket(self.ctx, kind)
        for name, value in options.items():
            setattr(sock, name, value)
        self.mine.append(sock)
        return sock

    def bound(self, kind: int, **options: Any) -> tuple[Any, str]:
        sock = self.socket(kind, **options)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        return sock, f"tcp://127.0.0.1:{port}"

    def connected(self, kind: int, endpoint: str, **options: Any) -> Any:
        sock = self.socket(kind, **options)
        sock.connect(endpoint)
        return sock

    def run(self, function: Callable[..., Any], *sockets: Any) -> Worker:
        """Run ``function(*sockets)`` in a thread that then closes the sockets it was given."""
        for sock in sockets:
            if sock is not None and sock in self.mine:
                self.mine.remove(sock)

        def body() -> Any:
            try:
                return function(*sockets)
            finally:
                for sock in sockets:
                    if sock is not None and not sock.closed:
                        sock.close(linger=0)

        worker = Worker(body, name=f"proxy-{getattr(function, '__name__', 'device')}")
        worker.start()
        self.runners.append(worker)
        return worker

    def stop(self) -> list[BaseException | None]:
        """Terminate the context from another thread (the test's sockets closed first); wait for
        every proxy to end; return what each raised."""
        if self.stopped:
            return [runner.error for runner in self.runners]
        self.stopped = True
        for sock in self.mine:
            sock.close(linger=0)
        terminator = Worker(self.ctx.term, name="term")
        terminator.start()
        for runner in self.runners:
            runner.join(10)
            assert not runner.is_alive(), "a proxy did not end when its context was terminated"
        terminator.finish(10)
        return [runner.error for runner in self.runners]


@pytest.fixture(params=list(LIBS))
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return LIBS[request.param]


@pytest.fixture
def env(lib: ModuleType) -> Iterator[Env]:
    environment = Env(lib)
    yield environment
    environment.stop()


def _assert_eterm(lib: ModuleType, error: BaseException | None) -> None:
    assert isinstance(error, lib.ContextTerminated), repr(error)
    assert isinstance(error, lib.ZMQError) and error.errno == lib.ETERM


def _queue(env: Env, function: Callable[..., Any] | None = None, *extra: Any) -> tuple[str, str]:
    """A ROUTER/DEALER queue proxy running in a thread; returns (frontend, backend) endpoints."""
    lib = env.lib
    front, front_ep = env.bound(lib.ROUTER)
    back, back_ep = env.bound(lib.DEALER)
    env.run(function or lib.proxy, front, back, *extra)
    return front_ep, back_ep


def _request_reply(env: Env, front_ep: str, back_ep: str, rounds: int = 3) -> Any:
    lib = env.lib
    client = env.connected(lib.REQ, front_ep, identity=b"client-1")
    worker = env.connected(lib.REP, back_ep)
    for i in range(rounds):
        client.send_multipart([b"req", str(i).encode()])
        assert worker.recv_multipart() == [b"req", str(i).encode()]
        worker.send_multipart([b"rep", str(i).encode()])
        assert client.recv_multipart() == [b"rep", str(i).encode()]
    return client


# -- the surface ----------------------------------------------------------------------------------


def test_same_names_and_signatures_as_pyzmq() -> None:
    for name in ("proxy", "proxy_steerable", "device"):
        ours, theirs = getattr(purezmq, name), getattr(pyzmq_module, name)
        assert list(inspect.signature(ours).parameters) == list(
            inspect.signature(theirs).parameters
        ), name
        assert name in purezmq.__all__
    import zmq.devices as pyzmq_devices

    assert purezmq.devices.__all__ == pyzmq_devices.__all__
    for module in ("basedevice", "proxydevice", "proxysteerabledevice", "monitoredqueue"):
        assert hasattr(purezmq.devices, module)
    assert hasattr(purezmq.devices, "monitoredqueuedevice")
    assert purezmq.devices.proxy is purezmq.proxy
    for name in pyzmq_devices.__all__:
        ours, theirs = getattr(purezmq.devices, name), getattr(pyzmq_devices, name)
        assert list(inspect.signature(ours).parameters) == list(
            inspect.signature(theirs).parameters
        ), name
        if isinstance(theirs, type):
            public = {n for n in dir(theirs) if not n.startswith("__")}
            assert public - set(dir(ours)) == set(), name
            assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
    assert purezmq.devices.ThreadDevice.context_factory == purezmq.Context.instance
    assert purezmq.devices.ProcessDevice.context_factory is purezmq.Context
    device = purezmq.devices.ThreadProxy(purezmq.ROUTER, purezmq.DEALER)
    assert device.daemon is True and device.done is False and device.launcher is None
    assert (device.device_type, device.in_type, device.out_type, device.mon_type) == (
        purezmq.QUEUE,
        purezmq.ROUTER,
        purezmq.DEALER,
        purezmq.PUB,
    )


def test_bad_arguments(env: Env) -> None:
    lib = env.lib
    a, b = env.socket(lib.ROUTER), env.socket(lib.DEALER)
    for args in [(1, b), (a, "backend"), (a, None), (a, b, 3)]:
        with pytest.raises(TypeError):
            lib.proxy(*args)
    with pytest.raises(TypeError):
        lib.proxy_steerable(a, b, None, object())
    with pytest.raises(TypeError):
        lib.device(lib.QUEUE, a, 2)
    mq = _devices(lib).monitored_queue
    with pytest.raises(TypeError):
        mq(a, b, 3)
    with pytest.raises(TypeError):
        mq(a, b, env.socket(lib.PUB), in_prefix=5)
    closed = env.socket(lib.DEALER)
    closed.close()
    for function in (lib.proxy, lib.proxy_steerable):
        with pytest.raises(lib.ZMQError) as info:
            function(a, closed)  # zmq_proxy(3): EFAULT, "the backend was invalid"
        assert info.value.errno == errno.EFAULT
    devices = _devices(lib)
    with pytest.raises(TypeError):
        devices.Device(lib.QUEUE, lib.ROUTER)  # out_type must be specified
    with pytest.raises(TypeError):
        devices.Device(lib.QUEUE)


def _devices(lib: ModuleType) -> ModuleType:
    if lib is purezmq:
        return purezmq.devices
    import zmq.devices

    return zmq.devices


def test_device_type_is_ignored_and_one_socket_is_an_echo(env: Env) -> None:
    # libzmq's zmq_device and pyzmq's zmq.device are aliases of proxy: the type is not checked
    # (not even 99) and both libraries accept it. The same socket as frontend and backend
    # sends back what it receives.
    lib = env.lib
    echo, endpoint = env.bound(lib.ROUTER)
    env.run(lambda s: lib.device(99, s, s), echo)
    client = env.connected(lib.DEALER, endpoint)
    for i in range(3):
        client.send_multipart([b"ping", str(i).encode(), b""])
        assert client.recv_multipart() == [b"ping", str(i).encode(), b""]
    _assert_eterm(lib, env.stop()[0])


# -- proxy ----------------------------------------------------------------------------------------


def test_queue_request_reply_and_eterm(env: Env) -> None:
    lib = env.lib
    front_ep, back_ep = _queue(env)
    _request_reply(env, front_ep, back_ep)
    # Termination from another thread: the proxy raises ContextTerminated (errno ETERM).
    _assert_eterm(lib, env.stop()[0])


def test_two_clients_get_their_own_replies(env: Env) -> None:
    lib = env.lib
    front_ep, back_ep = _queue(env)
    worker = env.connected(lib.REP, back_ep)
    clients = [env.connected(lib.REQ, front_ep) for _ in range(2)]
    for i, client in enumerate(clients):
        client.send(b"from %d" % i)
    for _ in clients:
        worker.send(worker.recv() + b" back")
    for i, client in enumerate(clients):
        assert client.recv() == b"from %d back" % i


def test_forwarder_subscriptions_flow_upstream(env: Env) -> None:
    lib = env.lib
    xsub, xsub_ep = env.bound(lib.XSUB)
    xpub, xpub_ep = env.bound(lib.XPUB)
    env.run(lib.proxy, xsub, xpub)
    # An XPUB as the publisher sees the subscription arrive through the proxy.
    publisher = env.connected(lib.XPUB, xsub_ep)
    subscriber = env.connected(lib.SUB, xpub_ep)
    subscriber.subscribe(b"news")
    assert recv_frames(publisher) == [b"\x01news"]
    publisher.send_multipart([b"news", b"today"])
    publisher.send_multipart([b"sport", b"ignored"])
    publisher.send_multipart([b"news", b"tomorrow"])
    assert subscriber.recv_multipart() == [b"news", b"today"]
    assert subscriber.recv_multipart() == [b"news", b"tomorrow"]
    subscriber.unsubscribe(b"news")
    assert recv_frames(publisher) == [b"\x00news"]


def test_capture_gets_a_copy_of_each_message(env: Env) -> None:
    lib = env.lib
    capture, capture_ep = env.bound(lib.PUSH)
    tap = env.connected(lib.PULL, capture_ep)
    front_ep, back_ep = _queue(env, lib.proxy, capture)
    _request_reply(env, front_ep, back_ep, rounds=2)
    seen = [recv_frames(tap) for _ in range(4)]
    assert seen == [
        [b"client-1", b"", b"req", b"0"],  # received on the frontend (ROUTER: routing id first)
        [b"client-1", b"", b"rep", b"0"],  # received on the backend
        [b"client-1", b"", b"req", b"1"],
        [b"client-1", b"", b"rep", b"1"],
    ]
    assert tap.poll(0) == 0


def test_streamer_holds_messages_until_a_worker_comes(env: Env) -> None:
    # The backend PUSH has no peer yet: what the proxy received waits, nothing is lost, and the
    # order holds when a worker connects.
    lib = env.lib
    pull, pull_ep = env.bound(lib.PULL)
    push, push_ep = env.bound(lib.PUSH)
    env.run(lib.proxy, pull, push)
    sender = env.connected(lib.PUSH, pull_ep)
    for i in range(20):
        sender.send_multipart([b"task", str(i).encode()])
    worker = env.connected(lib.PULL, push_ep)
    assert [worker.recv_multipart() for _ in range(20)] == [
        [b"task", str(i).encode()] for i in range(20)
    ]


def test_an_idle_proxy_does_not_spin(env: Env) -> None:
    front_ep, back_ep = _queue(env)
    _request_reply(env, front_ep, back_ep, rounds=1)
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(0.5)  # (Measuring, not waiting for anything.)
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert used < 0.15, f"{used:.3f} s of CPU in 0.5 s idle"


# -- proxy_steerable ------------------------------------------------------------------------------


def _stats(control: Any) -> list[int]:
    frames = control.recv_multipart()
    assert len(frames) == 8 and all(len(f) == 8 for f in frames)
    return [struct.unpack("=Q", f)[0] for f in frames]


def _steerable_streamer(env: Env, control_type: int) -> tuple[Any, Any, Any, Worker]:
    lib = env.lib
    pull, pull_ep = env.bound(lib.PULL)
    push, push_ep = env.bound(lib.PUSH)
    ctl, ctl_ep = env.bound(control_type)
    runner = env.run(lib.proxy_steerable, pull, push, None, ctl)
    peer_type = lib.REQ if control_type == lib.REP else lib.PAIR
    control = env.connected(peer_type, ctl_ep)
    sender = env.connected(lib.PUSH, pull_ep)
    receiver = env.connected(lib.PULL, push_ep)
    return control, sender, receiver, runner


def test_steerable_pause_resume_statistics_terminate(env: Env) -> None:
    lib = env.lib
    control, sender, receiver, runner = _steerable_streamer(env, lib.REP)

    def command(name: bytes) -> None:
        control.send(name)
        assert control.recv_multipart() == [b""]  # A REP control socket answers every command.

    sender.send(b"m1")
    assert receiver.recv() == b"m1"
    # zmq_proxy_steerable(3): PAUSE stops the transfers, RESUME restarts them. libzmq 4.3.5
    # (so pyzmq 27) has the two swapped in its implementation: PAUSE there sets the state to
    # "active" and RESUME to "paused". purezmq does what the manual page says; for pyzmq the
    # test records the swap.
    pause, resume = (b"PAUSE", b"RESUME") if env.is_purezmq else (b"RESUME", b"PAUSE")
    command(pause)
    sender.send(b"m2")
    assert receiver.poll(QUIET_MS) == 0  # Paused: m2 waits in the frontend.
    command(resume)
    assert receiver.recv() == b"m2"
    if not env.is_purezmq:
        command(b"PAUSE")  # (pyzmq: PAUSE while active leaves it active: observed.)
        sender.send(b"still flowing")
        assert receiver.recv() == b"still flowing"
    sender.send_multipart([b"x", b"yy"])
    assert receiver.recv_multipart() == [b"x", b"yy"]
    # Eight uint64: frontend received msgs/bytes, frontend sent msgs/bytes, then the backend's;
    # each part of a multipart message counts as a message.
    control.send(b"STATISTICS")
    frames, size = (4, 7) if env.is_purezmq else (5, 20)
    assert _stats(control) == [frames, size, 0, 0, 0, 0, frames, size]
    command(b"TERMINATE")
    assert runner.finish(5) == 0  # The proxy returns 0 on TERMINATE.


def test_steerable_pair_control_answers_only_statistics(env: Env) -> None:
    # zmq_proxy_steerable(3): only a REP control socket answers PAUSE/RESUME/TERMINATE (with an
    # empty message); STATISTICS is answered on any. libzmq 4.3.5 answers every command on a
    # PAIR too (observed): there the test reads and discards those replies.
    lib = env.lib
    control, sender, receiver, runner = _steerable_streamer(env, lib.PAIR)
    extra_reply = not env.is_purezmq

    def command(name: bytes) -> None:
        control.send(name)
        if extra_reply:
            assert control.recv_multipart() == [b""]

    command(b"RESUME" if extra_reply else b"PAUSE")  # Paused (see the swap above).
    control.send(b"STATISTICS")  # Answered after the pause: it has taken effect.
    assert _stats(control) == [0] * 8
    sender.send(b"held")
    assert receiver.poll(QUIET_MS) == 0
    command(b"PAUSE" if extra_reply else b"RESUME")
    assert receiver.recv() == b"held"
    command(b"TERMINATE")
    assert runner.finish(5) == 0
    assert control.poll(0) == 0


def test_steerable_statistics_backend_to_frontend(env: Env) -> None:
    # Messages flowing the other way count as received by the backend and sent by the
    # frontend. Before anyone can take them on the frontend side, the proxy does not read
    # them at all (zmq_proxy reads a side only when the other can send): all zero.
    lib = env.lib
    front, front_ep = env.bound(lib.PUSH)
    back, back_ep = env.bound(lib.PULL)
    ctl, ctl_ep = env.bound(lib.REP)
    runner = env.run(lib.proxy_steerable, front, back, None, ctl)
    control = env.connected(lib.REQ, ctl_ep)
    sender = env.connected(lib.PUSH, back_ep)
    sender.send_multipart([b"ab", b"cde"])
    sender.send(b"f")
    control.send(b"STATISTICS")
    assert _stats(control) == [0] * 8
    receiver = env.connected(lib.PULL, front_ep)
    assert receiver.recv_multipart() == [b"ab", b"cde"]
    assert receiver.recv() == b"f"
    control.send(b"STATISTICS")
    assert _stats(control) == [0, 0, 3, 6, 3, 6, 0, 0]
    control.send(b"TERMINATE")
    assert control.recv() == b""
    assert runner.finish(5) == 0


def test_steerable_without_control_is_a_proxy(env: Env) -> None:
    lib = env.lib
    front_ep, back_ep = _queue(env, lib.proxy_steerable)
    _request_reply(env, front_ep, back_ep, rounds=1)
    _assert_eterm(lib, env.stop()[0])


# -- monitored_queue ------------------------------------------------------------------------------


def test_monitored_queue_prefixes(env: Env) -> None:
    lib = env.lib
    mon, mon_ep = env.bound(lib.PUSH)
    tap = env.connected(lib.PULL, mon_ep)
    monitored_queue = _devices(lib).monitored_queue

    def run(front: Any, back: Any, monitor: Any) -> None:
        monitored_queue(front, back, monitor, b"IN", b"OUT")

    front_ep, back_ep = _queue(env, run, mon)
    _request_reply(env, front_ep, back_ep, rounds=1)
    assert recv_frames(tap) == [b"IN", b"client-1", b"", b"req", b"0"]
    assert recv_frames(tap) == [b"OUT", b"client-1", b"", b"rep", b"0"]
    _assert_eterm(lib, env.stop()[0])


# -- background devices ---------------------------------------------------------------------------


def _own_context(env: Env, device: Any) -> Any:
    device.context_factory = lambda: env.ctx  # (So that terminating it ends the device.)
    return device


def test_thread_device_and_thread_proxy(env: Env) -> None:
    lib = env.lib
    devices = _devices(lib)
    queue = _own_context(env, devices.ThreadDevice(lib.QUEUE, lib.ROUTER, lib.DEALER))
    queue.setsockopt_in(lib.LINGER, 0)
    queue.setsockopt_out(lib.LINGER, 0)
    front_port = queue.bind_in_to_random_port("tcp://127.0.0.1")
    back_port = queue.bind_out_to_random_port("tcp://127.0.0.1")
    queue.start()
    assert queue.launcher.daemon
    _request_reply(env, f"tcp://127.0.0.1:{front_port}", f"tcp://127.0.0.1:{back_port}")

    tproxy = _own_context(env, devices.ThreadProxy(lib.PULL, lib.PUSH, lib.PUSH))
    for setsockopt in (tproxy.setsockopt_in, tproxy.setsockopt_out, tproxy.setsockopt_mon):
        setsockopt(lib.LINGER, 0)
    in_port = tproxy.bind_in_to_random_port("tcp://127.0.0.1")
    out, out_ep = env.bound(lib.PULL)
    tproxy.connect_out(out_ep)
    mon_port = tproxy.bind_mon_to_random_port("tcp://127.0.0.1")
    tproxy.start()
    tap = env.connected(lib.PULL, f"tcp://127.0.0.1:{mon_port}")
    env.connected(lib.PUSH, f"tcp://127.0.0.1:{in_port}").send_multipart([b"a", b"b"])
    assert out.recv_multipart() == [b"a", b"b"]
    assert recv_frames(tap) == [b"a", b"b"]

    env.stop()
    for device in (queue, tproxy):
        device.join(5)
        assert not device.launcher.is_alive()
        assert device.done


def test_thread_proxy_steerable_and_monitored_queue(env: Env) -> None:
    lib = env.lib
    devices = _devices(lib)
    steer = _own_context(env, devices.ThreadProxySteerable(lib.PULL, lib.PUSH, lib.PUB, lib.REP))
    in_port = steer.bind_in_to_random_port("tcp://127.0.0.1")
    out_port = steer.bind_out_to_random_port("tcp://127.0.0.1")
    ctl_port = steer.bind_ctrl_to_random_port("tcp://127.0.0.1")
    steer.setsockopt_ctrl(lib.LINGER, 0)
    steer.start()
    env.connected(lib.PUSH, f"tcp://127.0.0.1:{in_port}").send(b"through")
    assert env.connected(lib.PULL, f"tcp://127.0.0.1:{out_port}").recv() == b"through"
    control = env.connected(lib.REQ, f"tcp://127.0.0.1:{ctl_port}")
    control.send(b"TERMINATE")
    assert control.recv() == b""
    steer.join(5)
    assert steer.done and not steer.launcher.is_alive()

    # ROUTER on both sides: the first two frames (sender, addressee) swap on the way through.
    mq = _own_context(
        env, devices.ThreadMonitoredQueue(lib.ROUTER, lib.ROUTER, lib.PUSH, b"in", b"out")
    )
    in_port = mq.bind_in_to_random_port("tcp://127.0.0.1")
    out_port = mq.bind_out_to_random_port("tcp://127.0.0.1")
    mon_port = mq.bind_mon_to_random_port("tcp://127.0.0.1")
    mq.start()
    tap = env.connected(lib.PULL, f"tcp://127.0.0.1:{mon_port}")
    client = env.connected(lib.DEALER, f"tcp://127.0.0.1:{in_port}", identity=b"c")
    worker = env.connected(lib.DEALER, f"tcp://127.0.0.1:{out_port}", identity=b"w")
    # The worker speaks first, so that the out ROUTER knows it ("hello" reaches the client
    # only if the in ROUTER already knew it: either way the monitor sees it go through).
    worker.send_multipart([b"c", b"hello"])
    assert recv_frames(tap) == [b"out", b"c", b"w", b"hello"]
    client.send_multipart([b"w", b"payload"])
    assert recv_frames(worker) == [b"c", b"payload"]
    assert recv_frames(tap) == [b"in", b"w", b"c", b"payload"]
    worker.send_multipart([b"c", b"resp"])
    got = recv_frames(client)
    if got == [b"w", b"hello"]:
        got = recv_frames(client)
    assert got == [b"w", b"resp"]
    assert recv_frames(tap) == [b"out", b"c", b"w", b"resp"]
    env.stop()
    mq.join(5)
    assert mq.done


def test_process_device(env: Env) -> None:
    lib = env.lib
    device = _devices(lib).ProcessDevice(lib.QUEUE, lib.ROUTER, lib.DEALER)
    front_port = device.bind_in_to_random_port("tcp://127.0.0.1")
    back_port = device.bind_out_to_random_port("tcp://127.0.0.1")
    device.start()
    try:
        _request_reply(env, f"tcp://127.0.0.1:{front_port}", f"tcp://127.0.0.1:{back_port}")
    finally:
        device.launcher.terminate()  # (The process we started, by its own handle.)
        device.join(5)
    assert not device.launcher.is_alive()


def test_device_run_in_the_calling_thread(env: Env) -> None:
    # Device.start() runs the device here; ETERM ends it quietly and closes its sockets.
    lib = env.lib
    device = _own_context(env, _devices(lib).Device(lib.QUEUE, lib.ROUTER, -1))
    port = device.bind_in_to_random_port("tcp://127.0.0.1")
    device.setsockopt_in(lib.LINGER, 0)
    env.run(device.start)
    client = env.connected(lib.DEALER, f"tcp://127.0.0.1:{port}")
    client.send(b"echo")
    assert client.recv() == b"echo"
    assert env.stop() == [None]
    assert device.done
    device.join(1)


# -- interop --------------------------------------------------------------------------------------


def test_purezmq_proxy_between_pyzmq_clients_and_workers(pyctx: Any) -> None:
    env = Env(purezmq)
    try:
        front_ep, back_ep = _queue(env)
        clients = [make_socket(pyctx, pyzmq_module.REQ) for _ in range(2)]
        worker = make_socket(pyctx, pyzmq_module.REP)
        worker.connect(back_ep)
        for client in clients:
            client.connect(front_ep)
        for round_ in range(3):
            for i, client in enumerate(clients):
                client.send_multipart([b"req", b"%d-%d" % (i, round_)])
            for _ in clients:
                worker.send_multipart(worker.recv_multipart() + [b"done"])
            for i, client in enumerate(clients):
                assert client.recv_multipart() == [b"req", b"%d-%d" % (i, round_), b"done"]
        for sock in (*clients, worker):
            sock.close(linger=0)
    finally:
        errors = env.stop()
    _assert_eterm(purezmq, errors[0])


def test_pyzmq_proxy_between_purezmq_sockets(ctx: Any) -> None:
    env = Env(pyzmq_module)
    try:
        front_ep, back_ep = _queue(env)
        client = make_socket(ctx, purezmq.REQ)
        worker = make_socket(ctx, purezmq.REP)
        client.connect(front_ep)
        worker.connect(back_ep)
        for i in range(3):
            client.send_multipart([b"q", str(i).encode()])
            assert worker.recv_multipart() == [b"q", str(i).encode()]
            worker.send(b"a%d" % i)
            assert client.recv() == b"a%d" % i
        client.close(linger=0)
        worker.close(linger=0)
    finally:
        errors = env.stop()
    _assert_eterm(pyzmq_module, errors[0])


def test_purezmq_forwarder_between_pyzmq_pub_and_sub(pyctx: Any) -> None:
    env = Env(purezmq)
    try:
        xsub, xsub_ep = env.bound(purezmq.XSUB)
        xpub, xpub_ep = env.bound(purezmq.XPUB)
        env.run(purezmq.proxy, xsub, xpub)
        publisher = make_socket(pyctx, pyzmq_module.XPUB)
        publisher.connect(xsub_ep)
        subscriber = make_socket(pyctx, pyzmq_module.SUB)
        subscriber.connect(xpub_ep)
        subscriber.subscribe(b"t")
        assert recv_frames(publisher) == [b"\x01t"]
        publisher.send_multipart([b"t", b"1"])
        assert subscriber.recv_multipart() == [b"t", b"1"]
        publisher.close(linger=0)
        subscriber.close(linger=0)
    finally:
        env.stop()


def test_purezmq_refuses_asyncio_sockets() -> None:
    # A deliberate difference: pyzmq's proxy runs over an asyncio socket's underlying blocking
    # socket; purezmq's asyncio sockets have none, so the proxy says so rather than misbehave.
    import purezmq.asyncio

    ctx = purezmq.asyncio.Context()
    try:
        front, back = ctx.socket(purezmq.ROUTER), ctx.socket(purezmq.DEALER)
        with pytest.raises(TypeError, match="blocking"):
            purezmq.proxy(front, back)
    finally:
        ctx.destroy(linger=0)

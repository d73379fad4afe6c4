"""purezmq.anyio (issue 20): sockets awaited under trio and under asyncio, through anyio, each
test on both backends; pyzmq peers in threads; cancellation as trio means it (a cancelled recv
took no message, a cancelled send sent all of a message or none); timeouts and poll."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import zmq

import purezmq

anyio = pytest.importorskip("anyio")
import purezmq.anyio as pza  # noqa: E402 - after the skip

pytestmark = pytest.mark.timeout(60)
BACKENDS = ["asyncio", "trio"]


@pytest.fixture(params=BACKENDS)
def run(request: pytest.FixtureRequest) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    if request.param == "trio":
        pytest.importorskip("trio")

    def _run(main: Callable[[], Awaitable[Any]]) -> Any:
        async def bounded() -> Any:
            with anyio.fail_after(30):
                return await main()

        return anyio.run(bounded, backend=request.param)

    return _run


def socket_of(ctx: pza.Context, kind: int, timeout_ms: int = 5000) -> pza.Socket:
    sock = ctx.socket(kind)
    sock.linger = 0
    sock.rcvtimeo = sock.sndtimeo = timeout_ms
    return sock


def test_req_rep_between_anyio_sockets(run):
    async def main() -> None:
        ctx = pza.Context()
        try:
            rep = socket_of(ctx, purezmq.REP)
            port = rep.bind_to_random_port("tcp://127.0.0.1")
            req = socket_of(ctx, purezmq.REQ)
            req.connect(f"tcp://127.0.0.1:{port}")

            async def serve() -> None:
                for _ in range(20):
                    request = await rep.recv_multipart()
                    await rep.send_multipart([b"re:", *request])

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(serve)
                for n in range(20):
                    await req.send_multipart([b"%d" % n, b"x" * n * 1000])
                    assert await req.recv_multipart() == [b"re:", b"%d" % n, b"x" * n * 1000]
            await req.send_json({"done": True})
            assert await rep.recv_json() == {"done": True}
        finally:
            ctx.destroy(linger=0)

    run(main)


def pyzmq_peer(kind: int, endpoint: str, work: Callable[[Any], None]) -> threading.Thread:
    """A pyzmq socket of ``kind`` connected to ``endpoint``, doing ``work`` in a thread."""
    context = zmq.Context.instance()
    sock = context.socket(kind)
    sock.linger = 5000  # (What it sent is delivered before it closes.)
    sock.rcvtimeo = sock.sndtimeo = 5000
    sock.connect(endpoint)

    def target() -> None:
        try:
            work(sock)
        finally:
            sock.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_against_pyzmq_peers(run):
    async def main() -> None:
        ctx = pza.Context()
        try:
            router = socket_of(ctx, purezmq.ROUTER)
            port = router.bind_to_random_port("tcp://127.0.0.1")

            def ask(sock: Any) -> None:
                sock.send(b"from pyzmq")
                assert sock.recv() == b"answered"

            thread = pyzmq_peer(zmq.DEALER, f"tcp://127.0.0.1:{port}", ask)
            peer_id, body = await router.recv_multipart()
            assert body == b"from pyzmq"
            await router.send_multipart([peer_id, b"answered"])
            await anyio.to_thread.run_sync(thread.join, 10)
            assert not thread.is_alive()

            pull = socket_of(ctx, purezmq.PULL)
            port = pull.bind_to_random_port("tcp://127.0.0.1")
            thread = pyzmq_peer(
                zmq.PUSH,
                f"tcp://127.0.0.1:{port}",
                lambda sock: [sock.send(b"%d" % n) for n in range(100)],
            )
            assert [await pull.recv() for _ in range(100)] == [b"%d" % n for n in range(100)]
            await anyio.to_thread.run_sync(thread.join, 10)
        finally:
            ctx.destroy(linger=0)

    run(main)


def test_a_cancelled_recv_takes_no_message(run):
    """Receivers are cancelled at all sorts of moments while messages arrive: every message is
    received exactly once, in order."""

    async def main() -> None:
        ctx = pza.Context()
        try:
            pull = socket_of(ctx, purezmq.PULL, timeout_ms=-1)
            pull.bind("inproc://cancel-recv")
            push = socket_of(ctx, purezmq.PUSH)
            push.connect("inproc://cancel-recv")
            got: list[bytes] = []
            count = 300

            async def produce() -> None:
                for n in range(count):
                    await push.send(b"%d" % n)
                    if n % 7 == 0:
                        await anyio.sleep(0.001)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(produce)
                attempt = 0
                while len(got) < count:
                    attempt += 1
                    with anyio.move_on_after(0.0005 * (attempt % 5)):
                        got.append(await pull.recv())
            assert got == [b"%d" % n for n in range(count)]
        finally:
            ctx.destroy(linger=0)

    run(main)


def test_a_cancelled_send_sends_all_or_nothing(run):
    """A PUSH whose peer does not read blocks at its high-water mark; sends cancelled there send
    nothing, and what does go goes whole."""

    async def main() -> None:
        ctx = pza.Context()
        try:
            push = socket_of(ctx, purezmq.PUSH, timeout_ms=-1)
            push.sndhwm = 1
            pull = socket_of(ctx, purezmq.PULL)
            pull.rcvhwm = 1
            pull.bind("inproc://cancel-send")
            push.connect("inproc://cancel-send")
            sent = 0
            for n in range(20):
                with anyio.move_on_after(0.02):
                    await push.send_multipart([b"%d" % n, b"a", b"b"])
                    sent += 1
            assert sent < 20  # (Some did block and were cancelled.)
            received = []
            while await pull.poll(200):
                received.append(await pull.recv_multipart())
            assert len(received) == sent
            assert all(len(message) == 3 for message in received)
        finally:
            ctx.destroy(linger=0)

    run(main)


def test_timeouts_and_poll(run):
    async def main() -> None:
        ctx = pza.Context()
        try:
            pull = socket_of(ctx, purezmq.PULL, timeout_ms=100)
            pull.bind("inproc://timeouts")
            with pytest.raises(purezmq.Again):
                await pull.recv()
            with pytest.raises(purezmq.Again):
                await pull.recv(purezmq.NOBLOCK)
            assert await pull.poll(50) == 0
            push = socket_of(ctx, purezmq.PUSH)
            push.connect("inproc://timeouts")
            assert await push.poll(1000, purezmq.POLLOUT) == purezmq.POLLOUT
            await push.send_string("ready")
            assert await pull.poll(1000) == purezmq.POLLIN
            assert await pull.recv_string() == "ready"
        finally:
            ctx.destroy(linger=0)

    run(main)


def test_a_recv_cancelled_before_it_starts_raises_at_once(run):
    async def main() -> None:
        ctx = pza.Context()
        try:
            pull = socket_of(ctx, purezmq.PULL)
            pull.bind("inproc://precancelled")
            push = socket_of(ctx, purezmq.PUSH)
            push.connect("inproc://precancelled")
            await push.send(b"waiting")
            with anyio.CancelScope() as scope:
                scope.cancel()
                await pull.recv()
                raise AssertionError("not cancelled")
            assert await pull.recv() == b"waiting"  # (Still there.)
        finally:
            ctx.destroy(linger=0)

    run(main)

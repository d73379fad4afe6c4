"""A sender that closes right after its last send: a slow libzmq reader still gets everything.

libzmq (ipc) drops what it has not read when the connection hangs up while its pipe is full, so
purezmq shuts its write side and waits for the peer's end-of-stream before closing.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(60)
COUNT = 100_000

SLOW_READER = textwrap.dedent(
    """
    import sys, time, zmq
    ctx = zmq.Context(); s = ctx.socket(zmq.PULL); s.bind(sys.argv[1]); s.rcvtimeo = 3000
    print("bound", flush=True)
    n = 0
    try:
        while True:
            s.recv(); n += 1
            if n % 1000 == 0:
                time.sleep(0.005)
    except zmq.Again:
        pass
    print(n, flush=True)
    """
)


def start_reader(endpoint: str) -> subprocess.Popen[str]:
    reader = subprocess.Popen(
        [sys.executable, "-c", SLOW_READER, endpoint], stdout=subprocess.PIPE, text=True
    )
    assert reader.stdout is not None
    assert reader.stdout.readline().strip() == "bound"
    return reader


def finish(reader: subprocess.Popen[str]) -> int:
    out, _ = reader.communicate(timeout=40)
    return int(out.strip().splitlines()[-1])


def test_blocking_sender_tail_reaches_slow_libzmq_reader(ipc_endpoint: str) -> None:
    import purezmq as zmq

    reader = start_reader(ipc_endpoint)
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.connect(ipc_endpoint)
    for i in range(COUNT):
        push.send(b"%d" % i)
    push.close(linger=-1)
    ctx.term()
    assert finish(reader) == COUNT


def test_asyncio_sender_tail_reaches_slow_libzmq_reader(ipc_endpoint: str) -> None:
    import purezmq
    import purezmq.asyncio as azmq

    reader = start_reader(ipc_endpoint)

    async def send_all() -> int:
        ctx = azmq.Context()
        push = ctx.socket(purezmq.PUSH)
        push.connect(ipc_endpoint)
        for i in range(COUNT):
            await push.send(b"%d" % i)
        push.close(linger=-1)
        # The loop must keep running while the connection flushes: wait for the reader.
        received = await asyncio.to_thread(finish, reader)
        ctx.destroy(linger=0)
        return received

    assert asyncio.run(send_all()) == COUNT

"""Memory per connection: an idle connected pair, and 1,000 DEALERs on one ROUTER.

Run: python benchmarks/memory.py   (raise `ulimit -n` above 2,100 first). Python-heap bytes
only, measured with tracemalloc; kernel socket buffers are not counted.
"""

from __future__ import annotations

import time
import tracemalloc

import purezmq as zmq
from purezmq.transport.selector import READ_SIZE


def heap_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> int:
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def connected_pair(ctx: zmq.Context) -> tuple[zmq.Socket, zmq.Socket]:
    a = ctx.socket(zmq.PAIR)
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b = ctx.socket(zmq.PAIR)
    b.connect(f"tcp://127.0.0.1:{port}")
    for _ in range(3):
        b.send(b"x")
        a.recv()
        a.send(b"y")
        b.recv()
    return a, b


def main(dealers: int = 1000) -> None:
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    warm = ctx.socket(zmq.DEALER)  # start the I/O thread before measuring
    warm.connect(f"tcp://127.0.0.1:{port}")
    warm.send(b"x")
    router.recv_multipart()

    # A first pair outside the measurement: each thread that reads (the I/O thread, this one)
    # gets its one read buffer then (READ_SIZE), a cost per thread, not per connection.
    first = connected_pair(ctx)
    tracemalloc.start()
    start = tracemalloc.take_snapshot()
    second = connected_pair(ctx)
    paired = tracemalloc.take_snapshot()
    print(f"idle connected pair: {heap_growth(start, paired) / 1024:.1f} KiB (both ends)")
    print(f"(plus one {READ_SIZE // 1024} KiB read buffer per thread that reads, shared)")

    began = time.perf_counter()
    sockets = []
    for _ in range(dealers):
        dealer = ctx.socket(zmq.DEALER)
        dealer.connect(f"tcp://127.0.0.1:{port}")
        sockets.append(dealer)
    for dealer in sockets:
        dealer.send(b"hi")
    router.rcvtimeo = 20_000
    for _ in range(dealers):
        router.recv_multipart()
    done = tracemalloc.take_snapshot()
    per = heap_growth(paired, done) / dealers
    took = time.perf_counter() - began
    print(f"{dealers} DEALERs -> ROUTER: every message in {took:.1f} s, {per / 1024:.1f} KiB each")
    del first, second
    ctx.destroy(linger=0)


if __name__ == "__main__":
    main()

"""Memory per connection: an idle connected pair, and 1,000 DEALERs on one ROUTER.

Run: python benchmarks/memory.py   (raise `ulimit -n` above 2,100 first). Python-heap bytes
only, measured with tracemalloc; kernel socket buffers are not counted.
"""

from __future__ import annotations

import time
import tracemalloc

import purezmq as zmq


def heap_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> int:
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def main(dealers: int = 1000) -> None:
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    warm = ctx.socket(zmq.DEALER)  # start the I/O thread before measuring
    warm.connect(f"tcp://127.0.0.1:{port}")
    warm.send(b"x")
    router.recv_multipart()

    tracemalloc.start()
    start = tracemalloc.take_snapshot()
    a = ctx.socket(zmq.PAIR)
    pair_port = a.bind_to_random_port("tcp://127.0.0.1")
    b = ctx.socket(zmq.PAIR)
    b.connect(f"tcp://127.0.0.1:{pair_port}")
    b.send(b"x")
    a.recv()
    a.send(b"y")
    b.recv()
    paired = tracemalloc.take_snapshot()
    print(f"idle connected pair: {heap_growth(start, paired) / 1024:.1f} KiB (both ends)")

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
    ctx.destroy(linger=0)


if __name__ == "__main__":
    main()

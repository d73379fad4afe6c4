"""Inproc request/reply between two threads: where the time of a hop goes.

    python benchmarks/inproc_handoff.py             # three interleaved rounds
    taskset -c 0 python benchmarks/inproc_handoff.py  # both threads on one core

Each round prints, for 20,000 round trips between two threads of this process, the one-way
latency (round trip / 2) and the voluntary context switches per hop (both threads, each
counting its own in /proc/thread-self/status) of:

- ``bare``: two ``threading.Lock`` gates handed back and forth, nothing else: the floor for any
  pure-Python hand-off between two threads here;
- ``purezmq`` and ``pyzmq``: a REQ and a REP socket over inproc.

A hop that wakes its peer once costs one switch. More than one means the woken thread found the
GIL still held by the waker and slept a second time. The figures move with the machine's
noise: compare the lines of one round.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Callable

ROUND_TRIPS = 20_000


def own_switches() -> int:
    """The calling thread's voluntary context switches so far."""
    with open("/proc/thread-self/status") as status:
        for line in status:
            if line.startswith("voluntary_ctxt_switches"):
                return int(line.split()[1])
    raise RuntimeError("no voluntary_ctxt_switches in /proc/thread-self/status")


def ping_pong(ping: Callable[[], None], pong: Callable[[], None]) -> tuple[float, float]:
    """(µs one way, voluntary switches per hop) of ROUND_TRIPS calls of ``ping`` in this
    thread, each answered by one of ``pong`` in another (both after one warm-up call)."""
    peer_switches = []

    def peer() -> None:
        pong()
        before = own_switches()
        for _ in range(ROUND_TRIPS):
            pong()
        peer_switches.append(own_switches() - before)

    thread = threading.Thread(target=peer)
    thread.start()
    ping()
    before = own_switches()
    start = time.perf_counter()
    for _ in range(ROUND_TRIPS):
        ping()
    elapsed = time.perf_counter() - start
    switches = own_switches() - before
    thread.join()
    hops = 2 * ROUND_TRIPS
    return elapsed / hops * 1e6, (switches + peer_switches[0]) / hops


def bare() -> tuple[float, float]:
    mine, theirs = threading.Lock(), threading.Lock()
    mine.acquire()
    theirs.acquire()

    def ping() -> None:
        theirs.release()
        mine.acquire()

    def pong() -> None:
        theirs.acquire()
        mine.release()

    return ping_pong(ping, pong)


def sockets(library: str) -> tuple[float, float]:
    zmq = importlib.import_module(library)
    context = zmq.Context()
    rep = context.socket(zmq.REP)
    rep.bind("inproc://handoff")
    req = context.socket(zmq.REQ)
    req.connect("inproc://handoff")
    message = b"x" * 16

    def ping() -> None:
        req.send(message)
        req.recv()

    def pong() -> None:
        rep.send(rep.recv())

    try:
        return ping_pong(ping, pong)
    finally:
        req.close()
        rep.close()
        context.term()


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    cores = sorted(os.sched_getaffinity(0))
    print(f"{ROUND_TRIPS:,} round trips, threads on cores {cores}; µs one way / switches per hop")
    for _ in range(rounds):
        figures = [("bare", bare()), ("purezmq", sockets("purezmq")), ("pyzmq", sockets("zmq"))]
        print("   ".join(f"{name} {us:5.1f} µs {sw:4.2f}" for name, (us, sw) in figures))


if __name__ == "__main__":
    main()

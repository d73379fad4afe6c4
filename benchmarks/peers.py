"""Per-message cost as the number of connected peers grows, purezmq next to pyzmq.

Run: python benchmarks/peers.py                       (N = 1, 10, 100, 1000; under a minute)
     python benchmarks/peers.py --peers 1,10 --shapes fan_in,route_out --repeat 3

Everything runs in this one process over tcp loopback (127.0.0.1, ports from
bind_to_random_port). For every N, each library gets its own context with a ROUTER and a PUSH,
each with N connected peers; all of them are set up once, before any timing (1,000 connections
take seconds), and reused by every repetition. A repetition goes through every N and both
libraries, in an order reversed at each repetition. Shapes (``--shapes``):

  fan_in      N DEALERs -> ROUTER: each DEALER sends its share, the process goes idle (every
              message sits in the ROUTER's pipes), then only the ROUTER's receive loop is timed:
              µs per received message, fair-queued over N pipes.
  route_out   ROUTER -> N DEALERs by routing id, round-robin over the ids: the send loop is
              timed, µs per sent message (the routing-id lookup); then every DEALER is drained.
  push_out    PUSH -> N PULLs (load-balancing): as route_out, without ids.

The total message count does not depend on N (it is split evenly between the peers), and the
high-water marks are unlimited (0), so a sender never blocks and the figures stay comparable
across N. A lost message is an error (receives have a timeout), never a hang.

Two tables go to stdout, each with the median of ``--repeat`` repetitions and each library's
growth against its own smallest N: the elapsed time of the timed loop, and the CPU time of the
thread that ran it, which leaves out the moments it was descheduled (the steadier figure on a
shared machine) and, for purezmq, its waits for the GIL while its I/O thread works (both
libraries' I/O threads live in this process; libzmq's needs no GIL). Every repetition's figures
go to stderr.

Every N is connected at once, which takes about 12 descriptors per peer, summed over the Ns
(1, 10, 100, 1000: about 13,800); the soft limit is raised up to the hard one when needed, and
an N that still does not fit is skipped with a message that says so.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import zmq as pyzmq

import purezmq

LIBRARIES: dict[str, ModuleType] = {"purezmq": purezmq, "pyzmq": pyzmq}
SHAPES = ("fan_in", "route_out", "push_out")
#: File descriptors per peer and library: both ends of its tcp connection live in this process,
#: plus pyzmq's mailbox (an eventfd) per socket; a margin for listeners and the I/O threads.
FDS_PER_PEER = 3
FDS_MARGIN = 64

Cell = tuple[str, str, int]  # (shape, library, N)


@dataclass
class Figure:
    """One timed loop, in µs per message: elapsed, and CPU time of the thread that ran it."""

    wall: float
    cpu: float


class Stopwatch:
    """Both clocks at once. Elapsed time is what the application sees; the thread's CPU time
    leaves out the moments it was descheduled (other processes on a shared machine) and, for
    purezmq, its waits for the GIL while its I/O thread works, so it is the steadier figure."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.thread_time()

    def per_message(self, count: int) -> Figure:
        wall = time.perf_counter() - self.wall
        cpu = time.thread_time() - self.cpu
        return Figure(wall / count * 1e6, cpu / count * 1e6)


@dataclass
class Topology:
    """One library's sockets for one N: a ROUTER with N DEALERs, a PUSH with N PULLs."""

    name: str
    zmq: ModuleType
    ctx: Any
    peers: int
    router: Any = None
    dealers: list[Any] = field(default_factory=list)
    ids: list[bytes] = field(default_factory=list)
    push: Any = None
    pulls: list[Any] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", default="1,10,100,1000", help="comma-separated peer counts")
    # 50,000 (50 per peer at N=1000) and 5 repetitions: on the noisy 2-core VM fewer let one
    # slow moment decide a cell; the run still takes under a minute there.
    parser.add_argument("--messages", type=int, default=50_000, help="messages per measurement")
    parser.add_argument("--size", type=int, default=16, help="message size in bytes")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions; the median is shown")
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"among {','.join(SHAPES)}")
    parser.add_argument("--timeout", type=float, default=10.0, help="receive timeout, seconds")
    args = parser.parse_args(argv)
    args.peers = [int(n) for n in args.peers.split(",")]
    args.shapes = args.shapes.split(",")
    if any(n < 1 for n in args.peers) or any(s not in SHAPES for s in args.shapes):
        parser.error("peer counts must be >= 1 and shapes among " + ",".join(SHAPES))
    if args.messages < max(args.peers):
        parser.error("--messages must be at least the largest peer count (one message each)")
    return args


def fds_needed(peers: int, shapes: list[str]) -> int:
    """Descriptors for one N with both libraries set up at once (they are interleaved)."""
    groups = ("push_out" in shapes) + any(shape != "push_out" for shape in shapes)
    return len(LIBRARIES) * (groups * peers * FDS_PER_PEER + FDS_MARGIN)


def raise_fd_limit(needed: int) -> int:
    """Raise the soft limit on open files towards ``needed`` (up to the hard limit); the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            print(f"COULD NOT raise the open-file limit from {soft}: {exc}", file=sys.stderr)
            return soft
        print(f"raised the open-file limit from {soft} to {target}", file=sys.stderr)
    if target < needed:
        print(
            f"the open-file limit CANNOT go above the hard limit, {hard}: about {needed} needed",
            file=sys.stderr,
        )
    return target


def wait_idle(limit: float = 10.0) -> bool:
    """Wait until this process (all its threads: both libraries' I/O threads too) is idle, so
    that what was sent has been moved into the receivers' pipes and the next timing is alone."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu = time.process_time()
        time.sleep(0.02)
        if time.process_time() - cpu < 0.002:  # Under 10% of one core over 20 ms.
            return True
    return False


def setup(name: str, peers: int, shapes: list[str], timeout_ms: int) -> Topology:
    zmq = LIBRARIES[name]
    ctx = zmq.Context()
    ctx.set(zmq.MAX_SOCKETS, 2 * peers + 16)  # libzmq's default (1023) is too low for 1000.
    # Unlimited queues: no sender ever blocks, so each figure is the path's own cost.
    for option in (zmq.SNDHWM, zmq.RCVHWM, zmq.LINGER):
        ctx.setsockopt(option, 0)
    ctx.setsockopt(zmq.RCVTIMEO, timeout_ms)
    ctx.setsockopt(zmq.SNDTIMEO, timeout_ms)
    top = Topology(name, zmq, ctx, peers)
    if "fan_in" in shapes or "route_out" in shapes:
        top.router = ctx.socket(zmq.ROUTER)
        top.router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # An unknown id is an error, not a drop.
        port = top.router.bind_to_random_port("tcp://127.0.0.1")
        for i in range(peers):
            dealer = ctx.socket(zmq.DEALER)
            dealer.setsockopt(zmq.ROUTING_ID, b"peer-%d" % i)
            dealer.connect(f"tcp://127.0.0.1:{port}")
            top.dealers.append(dealer)
            top.ids.append(b"peer-%d" % i)
        # Every DEALER says hello: once the ROUTER has them all, every connection is up and
        # every routing id is known (a ROUTER only learns a peer at its handshake).
        for dealer in top.dealers:
            dealer.send(b"hello")
        for _ in range(peers):
            top.router.recv_multipart()
    if "push_out" in shapes:
        top.push = ctx.socket(zmq.PUSH)
        port = top.push.bind_to_random_port("tcp://127.0.0.1")
        for _ in range(peers):
            pull = ctx.socket(zmq.PULL)
            pull.connect(f"tcp://127.0.0.1:{port}")
            top.pulls.append(pull)
        # A PUSH only balances over the peers it is connected to: probe until one round of N
        # messages reaches every PULL, once each.
        wait_connected(zmq, top.push, top.pulls)
    return top


def wait_connected(zmq: ModuleType, push: Any, pulls: list[Any]) -> None:
    deadline = time.monotonic() + 60
    while True:
        for _ in pulls:
            push.send(b"probe")
        wait_idle()
        got = [drain_all(zmq, pull) for pull in pulls]
        if all(got) and sum(got) == len(pulls):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sum(1 for g in got if g)} of {len(pulls)} PULLs connected")


def drain_all(zmq: ModuleType, sock: Any) -> int:
    """Receive whatever is queued without waiting; the count."""
    count = 0
    while try_recv(zmq, sock):
        count += 1
    return count


def try_recv(zmq: ModuleType, sock: Any) -> bool:
    """Whether a message was waiting (and is now taken), without waiting for one."""
    try:
        sock.recv(zmq.NOBLOCK)
    except zmq.Again:
        return False
    return True


def close(top: Topology) -> None:
    for sock in [top.router, top.push, *top.dealers, *top.pulls]:
        if sock is not None:
            sock.close(linger=0)
    top.ctx.destroy(linger=0)


def fan_in(top: Topology, total: int, payload: bytes) -> Figure:
    """µs per message received by the ROUTER from all N DEALERs, each sending its share."""
    share = total // len(top.dealers)
    for dealer in top.dealers:
        for _ in range(share):
            dealer.send(payload)
    if not wait_idle():
        raise RuntimeError("the process did not go idle after sending")
    # Frame by frame (routing id, then payload): pyzmq's recv_multipart asks for RCVMORE
    # through getsockopt, a few µs per message here that would drown both libraries' own paths.
    recv = top.router.recv
    count = share * len(top.dealers)
    watch = Stopwatch()
    for _ in range(count):
        recv()
        last = recv()
    figure = watch.per_message(count)
    if last != payload:
        raise RuntimeError(f"the ROUTER got {last!r}, not the payload")
    if try_recv(top.zmq, top.router):
        raise RuntimeError("the ROUTER got more messages than were sent")
    return figure


def route_out(top: Topology, total: int, payload: bytes) -> Figure:
    """µs per message the ROUTER sends, round-robin over the N DEALERs' routing ids."""
    ids = top.ids
    share = total // len(ids)
    send = top.router.send
    # A plain int: zmq.SNDMORE is an IntFlag, and ``flags & SNDMORE`` on one runs enum's
    # Python __and__ (about 2 µs here), twice per message in purezmq's send; pyzmq's
    # send_multipart pays the same for ``SNDMORE | flags``. Neither is the routing path.
    more = int(top.zmq.SNDMORE)
    watch = Stopwatch()
    for _ in range(share):
        for routing_id in ids:
            send(routing_id, more)  # Frame by frame, as the ROUTER receives in fan_in.
            send(payload)
    figure = watch.per_message(share * len(ids))
    receive_shares(top.zmq, top.dealers, share)
    return figure


def push_out(top: Topology, total: int, payload: bytes) -> Figure:
    """µs per message the PUSH sends, load-balanced over the N PULLs."""
    share = total // len(top.pulls)
    count = share * len(top.pulls)
    send = top.push.send
    watch = Stopwatch()
    for _ in range(count):
        send(payload)
    figure = watch.per_message(count)
    receive_shares(top.zmq, top.pulls, share)
    return figure


def receive_shares(zmq: ModuleType, receivers: list[Any], share: int) -> None:
    """Each receiver gets exactly its share (a missing one raises Again after the timeout), so
    the next repetition starts from empty queues."""
    for sock in receivers:
        for _ in range(share):
            sock.recv()
        if try_recv(zmq, sock):
            raise RuntimeError("a receiver got more than its share")


MEASURES: dict[str, Callable[[Topology, int, bytes], Figure]] = {
    "fan_in": fan_in,
    "route_out": route_out,
    "push_out": push_out,
}


def set_up_all(peer_counts: list[int], args: argparse.Namespace) -> list[Topology]:
    """Both libraries' sockets for every N, connected once and reused by every repetition."""
    tops = []
    for peers in peer_counts:
        for name in LIBRARIES:
            began = time.perf_counter()
            tops.append(setup(name, peers, args.shapes, int(args.timeout * 1000)))
            took = time.perf_counter() - began
            print(f"N={peers}: {name} connected in {took:.1f} s", file=sys.stderr)
    return tops


def measure_all(tops: list[Topology], args: argparse.Namespace) -> dict[Cell, list[Figure]]:
    """Every repetition of every shape on every topology: (shape, library, N) -> figures.

    A repetition goes through every N and both libraries, in an order that flips at each
    repetition: the machine's slow moments (a noisy VM) then spread over all the cells instead
    of landing on one N, which would read as growth."""
    payload = b"x" * args.size
    # One untimed round first (a tenth of the messages): first-use costs stay out.
    for top in tops:
        for shape in args.shapes:
            MEASURES[shape](top, max(args.messages // 10, top.peers), payload)
    results: dict[Cell, list[Figure]] = {}
    for rep in range(args.repeat):
        for top in tops if rep % 2 == 0 else tops[::-1]:
            for shape in args.shapes:
                # A full garbage collection walks every live object, here every N's thousands
                # of connections: landing inside one timed loop and not another, it would decide
                # the cell (purezmq allocates a list per message, so collections do come). Each
                # measurement starts from a fresh one; the collections its own messages cause
                # stay in its figure.
                gc.collect()
                wait_idle()
                figure = MEASURES[shape](top, args.messages, payload)
                results.setdefault((shape, top.name, top.peers), []).append(figure)
    return results


def growth(figures: dict[int, float], peers: int) -> str:
    base = figures[min(figures)]
    return f"{figures[peers] / base:.2f}x"


def print_table(cells: dict[Cell, float], args: argparse.Namespace, unit: str) -> None:
    names = list(LIBRARIES)
    base = min(n for n in args.peers if any(k[2] == n for k in cells))
    header = ["shape", "N"] + [f"{n} {unit}" for n in names] + [f"{n} vs N={base}" for n in names]
    rows = []
    for shape in args.shapes:
        for peers in args.peers:
            if (shape, names[0], peers) not in cells:
                continue
            row = [shape, str(peers)]
            row += [f"{cells[shape, n, peers]:.2f}" for n in names]
            for n in names:
                series = {p: cells[shape, n, p] for p in args.peers if (shape, n, p) in cells}
                row.append(growth(series, peers))
            rows.append(row)
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    # Every N is set up at once (so that repetitions can interleave them): the descriptors add up.
    limit = raise_fd_limit(sum(fds_needed(n, args.shapes) for n in args.peers))
    peer_counts = sorted(args.peers)
    while peer_counts and sum(fds_needed(n, args.shapes) for n in peer_counts) > limit:
        dropped = peer_counts.pop()
        print(
            f"N={dropped} SKIPPED: not enough open files (limit {limit}, about "
            f"{sum(fds_needed(n, args.shapes) for n in [*peer_counts, dropped])} needed); "
            "raise the hard limit (ulimit -Hn, as root) to measure it",
            file=sys.stderr,
        )
    tops = set_up_all(peer_counts, args)
    # Out of the garbage collector's sight: the collection before each measurement (see
    # measure_all) then costs little, instead of walking thousands of connections every time.
    gc.collect()
    gc.freeze()
    try:
        results = measure_all(tops, args)
    finally:
        for top in tops:
            close(top)
    wall: dict[Cell, float] = {}
    cpu: dict[Cell, float] = {}
    for cell, figures in sorted(results.items()):
        wall[cell] = statistics.median(f.wall for f in figures)
        cpu[cell] = statistics.median(f.cpu for f in figures)
        raw = " ".join(f"{f.wall:.2f}/{f.cpu:.2f}" for f in figures)
        print(f"  {cell[0]} N={cell[2]} {cell[1]}: {raw} µs/msg (elapsed/CPU)", file=sys.stderr)
    print(
        f"{args.messages} messages of {args.size} B per figure, median of {args.repeat}; "
        f"{time.perf_counter() - began:.0f} s in all",
        file=sys.stderr,
    )
    print("Elapsed time of the timed loop, µs per message (median):\n")
    print_table(wall, args, "µs/msg")
    print("\nCPU time of the thread running the loop, µs per message (median):\n")
    print_table(cpu, args, "CPU µs/msg")
    return 0


if __name__ == "__main__":
    sys.exit(main())

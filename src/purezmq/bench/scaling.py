"""The scaling sweep's measuring side: per-message cost as the number of peers grows, and the
memory an idle connection holds. Each library runs in a worker process of its own.

``scaling`` (one process per library and repetition) sets up, for every N, a ROUTER with N
DEALERs, a PUSH with N PULLs and a PUB with N SUBs, all connected before any timing, over tcp
loopback. The total message count does not depend on N (each peer gets its share), queues are
unlimited (HWM 0) so nothing blocks or drops, and every message is accounted for (a missing one
is a receive timeout, an error, never a hang). Shapes:

  fan_in     N DEALERs -> ROUTER. The DEALERs send, the process goes idle (every message is in
             the ROUTER's queues), then the ROUTER's receive loop is timed, fair-queued over N.
  route_out  ROUTER -> N DEALERs, round-robin over their routing ids: the send loop is timed.
  push_out   PUSH -> N PULLs (load-balancing): the send loop is timed.
  pub_out    PUB -> N SUBs: from the first send until every SUB has every message, per delivery
             (the PUB sends total / N messages, so the deliveries do not depend on N).

Each figure is µs per message (per delivery for pub_out), elapsed and CPU: the process's CPU
time over the timed span, every thread (libzmq's I/O threads, purezmq's) included; the best of
ROUNDS rounds through every cell.

``idle-router`` and ``idle-dealers`` measure memory per idle connection: a ROUTER in one process,
the connecting DEALERs (one socket each) spread over several processes so that no process needs
more descriptors than a default hard limit allows. Each process reports its resident memory's
growth from just before its sockets were made to when every connection is up and idle.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Defaults of the sweep: peers per ROUTER and PUSH, subscribers per PUB, idle connections.
PEERS = (1, 10, 100, 1000)
SUBSCRIBERS = (1, 4, 16, 64)
IDLE_CONNECTIONS = 10_000
#: How many DEALERs one process of the idle-memory measure holds at most.
DEALERS_PER_PROCESS = 2_500
#: Timed rounds per cell in one worker; the best is reported.
ROUNDS = 3
#: A high-water mark above any measure's message count.
UNFILLED_HWM = 10_000_000
SHAPES = ("fan_in", "route_out", "push_out", "pub_out")
#: Descriptors per peer: both ends of its tcp connection live in the process, plus libzmq's
#: mailbox per socket; a margin for listeners, wake-up pipes and the I/O threads.
FDS_PER_PEER = 3
FDS_MARGIN = 64


def raise_fd_limit(needed: int) -> int:
    """Raise the soft limit on open files towards ``needed`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


def resident_bytes() -> int:
    """This process's resident memory now (Linux); its peak elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def wait_idle(limit: float = 10.0) -> bool:
    """Wait until this process (its I/O threads too) is idle: what was sent is in the
    receivers' queues and the next timing runs alone."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu = time.process_time()
        time.sleep(0.02)
        if time.process_time() - cpu < 0.002:  # Under 10% of one core over 20 ms.
            return True
    return False


@dataclass
class Figure:
    """One timed span, in µs per message: elapsed, and the process's CPU time."""

    wall: float
    cpu: float


class Stopwatch:
    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def per_message(self, count: int) -> Figure:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        return Figure(wall / count * 1e6, cpu / count * 1e6)


@dataclass
class Topology:
    """One N's sockets (of one library): the shapes that use N peers."""

    zmq: Any
    ctx: Any
    peers: int
    router: Any = None
    dealers: list[Any] = field(default_factory=list)
    ids: list[bytes] = field(default_factory=list)
    push: Any = None
    pulls: list[Any] = field(default_factory=list)
    pub: Any = None
    subs: list[Any] = field(default_factory=list)

    def sockets(self) -> list[Any]:
        return [self.router, self.push, self.pub, *self.dealers, *self.pulls, *self.subs]


def _context(zmq: Any, sockets: int) -> Any:
    ctx = zmq.Context()
    if hasattr(zmq, "MAX_SOCKETS"):
        ctx.set(zmq.MAX_SOCKETS, sockets + 16)  # libzmq's default (1023) is too low for 1000.
    return ctx


def _socket(zmq: Any, ctx: Any, kind: int, timeout_ms: int) -> Any:
    """A socket with queues no measure fills (no sender ever blocks or drops, so each figure is
    the path's own cost) and receive/send timeouts (a lost message is an error, not a hang).
    (Not HWM 0, libzmq's "unlimited": pyomq takes 0 literally and drops every message.)"""
    sock = ctx.socket(kind)
    for option, value in (
        (zmq.SNDHWM, UNFILLED_HWM),
        (zmq.RCVHWM, UNFILLED_HWM),
        (zmq.LINGER, 0),
        (zmq.RCVTIMEO, timeout_ms),
        (zmq.SNDTIMEO, timeout_ms),
    ):
        sock.setsockopt(option, value)
    return sock


def _bound(sock: Any) -> str:
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    return f"tcp://127.0.0.1:{port}"


def set_up(zmq: Any, ctx: Any, peers: int, shapes: list[str], timeout_ms: int) -> Topology:
    top = Topology(zmq, ctx, peers)

    def socket(kind: int) -> Any:
        return _socket(zmq, ctx, kind, timeout_ms)

    if "fan_in" in shapes or "route_out" in shapes:
        top.router = socket(zmq.ROUTER)
        top.router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # An unknown id is an error, not a drop.
        endpoint = _bound(top.router)
        for i in range(peers):
            dealer = socket(zmq.DEALER)
            dealer.setsockopt(zmq.ROUTING_ID, b"peer-%d" % i)
            dealer.connect(endpoint)
            top.dealers.append(dealer)
            top.ids.append(b"peer-%d" % i)
        # A ROUTER learns a peer at its handshake: once it has every hello, every id is known.
        for dealer in top.dealers:
            dealer.send(b"hello")
        for _ in range(peers):
            top.router.recv_multipart()
    if "push_out" in shapes:
        top.push = socket(zmq.PUSH)
        endpoint = _bound(top.push)
        for _ in range(peers):
            pull = socket(zmq.PULL)
            pull.connect(endpoint)
            top.pulls.append(pull)
        _wait_balanced(top)
    if "pub_out" in shapes:
        top.pub = socket(zmq.PUB)
        endpoint = _bound(top.pub)
        for _ in range(peers):
            sub = socket(zmq.SUB)
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            sub.connect(endpoint)
            top.subs.append(sub)
        _wait_subscribed(top)
    return top


def _wait_balanced(top: Topology) -> None:
    """A PUSH balances over the peers it is connected to: probe until one round of N messages
    reaches every PULL once."""
    deadline = time.monotonic() + 60
    while True:
        for _ in top.pulls:
            top.push.send(b"probe")
        wait_idle()
        got = [_drain(top.zmq, pull) for pull in top.pulls]
        if all(got) and sum(got) == len(top.pulls):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sum(map(bool, got))} of {len(got)} PULLs connected")


def _wait_subscribed(top: Topology) -> None:
    """Probe until every SUB gets the PUB's probes (connected, and subscribed at the PUB)."""
    deadline = time.monotonic() + 60
    while not all([_drain(top.zmq, sub) for sub in top.subs]):
        top.pub.send(b"probe")
        wait_idle()
        if time.monotonic() > deadline:
            raise RuntimeError("not every SUB got the PUB's probes")
    wait_idle()
    for sub in top.subs:
        _drain(top.zmq, sub)


def _try_recv(zmq: Any, sock: Any) -> bool:
    """Take a message if one is waiting. (Any ZMQError means none: pyomq's NOBLOCK receive on
    an empty PULL fails with an internal error, not Again, and its poll misses a SUB's.)"""
    try:
        sock.recv(zmq.NOBLOCK)
    except zmq.ZMQError:
        return False
    return True


def _drain(zmq: Any, sock: Any) -> int:
    count = 0
    while _try_recv(zmq, sock):
        count += 1
    return count


def _receive_shares(zmq: Any, receivers: list[Any], share: int) -> None:
    """Each receiver gets exactly its share, so that the next measure starts from empty queues."""
    for sock in receivers:
        recv = sock.recv
        for _ in range(share):
            recv()
        if _try_recv(zmq, sock):
            raise RuntimeError("a receiver got more than its share")


def fan_in(top: Topology, total: int, payload: bytes) -> Figure:
    share = total // len(top.dealers)
    for dealer in top.dealers:
        for _ in range(share):
            dealer.send(payload)
    if not wait_idle():
        raise RuntimeError("the process did not go idle after sending")
    # Frame by frame: pyzmq's recv_multipart asks for RCVMORE through getsockopt, a cost per
    # message that is neither library's routing path.
    recv = top.router.recv
    count = share * len(top.dealers)
    last = b""
    watch = Stopwatch()
    for _ in range(count):
        recv()
        last = recv()
    figure = watch.per_message(count)
    if last != payload:
        raise RuntimeError(f"the ROUTER got {last!r}, not the payload")
    if _try_recv(top.zmq, top.router):
        raise RuntimeError("the ROUTER got more messages than were sent")
    return figure


def route_out(top: Topology, total: int, payload: bytes) -> Figure:
    ids = top.ids
    share = total // len(ids)
    send = top.router.send
    more = int(top.zmq.SNDMORE)  # (A plain int: flags & an IntFlag runs enum's Python code.)
    watch = Stopwatch()
    for _ in range(share):
        for routing_id in ids:
            send(routing_id, more)
            send(payload)
    figure = watch.per_message(share * len(ids))
    _receive_shares(top.zmq, top.dealers, share)
    return figure


def push_out(top: Topology, total: int, payload: bytes) -> Figure:
    share = total // len(top.pulls)
    send = top.push.send
    watch = Stopwatch()
    for _ in range(share * len(top.pulls)):
        send(payload)
    figure = watch.per_message(share * len(top.pulls))
    _receive_shares(top.zmq, top.pulls, share)
    return figure


def pub_out(top: Topology, total: int, payload: bytes) -> Figure:
    count = max(1, total // len(top.subs))
    send = top.pub.send
    watch = Stopwatch()
    for _ in range(count):
        send(payload)
    _receive_shares(top.zmq, top.subs, count)
    return watch.per_message(count * len(top.subs))


MEASURES: dict[str, Callable[[Topology, int, bytes], Figure]] = {
    "fan_in": fan_in,
    "route_out": route_out,
    "push_out": push_out,
    "pub_out": pub_out,
}


def measure(
    zmq: Any,
    peers: list[int],
    subscribers: list[int],
    shapes: list[str],
    messages: int,
    size: int,
    timeout_ms: int,
) -> list[dict[str, Any]]:
    """Every shape at every N, the best of ROUNDS (after an untimed round): the cells."""
    fan = [s for s in shapes if s != "pub_out"]
    counts = sorted(set(peers if fan else []) | set(subscribers if "pub_out" in shapes else []))
    biggest = sum(counts) * (len(fan) + ("pub_out" in shapes))
    raise_fd_limit(FDS_PER_PEER * biggest + FDS_MARGIN)
    ctx = _context(zmq, 2 * biggest)
    tops: list[tuple[Topology, list[str]]] = []
    for n in counts:
        wanted = [s for s in shapes if (n in subscribers if s == "pub_out" else n in peers)]
        tops.append((set_up(zmq, ctx, n, wanted, timeout_ms), wanted))
    payload = b"x" * size
    # Out of the collector's sight: a full collection would walk every connection, landing in
    # one timed loop and not another. Each measure starts after a fresh one.
    gc.collect()
    gc.freeze()
    best: dict[tuple[str, int], Figure] = {}
    try:
        for top, wanted in tops:
            for shape in wanted:
                MEASURES[shape](top, max(messages // 10, top.peers), payload)  # untimed
        # Rounds through every cell, each cell's best kept: on a shared machine a single
        # figure swings by half (the same loop, run again) and the best is the one the
        # machine disturbed least. Rounds alternate their order so that no N is always first.
        for round_ in range(ROUNDS):
            for top, wanted in tops if round_ % 2 == 0 else tops[::-1]:
                for shape in wanted:
                    gc.collect()
                    wait_idle()
                    figure = MEASURES[shape](top, messages, payload)
                    key = (shape, top.peers)
                    if key not in best or figure.cpu < best[key].cpu:
                        best[key] = figure
    finally:
        for top, _ in tops:
            for sock in top.sockets():
                if sock is not None:
                    sock.close(linger=0)
        ctx.destroy(linger=0)
    return [
        {"shape": shape, "n": n, "wall": best[shape, n].wall, "cpu": best[shape, n].cpu}
        for top, wanted in tops
        for shape in wanted
        for n in [top.peers]
    ]


# -- memory per idle connection ------------------------------------------------------------------


def idle_router(zmq: Any, connections: int, emit: Callable[[str, Any], None]) -> None:
    """Bind a ROUTER, wait for a hello on every connection, report the memory it took."""
    raise_fd_limit(connections + FDS_MARGIN)
    ctx = _context(zmq, 1)
    router = _socket(zmq, ctx, zmq.ROUTER, 120_000)
    endpoint = _bound(router)
    gc.collect()
    before = resident_bytes()
    emit("READY", endpoint)
    for _ in range(connections):
        router.recv_multipart()
    wait_idle()
    emit("RESULT", {"bytes": resident_bytes() - before, "connections": connections})
    sys.stdin.read()  # Hold the connections until the dealers have measured too.
    router.close(linger=0)
    ctx.destroy(linger=0)


def idle_dealers(
    zmq: Any, endpoint: str, connections: int, emit: Callable[[str, Any], None]
) -> None:
    """Connect ``connections`` DEALERs (a socket each), say hello, wait to be released, report."""
    raise_fd_limit(FDS_PER_PEER * connections + FDS_MARGIN)
    ctx = _context(zmq, connections)
    gc.collect()
    before = resident_bytes()
    dealers = []
    for _ in range(connections):
        dealer = _socket(zmq, ctx, zmq.DEALER, 120_000)
        dealer.connect(endpoint)
        dealer.send(b"hello")
        dealers.append(dealer)
    sys.stdin.read()  # The runner releases us once the ROUTER has every hello: all are up.
    wait_idle()
    emit("RESULT", {"bytes": resident_bytes() - before, "connections": connections})
    for dealer in dealers:
        dealer.close(linger=0)
    ctx.destroy(linger=0)

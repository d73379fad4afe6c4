"""What is benchmarked: the libraries, the tests and their nominal counts, the sweep's sizes.

Its own module because the workers, the runner, the report and the command line all read it,
and it depends on none of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lib:
    """A pyzmq-compatible library: its blocking module, its asyncio module, its distribution."""

    name: str
    module: str
    asyncio_module: str
    dist: str


LIBS: dict[str, Lib] = {
    "purezmq": Lib("purezmq", "purezmq", "purezmq.asyncio", "purezmq"),
    "pyzmq": Lib("pyzmq", "zmq", "zmq.asyncio", "pyzmq"),
    "pyomq": Lib("pyomq", "pyomq", "pyomq.asyncio", "pyomq"),
    # The floor: the tcp tests with bare socket calls (bench/bare.py), no library at all.
    "bare": Lib("bare", "socket", "", ""),
}
BASELINE = "pyzmq"  # the ratio column is purezmq / BASELINE


@dataclass(frozen=True)
class Test:
    name: str
    kind: str  # thr, lat, pubsub, inproc_thr, inproc_lat
    transport: str  # tcp, ipc, inproc
    count: int  # messages (thr, pubsub) or round trips (lat) at --scale 1
    size: int  # bytes per message
    unit: str
    higher_is_better: bool
    description: str
    aio: bool = False
    #: purezmq's side under trio (purezmq.anyio); the others, which have no trio API, on asyncio.
    trio: bool = False
    subscribers: int = 0
    curve: bool = False
    #: JSON documents, which purezmq compresses between its own peers (Socket.set_compression).
    compress: bool = False


MIB = 1 << 20

TESTS: dict[str, Test] = {
    t.name: t
    for t in (
        Test(
            "thr", "thr", "tcp", 1_000_000, 16, "msg/s", True,
            "PUSH -> PULL over tcp loopback, two processes; messages/s at the receiver, "
            "timed from its first message",
        ),
        Test(
            "lat", "lat", "tcp", 20_000, 16, "µs", False,
            "REQ <-> REP over tcp loopback, two processes; one-way latency = round trip / 2",
        ),
        Test(
            "big", "thr", "tcp", 2_000, MIB, "GB/s", True,
            "PUSH -> PULL over tcp loopback, 1 MiB messages; GB/s (10^9 bytes) at the receiver",
        ),
        Test(
            "pubsub", "pubsub", "tcp", 200_000, 16, "deliveries/s", True,
            "one PUB to 4 SUB processes over tcp loopback; messages received by all SUBs "
            "together per second (PUB drops at its high-water mark; the JSON has the share "
            "delivered)",
            subscribers=4,
        ),
        Test(
            "pubsub_16", "pubsub", "tcp", 50_000, 16, "deliveries/s", True,
            "as pubsub, to 16 SUB processes (the same deliveries in all)",
            subscribers=16,
        ),
        Test(
            "pubsub_64", "pubsub", "tcp", 12_500, 16, "deliveries/s", True,
            "as pubsub, to 64 SUB processes (the same deliveries in all)",
            subscribers=64,
        ),
        Test(
            "inproc_thr", "inproc_thr", "inproc", 1_000_000, 16, "msg/s", True,
            "PUSH -> PULL over inproc, two threads of one process",
        ),
        Test(
            "inproc_lat", "inproc_lat", "inproc", 20_000, 16, "µs", False,
            "REQ <-> REP over inproc, two threads of one process; one-way latency",
        ),
        Test(
            "ipc_thr", "thr", "ipc", 1_000_000, 16, "msg/s", True,
            "as thr, over ipc; a Unix socket in a temporary directory",
        ),
        Test(
            "curve_thr", "thr", "tcp", 200_000, 16, "msg/s", True,
            "as thr, encrypted with CURVE (each side's own keys; libsodium via PyNaCl for "
            "purezmq)",
            curve=True,
        ),
        Test(
            "json_thr", "thr", "tcp", 50_000, 16384, "msg/s", True,
            "as thr, with 16 KiB JSON documents: purezmq compresses them between its own "
            "peers (set_compression, zstd), pyzmq and pyomq send them as they are",
            compress=True,
        ),
        Test(
            "asyncio_thr", "thr", "tcp", 1_000_000, 16, "msg/s", True,
            "as thr, with the asyncio API; purezmq.asyncio / zmq.asyncio / pyomq.asyncio, "
            "each side its own process and event loop",
            aio=True,
        ),
        Test(
            "asyncio_lat", "lat", "tcp", 20_000, 16, "µs", False,
            "as lat, with the asyncio API; each side its own process and event loop",
            aio=True,
        ),
        Test(
            "trio_thr", "thr", "tcp", 300_000, 16, "msg/s", True,
            "as thr, purezmq.anyio under trio; pyzmq and pyomq, which have no trio API, with "
            "their asyncio one (what a trio user gives up or gains)",
            trio=True,
        ),
        Test(
            "trio_lat", "lat", "tcp", 20_000, 16, "µs", False,
            "as lat, purezmq.anyio under trio; the others with their asyncio API",
            trio=True,
        ),
    )
}  # fmt: skip

#: Message sizes of the sweep: powers of 4 from 8 B, and 1 MiB.
SWEEP_SIZES: tuple[int, ...] = (8, 32, 128, 512, 2048, 8192, 32768, 131072, 524288, MIB)


def sweep_count(size: int, scale: float) -> int:
    """Messages sent at one sweep size: 200,000, capped at 1 GiB, at least 1,000 (times scale)."""
    base = max(1_000, min(200_000, (1024 * MIB) // size))
    return scaled(base, scale)


def scaled(count: int, scale: float) -> int:
    return max(2, round(count * scale))


#: Messages per figure of the scaling sweep at --scale 1 (split between the N peers).
SCALING_MESSAGES = 50_000

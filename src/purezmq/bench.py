"""Benchmark runner: purezmq against pyzmq (and pyomq when it is installed), in one run.

Modelled on libzmq's ``local_thr``/``remote_thr`` and ``local_lat``/``remote_lat``: each side of a
benchmark is its own process (this module run again with the hidden ``_worker`` role), started by
the runner and killed by it when it overruns ``--timeout``.  The libraries are interleaved
(for each repetition: purezmq, pyzmq, pyomq, then again), and each figure is the median of
``--repeat`` repetitions.  Entry points: ``main(argv)`` (wired as ``purezmq bench``) and
``python -m purezmq.bench``.  See ``benchmarks/README.md`` for what each test measures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import queue
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from purezmq._argtypes import positive_int

__all__ = ["LIBS", "TESTS", "main"]

# -- what is benchmarked ------------------------------------------------------------------------


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
    subscribers: int = 0
    curve: bool = False


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


# -- the worker: one side of one benchmark, in its own process ----------------------------------


def _emit(tag: str, payload: Any) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    sys.stdout.write(f"{tag} {text}\n")
    sys.stdout.flush()


def _endpoint_of(sock: Any, zmq: Any) -> str:
    endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
    return endpoint.decode() if isinstance(endpoint, bytes) else str(endpoint)


def _bind(sock: Any, zmq: Any, spec: str) -> str:
    sock.bind(spec)
    return _endpoint_of(sock, zmq)


def _hold() -> None:
    """Keep this process (and its library's I/O) alive until the runner closes our stdin."""
    sys.stdin.read()


async def _ahold() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def _payload(size: int, tag: bytes = b"x") -> bytes:
    return (tag * size)[:size]


def _w_thr_recv(zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    server_key = ""
    if a.curve:
        public, secret = zmq.curve_keypair()
        pull.curve_secretkey = secret
        pull.curve_server = 1
        server_key = " " + public.decode("ascii")
    _emit("READY", _bind(pull, zmq, a.bind) + server_key)
    recv = pull.recv
    recv()
    start = time.perf_counter()
    for _ in range(a.count - 1):
        recv()
    elapsed = time.perf_counter() - start
    _emit("RESULT", {"messages": a.count - 1, "elapsed": elapsed, "size": a.size})
    ctx.destroy(linger=0)


def _w_thr_send(zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    if a.serverkey:
        public, secret = zmq.curve_keypair()
        push.curve_publickey = public
        push.curve_secretkey = secret
        push.curve_serverkey = a.serverkey.encode("ascii")
    push.connect(a.connect[0])
    msg = _payload(a.size)
    send = push.send
    for _ in range(a.count):
        send(msg)
    _hold()
    ctx.destroy(linger=0)


def _w_lat_rep(zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    _emit("READY", _bind(rep, zmq, a.bind))
    recv, send = rep.recv, rep.send
    for _ in range(a.count + 1):  # one untimed warm-up round trip, then the timed ones
        send(recv())
    _hold()
    ctx.destroy(linger=0)


def _w_lat_req(zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    req = ctx.socket(zmq.REQ)
    req.connect(a.connect[0])
    msg = _payload(a.size)
    recv, send = req.recv, req.send
    send(msg)  # the first round trip also sets up the connection: not timed
    recv()
    start = time.perf_counter()
    for _ in range(a.count):
        send(msg)
        recv()
    elapsed = time.perf_counter() - start
    _emit("RESULT", {"roundtrips": a.count, "elapsed": elapsed})
    ctx.destroy(linger=0)


async def _aw_thr_recv(zmq: Any, azmq: Any, a: argparse.Namespace) -> None:
    ctx = azmq.Context()
    pull = ctx.socket(zmq.PULL)
    _emit("READY", _bind(pull, zmq, a.bind))
    recv = pull.recv
    await recv()
    start = time.perf_counter()
    for _ in range(a.count - 1):
        await recv()
    elapsed = time.perf_counter() - start
    _emit("RESULT", {"messages": a.count - 1, "elapsed": elapsed, "size": a.size})
    ctx.destroy(linger=0)


async def _aw_thr_send(zmq: Any, azmq: Any, a: argparse.Namespace) -> None:
    ctx = azmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.connect(a.connect[0])
    msg = _payload(a.size)
    send = push.send
    for _ in range(a.count):
        await send(msg)
    await _ahold()
    ctx.destroy(linger=0)


async def _aw_lat_rep(zmq: Any, azmq: Any, a: argparse.Namespace) -> None:
    ctx = azmq.Context()
    rep = ctx.socket(zmq.REP)
    _emit("READY", _bind(rep, zmq, a.bind))
    recv, send = rep.recv, rep.send
    for _ in range(a.count + 1):
        await send(await recv())
    await _ahold()
    ctx.destroy(linger=0)


async def _aw_lat_req(zmq: Any, azmq: Any, a: argparse.Namespace) -> None:
    ctx = azmq.Context()
    req = ctx.socket(zmq.REQ)
    req.connect(a.connect[0])
    msg = _payload(a.size)
    recv, send = req.recv, req.send
    await send(msg)
    await recv()
    start = time.perf_counter()
    for _ in range(a.count):
        await send(msg)
        await recv()
    elapsed = time.perf_counter() - start
    _emit("RESULT", {"roundtrips": a.count, "elapsed": elapsed})
    ctx.destroy(linger=0)


def _drain(sock: Any) -> list[bytes]:
    # poll(0) before each recv rather than recv(DONTWAIT) until Again: pyomq 0.21 raises a
    # plain ZMQError ("internal error"), not Again, for a DONTWAIT recv with nothing queued.
    out = []
    while sock.poll(0):
        out.append(sock.recv())
    return out


def _w_pub(zmq: Any, a: argparse.Namespace) -> None:
    """PUB side of pubsub: probe until every SUB is subscribed, publish, collect the counts.

    Every message starts with a tag byte: P(robe), D(ata), E(nd).  A SUB answers its first probe
    with "ready" on the PUSH -> PULL sync pair (so it is connected *and* its subscription has
    reached the PUB), counts D messages, and on E reports its count and the monotonic times of
    its first and last D.  E is resent until every SUB has reported, since the PUB may drop it.
    """
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    sync = ctx.socket(zmq.PULL)
    _emit("READY", f"{_bind(pub, zmq, a.bind)} {_bind(sync, zmq, a.bind2)}")
    probe, data, end = _payload(a.size, b"P"), _payload(a.size, b"D"), _payload(a.size, b"E")
    ready = 0
    while ready < a.subscribers:
        pub.send(probe)
        if sync.poll(5):
            ready += len(_drain(sync))
    send = pub.send
    for _ in range(a.count):
        send(data)
    reports: list[dict[str, Any]] = []
    while len(reports) < a.subscribers:
        pub.send(end)
        if sync.poll(10):
            reports += [json.loads(m) for m in _drain(sync) if m != b"ready"]
    received = sum(r["count"] for r in reports)
    firsts = [r["first"] for r in reports if r["first"] is not None]
    lasts = [r["last"] for r in reports if r["last"] is not None]
    elapsed = max(lasts) - min(firsts) if firsts else 0.0
    _emit(
        "RESULT",
        {
            "received": received,
            "sent": a.count * a.subscribers,
            "elapsed": elapsed,
            "per_subscriber": [r["count"] for r in reports],
        },
    )
    ctx.destroy(linger=0)


def _w_sub(zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(a.connect[0])
    sync = ctx.socket(zmq.PUSH)
    sync.connect(a.connect[1])
    clock = time.monotonic  # CLOCK_MONOTONIC: one clock for all processes of the machine
    count, first, last, ready = 0, None, None, False
    recv = sub.recv
    d_tag, p_tag, e_tag = ord("D"), ord("P"), ord("E")
    while True:
        tag = recv()[0]
        if tag == d_tag:
            last = clock()
            if first is None:
                first = last
            count += 1
        elif tag == p_tag:
            if not ready:
                sync.send(b"ready")
                ready = True
        elif tag == e_tag:
            break
    sync.send(json.dumps({"count": count, "first": first, "last": last}).encode())
    _hold()
    ctx.destroy(linger=0)


def _w_inproc_thr(zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://bench-thr")
    failure: list[BaseException] = []

    def sender() -> None:
        try:
            push = ctx.socket(zmq.PUSH)
            push.connect("inproc://bench-thr")
            msg = _payload(a.size)
            send = push.send
            for _ in range(a.count):
                send(msg)
        except BaseException as exc:  # reported by the main thread, which then times out
            failure.append(exc)
            raise

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    recv = pull.recv
    recv()
    start = time.perf_counter()
    for _ in range(a.count - 1):
        recv()
    elapsed = time.perf_counter() - start
    thread.join()
    _emit("RESULT", {"messages": a.count - 1, "elapsed": elapsed, "size": a.size})
    ctx.destroy(linger=0)


def _w_inproc_lat(zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    rep.bind("inproc://bench-lat")

    def echo() -> None:
        recv, send = rep.recv, rep.send
        for _ in range(a.count + 1):
            send(recv())

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    req = ctx.socket(zmq.REQ)
    req.connect("inproc://bench-lat")
    msg = _payload(a.size)
    recv, send = req.recv, req.send
    send(msg)
    recv()
    start = time.perf_counter()
    for _ in range(a.count):
        send(msg)
        recv()
    elapsed = time.perf_counter() - start
    thread.join()
    _emit("RESULT", {"roundtrips": a.count, "elapsed": elapsed})
    ctx.destroy(linger=0)


def _w_info(zmq: Any, a: argparse.Namespace) -> None:
    lib = LIBS[a.lib]
    try:
        version = importlib.metadata.version(lib.dist)
    except importlib.metadata.PackageNotFoundError:
        version = str(getattr(zmq, "__version__", "unknown"))
    info: dict[str, Any] = {"version": version, "module": zmq.__name__}
    if callable(getattr(zmq, "zmq_version", None)):
        info["zmq_version"] = zmq.zmq_version()
    backend = getattr(zmq, "backend_name", None)
    if isinstance(backend, str):
        info["backend"] = backend
    _emit("RESULT", info)


_SYNC_ROLES: dict[str, Callable[[Any, argparse.Namespace], None]] = {
    "thr-recv": _w_thr_recv,
    "thr-send": _w_thr_send,
    "lat-rep": _w_lat_rep,
    "lat-req": _w_lat_req,
    "pub": _w_pub,
    "sub": _w_sub,
    "inproc-thr": _w_inproc_thr,
    "inproc-lat": _w_inproc_lat,
    "info": _w_info,
}
_ASYNC_ROLES: dict[str, Callable[[Any, Any, argparse.Namespace], Any]] = {
    "thr-recv": _aw_thr_recv,
    "thr-send": _aw_thr_send,
    "lat-rep": _aw_lat_rep,
    "lat-req": _aw_lat_req,
}


def _worker_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="purezmq.bench _worker")
    p.add_argument("role", choices=sorted(_SYNC_ROLES))
    p.add_argument("--lib", required=True, choices=sorted(LIBS))
    p.add_argument("--aio", action="store_true")
    p.add_argument("--bind", default="")
    p.add_argument("--bind2", default="")
    p.add_argument("--connect", nargs="*", default=[])
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--subscribers", type=int, default=0)
    p.add_argument("--curve", action="store_true")
    p.add_argument("--serverkey", default="")
    a = p.parse_args(argv)
    lib = LIBS[a.lib]
    zmq = importlib.import_module(lib.module)
    if a.aio:
        azmq = importlib.import_module(lib.asyncio_module)
        asyncio.run(_ASYNC_ROLES[a.role](zmq, azmq, a))
    else:
        _SYNC_ROLES[a.role](zmq, a)
    return 0


# -- the runner: processes, deadlines, results --------------------------------------------------


class _Timeout(Exception):
    pass


class _Failed(Exception):
    pass


def _worker_env() -> dict[str, str]:
    """The environment of the workers: this purezmq importable even when not installed."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Proc:
    def __init__(self, index: int, name: str, argv: list[str], events: queue.Queue) -> None:
        self.name = name
        self.stderr: IO[bytes] = tempfile.TemporaryFile()
        self.lines: list[str] = []
        self.eof = False
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "purezmq.bench", "_worker", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=_worker_env(),
            start_new_session=True,  # Ctrl-C reaches the runner only; it kills its workers
        )
        self._reader = threading.Thread(target=self._read, args=(index, events), daemon=True)
        self._reader.start()

    def _read(self, index: int, events: queue.Queue) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            events.put(index)
        self.eof = True
        events.put(index)

    def stderr_tail(self, limit: int = 300) -> str:
        """The last line of the worker's stderr (the exception of a traceback)."""
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1][-limit:] if lines else ""

    def release(self) -> None:
        """Close stdin: a worker holding its I/O open for its peer may now exit."""
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.release()
        self.stderr.close()


class _Group:
    """The processes of one benchmark run and its deadline."""

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.procs: list[_Proc] = []
        self.events: queue.Queue[int] = queue.Queue()

    def start(self, name: str, argv: list[str]) -> _Proc:
        proc = _Proc(len(self.procs), name, argv, self.events)
        self.procs.append(proc)
        return proc

    def expect(self, proc: _Proc, tag: str) -> str:
        """Wait for the line ``TAG payload`` from ``proc``; fail at once if a worker dies."""
        while True:
            for i, line in enumerate(proc.lines):
                if line.startswith(tag + " "):
                    del proc.lines[: i + 1]
                    return line[len(tag) + 1 :]
            for other in self.procs:
                if other.eof and (other is proc or self._exit_code(other) not in (None, 0)):
                    code = self._exit_code(other)
                    tail = other.stderr_tail() or "(no output)"
                    raise _Failed(f"{other.name} exited with status {code}: {tail}")
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout(f"no {tag} from {proc.name}")
            try:
                self.events.get(timeout=remaining)
            except queue.Empty:
                pass

    @staticmethod
    def _exit_code(proc: _Proc) -> int | None:
        try:
            return proc.popen.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        for proc in self.procs:
            proc.release()
        grace = min(self.deadline, time.monotonic() + 5)
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.05, grace - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            proc.kill()


def _bind_spec(transport: str, tmpdir: str, name: str) -> str:
    if transport == "ipc":
        return f"ipc://{os.path.join(tmpdir, name)}.sock"
    return "tcp://127.0.0.1:*"  # an OS-assigned free port on loopback


_run_serial = 0


def run_once(
    test: Test, lib: str, count: int, size: int, timeout: float, tmpdir: str
) -> dict[str, Any]:
    """One run of ``test`` on ``lib``: the worker's raw figures, or ``{"error": ...}``."""
    global _run_serial
    _run_serial += 1
    name = f"{test.name}-{lib}-{_run_serial}"
    common = ["--lib", lib, "--count", str(count), "--size", str(size)]
    if test.aio:
        common.append("--aio")
    group = _Group(timeout)
    started = time.monotonic()
    try:
        if test.kind in ("inproc_thr", "inproc_lat"):
            proc = group.start(test.kind, [test.kind.replace("_", "-"), *common])
            result = group.expect(proc, "RESULT")
        elif test.kind == "thr":
            bind = _bind_spec(test.transport, tmpdir, name)
            curve = ["--curve"] if test.curve else []
            recv = group.start("receiver", ["thr-recv", *common, *curve, "--bind", bind])
            endpoint, *server_key = group.expect(recv, "READY").split()
            key = ["--serverkey", server_key[0]] if server_key else []
            group.start("sender", ["thr-send", *common, *key, "--connect", endpoint])
            result = group.expect(recv, "RESULT")
        elif test.kind == "lat":
            bind = _bind_spec(test.transport, tmpdir, name)
            rep = group.start("REP", ["lat-rep", *common, "--bind", bind])
            endpoint = group.expect(rep, "READY")
            req = group.start("REQ", ["lat-req", *common, "--connect", endpoint])
            result = group.expect(req, "RESULT")
        elif test.kind == "pubsub":
            binds = [
                "--bind",
                _bind_spec(test.transport, tmpdir, name),
                "--bind2",
                _bind_spec(test.transport, tmpdir, name + "-sync"),
            ]
            extra = ["--subscribers", str(test.subscribers)]
            pub = group.start("PUB", ["pub", *common, *binds, *extra])
            endpoints = group.expect(pub, "READY").split()
            for i in range(test.subscribers):
                group.start(f"SUB{i + 1}", ["sub", *common, "--connect", *endpoints])
            result = group.expect(pub, "RESULT")
        else:  # pragma: no cover - TESTS and this function are kept in step
            raise ValueError(f"unknown kind {test.kind}")
        raw: dict[str, Any] = json.loads(result)
    except _Timeout as exc:
        raw = {"error": "timeout", "detail": f"after {timeout:g} s: {exc}"}
    except _Failed as exc:
        raw = {"error": "error", "detail": str(exc)}
    finally:
        group.close()
    raw["wall"] = round(time.monotonic() - started, 3)
    return raw


def value_of(test_unit: str, raw: dict[str, Any], size: int) -> float | None:
    """The figure in ``test_unit`` from a worker's raw result (None for a failed run)."""
    if "error" in raw or not raw.get("elapsed"):
        return None
    elapsed = raw["elapsed"]
    if test_unit == "msg/s":
        return float(raw["messages"] / elapsed)
    if test_unit == "GB/s":
        return float(raw["messages"] * size / elapsed / 1e9)
    if test_unit == "MB/s":
        return float(raw["messages"] * size / elapsed / 1e6)
    if test_unit == "µs":
        return float(elapsed / raw["roundtrips"] / 2 * 1e6)
    if test_unit == "deliveries/s":
        return float(raw["received"] / elapsed)
    raise ValueError(f"unknown unit {test_unit}")


def summarize(values: list[float | None], raws: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [v for v in values if v is not None]
    failures = [r["error"] for r in raws if "error" in r]
    return {
        "median": statistics.median(ok) if ok else None,
        "values": values,
        "ok": len(ok),
        "failures": failures,
    }


# -- formatting ---------------------------------------------------------------------------------


def fmt_value(unit: str, value: float) -> str:
    if unit in ("msg/s", "deliveries/s"):
        return f"{value:,.0f}"
    if unit == "µs":
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    if unit == "GB/s":
        return f"{value:.2f}" if value >= 0.1 else f"{value:.3g}"
    if unit == "MB/s":
        return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return f"{value:.4g}"


def fmt_cell(unit: str, summary: dict[str, Any] | None) -> str:
    if summary is None:
        return "n/a"
    failures = summary["failures"]
    if summary["median"] is None:
        return failures[0] if len(set(failures)) == 1 else "/".join(sorted(set(failures)))
    cell = fmt_value(unit, summary["median"])
    if failures:
        counts = {f: failures.count(f) for f in sorted(set(failures))}
        cell += " (" + ", ".join(f"{n} {f}" for f, n in counts.items()) + ")"
    return cell


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.3f}x" if ratio < 0.1 else f"{ratio:.2f}x"


def markdown_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([line(header), rule + "|", *(line(r) for r in rows)])


def results_table(report: dict[str, Any]) -> str:
    libs: list[str] = report["libs"]
    ratio_name = f"purezmq/{BASELINE}"
    header = ["test", "unit", *libs, ratio_name]
    rows = []
    for entry in report["results"]:
        cells = [entry["test"], entry["unit"]]
        cells += [fmt_cell(entry["unit"], entry["libs"].get(lib)) for lib in libs]
        cells.append(fmt_ratio(entry.get("ratio")))
        rows.append(cells)
    return markdown_table(header, rows, right=set(range(2, len(header))))


def spread_table(report: dict[str, Any]) -> str:
    """Each library's lowest and highest repetition, to judge the noise behind the medians."""
    libs: list[str] = report["libs"]
    rows = []
    for entry in report["results"]:
        cells = [entry["test"], entry["unit"]]
        for lib in libs:
            ok = [v for v in entry["libs"][lib]["values"] if v is not None]
            if not ok:
                cells.append("-")
            elif len(ok) == 1:
                cells.append(fmt_value(entry["unit"], ok[0]))
            else:
                lo, hi = fmt_value(entry["unit"], min(ok)), fmt_value(entry["unit"], max(ok))
                cells.append(f"{lo} .. {hi}")
        rows.append(cells)
    return markdown_table(["test", "unit", *libs], rows, right=set(range(2, len(libs) + 2)))


def sweep_table(report: dict[str, Any]) -> str:
    libs: list[str] = report["libs"]
    header = ["size", "messages", *(f"{lib} msg/s" for lib in libs)]
    header += [*(f"{lib} MB/s" for lib in libs), f"purezmq/{BASELINE}"]
    rows = []
    for point in report["sweep"]["points"]:
        cells = [human_size(point["size"]), f"{point['count']:,}"]
        for unit, key in (("msg/s", "msgs_per_s"), ("MB/s", "mb_per_s")):
            for lib in libs:
                s = point["libs"].get(lib)
                if s is None:
                    cells.append("n/a")
                elif s[key] is None:
                    cells.append(fmt_cell(unit, {"median": None, "failures": s["failures"]}))
                else:
                    cells.append(fmt_value(unit, s[key]))
        cells.append(fmt_ratio(point.get("ratio")))
        rows.append(cells)
    return markdown_table(header, rows, right=set(range(1, len(header))))


def human_size(size: int) -> str:
    for unit, factor in (("MiB", MIB), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def render_markdown(report: dict[str, Any], chart: str | None, markdown_path: Path | None) -> str:
    m = report["machine"]
    s = report["settings"]
    lines = ["# purezmq benchmarks", ""]
    lines.append(
        f"Run {report['created']} on {m['cpu']} ({m['cores']} cores, {m['memory']}), "
        f"{m['platform']}, {m['python']}."
    )
    libs = ", ".join(_lib_label(name, info) for name, info in report["libraries"].items())
    missing = report.get("missing_libs") or []
    if missing:
        libs += f"; not installed: {', '.join(missing)}"
    lines += ["", f"Libraries: {libs}.", ""]
    lines.append(
        f"Each figure is the median of {s['repeat']} repetition(s), the libraries interleaved "
        f"(for each repetition: {', '.join(report['libs'])}). Per-run timeout: "
        f"{s['timeout']:g} s."
    )
    if s["scale"] != 1:
        lines += [
            "",
            f"**Message counts are scaled by {s['scale']:g}** (`--scale {s['scale']:g}`) "
            "(nominal counts in `purezmq bench --help`); the counts below are the ones run.",
        ]
    if report["results"]:
        lines += ["", results_table(report), ""]
        lines.append(
            f"The ratio is purezmq's median over {BASELINE}'s: above 1 purezmq is faster for a "
            "throughput, slower for a latency (µs)."
        )
        notes = _pubsub_notes(report)
        if notes:
            lines += ["", notes]
        if s["repeat"] > 1:
            lines += [
                "",
                "Lowest .. highest of the repetitions (this machine is noisy: compare the ratios "
                "of one run rather than figures across runs):",
                "",
                spread_table(report),
            ]
        lines += ["", "| test | messages | size | what it measures |", "|---|--:|--:|---|"]
        for entry in report["results"]:
            lines.append(
                f"| {entry['test']} | {entry['count']:,} | {human_size(entry['size'])} "
                f"| {entry['description']} |"
            )
    if report.get("sweep"):
        sw = report["sweep"]
        lines += [
            "",
            "## Message-size sweep",
            "",
            f"`thr` (PUSH -> PULL over {sw['transport']} loopback, two processes) at each size; "
            "MB/s is 10^6 bytes of payload per second.",
            "",
            sweep_table(report),
        ]
        if chart:
            target = Path(chart)
            if markdown_path is not None:
                target = Path(os.path.relpath(target.resolve(), markdown_path.resolve().parent))
            lines += ["", f"![thr message-size sweep]({target.as_posix()})"]
    lines += ["", f"Command: `{report['command']}`", ""]
    return "\n".join(lines)


def _lib_label(name: str, info: dict[str, Any]) -> str:
    label = f"{name} {info.get('version', '?')}"
    extra = []
    if name == "pyzmq" and info.get("zmq_version"):
        extra.append(f"libzmq {info['zmq_version']}")
    if name == "pyomq" and info.get("backend"):
        extra.append(f"omq.rs, {info['backend']}")
    return label + (f" ({', '.join(extra)})" if extra else "")


def _pubsub_notes(report: dict[str, Any]) -> str:
    parts = []
    for entry in report["results"]:
        if entry["test"] != "pubsub":
            continue
        for lib, summary in entry["libs"].items():
            shares = [
                r["received"] / r["sent"] for r in summary["runs"] if "error" not in r and r["sent"]
            ]
            if shares:
                parts.append(f"{lib} {statistics.median(shares):.0%}")
    if not parts:
        return ""
    return "pubsub: share of the messages delivered to the SUBs (the PUB drops at its HWM): " + (
        ", ".join(parts) + "."
    )


# -- machine description ------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    memory = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / (1 << 20):.0f} GiB"
                break
    except (OSError, ValueError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory": memory,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg_before": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def library_info(lib: str, timeout: float) -> dict[str, Any] | None:
    """Version facts from a worker that imports ``lib``; None if it cannot be imported."""
    if importlib.util.find_spec(LIBS[lib].module) is None:
        return None
    group = _Group(timeout)
    try:
        info: dict[str, Any] = json.loads(
            group.expect(group.start("info", ["info", "--lib", lib]), "RESULT")
        )
    except (_Timeout, _Failed):
        return None
    finally:
        group.close()
    return info


# -- the sweep chart ----------------------------------------------------------------------------


def draw_chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    sweep = report["sweep"]
    sizes = [p["size"] for p in sweep["points"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for key, ax, label in (
        ("msgs_per_s", axes[0], "messages/s"),
        ("mb_per_s", axes[1], "MB/s (10^6 bytes of payload)"),
    ):
        for lib in report["libs"]:
            xs, ys = [], []
            for p in sweep["points"]:
                s = p["libs"].get(lib)
                if s and s[key]:
                    xs.append(p["size"])
                    ys.append(s[key])
            if xs:
                ax.plot(xs, ys, marker="o", label=lib)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(sizes, [human_size(s).replace(" ", "\u00a0") for s in sizes], rotation=45)
        ax.set_xlabel("message size")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    axes[0].set_title("throughput, messages")
    axes[1].set_title("throughput, bandwidth")
    m = report["machine"]
    fig.suptitle(
        f"PUSH -> PULL over {sweep['transport']} loopback, median of "
        f"{report['settings']['repeat']} run(s); {m['cpu']}, {m['usable_cores']} cores, "
        f"{m['python']}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- command line -------------------------------------------------------------------------------

EPILOG = """\
tests (nominal counts, multiplied by --scale):
{tests}

examples:
  python -m purezmq.bench                          all tests, purezmq vs pyzmq (+ pyomq)
  python -m purezmq.bench --tests thr,lat --repeat 5
  python -m purezmq.bench --scale 0.01 --repeat 1  a quick look (1% of the messages)
  python -m purezmq.bench --libs purezmq,pyzmq --json out.json --markdown out.md
  python -m purezmq.bench --tests none --sweep --chart sweep.png --json sweep.json
  purezmq bench --tests asyncio_thr,asyncio_lat   the same runner from the purezmq command

Each side of a benchmark runs in its own process (inproc_*: two threads of one
process); a run that overruns --timeout is killed and shows as "timeout".
"""


def build_parser(prog: str = "purezmq bench") -> argparse.ArgumentParser:
    listing = "\n".join(
        f"  {t.name:<12} {t.count:>9,} x {human_size(t.size):<6} {t.unit:<13} "
        f"{t.description.split(';')[0]}"
        for t in TESTS.values()
    )
    p = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark purezmq against pyzmq (and pyomq when installed): the libraries\n"
        "interleaved on the same machine; prints the median of each figure over --repeat\n"
        "repetitions and the ratio purezmq/pyzmq.",
        epilog=EPILOG.format(tests=listing),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--tests",
        metavar="LIST",
        default="all",
        help="comma-separated tests to run, 'all' (default) or 'none' (e.g. with --sweep)",
    )
    p.add_argument(
        "--libs",
        metavar="LIST",
        default=None,
        help="comma-separated libraries among purezmq, pyzmq, pyomq (default: purezmq,pyzmq "
        "and pyomq if it is installed)",
    )
    p.add_argument(
        "--repeat",
        metavar="N",
        type=positive_int,
        default=3,
        help="repetitions per figure (default: 3)",
    )
    p.add_argument(
        "--scale",
        metavar="F",
        type=_positive_float,
        default=1.0,
        help="multiply every message count by F (e.g. 0.001 for a smoke run; default: 1)",
    )
    p.add_argument(
        "--timeout",
        metavar="SEC",
        type=_positive_float,
        default=None,
        help="seconds one run (all its processes) may take before it is killed and reported "
        "as 'timeout' (default: 30 + 150 x scale)",
    )
    p.add_argument("--json", metavar="PATH", help="write every result and the machine to PATH")
    p.add_argument("--markdown", metavar="PATH", help="write the results as markdown to PATH")
    p.add_argument(
        "--sweep", action="store_true", help="also run the thr message-size sweep (8 B .. 1 MiB)"
    )
    p.add_argument(
        "--sweep-sizes",
        metavar="SIZES",
        help="comma-separated message sizes in bytes for the sweep (default: "
        + ",".join(map(str, SWEEP_SIZES))
        + ")",
    )
    p.add_argument(
        "--chart",
        metavar="PATH",
        help="draw the sweep as a PNG at PATH (implies --sweep; needs matplotlib)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


class _UsageError(Exception):
    pass


def _select_tests(text: str) -> list[Test]:
    text = text.strip()
    if text == "all":
        return list(TESTS.values())
    if text in ("none", ""):
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in TESTS]
    if unknown:
        raise _UsageError(f"unknown test(s) {', '.join(unknown)}; known: {', '.join(TESTS)}")
    return [TESTS[n] for n in dict.fromkeys(names)]


def _select_libs(text: str | None) -> list[str]:
    if text is None:
        return ["purezmq", "pyzmq", "pyomq"]
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in LIBS]
    if unknown or not names:
        raise _UsageError(f"unknown librar(y/ies) {', '.join(unknown)}; known: {', '.join(LIBS)}")
    return names


def _sweep_sizes(text: str | None) -> list[int]:
    if text is None:
        return list(SWEEP_SIZES)
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise _UsageError(f"--sweep-sizes: not a list of integers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise _UsageError("--sweep-sizes: sizes must be at least 1 byte")
    return sorted(set(sizes))


class _Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (``purezmq bench``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_worker"]:
        return _worker_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return int(exc.code or 0)
    try:
        return _run(args, argv)
    except _UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    tests = _select_tests(args.tests)
    libs = _select_libs(args.libs)
    do_sweep = bool(args.sweep or args.chart)
    sizes = _sweep_sizes(args.sweep_sizes)
    if not tests and not do_sweep:
        raise _UsageError("nothing to run: --tests none without --sweep")
    if args.chart and importlib.util.find_spec("matplotlib") is None:
        raise _UsageError("--chart needs matplotlib: pip install matplotlib")
    timeout = args.timeout if args.timeout is not None else round(30 + 150 * args.scale)
    say = _Progress(args.quiet)

    if "purezmq" not in libs:
        raise _UsageError("purezmq must be among --libs")
    libraries: dict[str, dict[str, Any]] = {}
    missing = []
    for lib in libs:
        info = library_info(lib, timeout=60)
        if info is None:
            if lib == "purezmq":
                raise _UsageError("purezmq does not import in a worker process")
            say(f"{lib} is not installed (or does not import): left out")
            missing.append(lib)
            continue
        libraries[lib] = info
    libs = [lib for lib in libs if lib in libraries]
    if BASELINE not in libs:
        say(f"{BASELINE} is not among the libraries: no ratio column")

    command = shlex.join(["python", "-m", "purezmq.bench", *argv])
    report: dict[str, Any] = {
        "schema": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": machine_info(),
        "libraries": libraries,
        "libs": libs,
        "missing_libs": missing,
        "settings": {"scale": args.scale, "repeat": args.repeat, "timeout": timeout},
        "results": [],
    }
    say(
        f"benchmarking {', '.join(libs)}: {len(tests)} test(s){' + sweep' if do_sweep else ''}, "
        f"{args.repeat} repetition(s), scale {args.scale:g}, timeout {timeout:g} s per run"
    )
    tmpdir = tempfile.mkdtemp(prefix="purezmq-bench-")
    try:
        for test in tests:
            report["results"].append(_run_test(test, libs, args, timeout, tmpdir, say))
        if do_sweep:
            report["sweep"] = _run_sweep(sizes, libs, args, timeout, tmpdir, say)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    if report["results"]:
        print(results_table(report))
    if do_sweep:
        print()
        print(sweep_table(report))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        say(f"wrote {path}")
    if args.chart:
        draw_chart(report, Path(args.chart))
        say(f"wrote {args.chart}")
    if args.markdown:
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_markdown(report, args.chart, path))
        say(f"wrote {path}")
    return 0


def _describe(raw: dict[str, Any], value: float | None, unit: str) -> str:
    if value is None:
        detail = raw.get("detail", "")
        return f"{raw.get('error')}{': ' + detail if detail else ''}"
    return f"{fmt_value(unit, value)} {unit}"


def _ratio(medians: dict[str, float | None]) -> float | None:
    ours, base = medians.get("purezmq"), medians.get(BASELINE)
    if ours is None or base is None or base == 0:
        return None
    return ours / base


def _run_test(
    test: Test,
    libs: list[str],
    args: argparse.Namespace,
    timeout: float,
    tmpdir: str,
    say: Callable[[str], None],
) -> dict[str, Any]:
    count = scaled(test.count, args.scale)
    runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in libs}
    for rep in range(args.repeat):
        for lib in libs:
            raw = run_once(test, lib, count, test.size, timeout, tmpdir)
            raw["value"] = value_of(test.unit, raw, test.size)
            runs[lib].append(raw)
            say(
                f"  {test.name:<12} {rep + 1}/{args.repeat} {lib:<8} "
                f"{_describe(raw, raw['value'], test.unit)}  ({raw['wall']:.1f} s)"
            )
    summaries = {}
    for lib in libs:
        summary = summarize([r["value"] for r in runs[lib]], runs[lib])
        summary["runs"] = runs[lib]
        summaries[lib] = summary
    return {
        "test": test.name,
        "description": test.description,
        "transport": test.transport,
        "api": "asyncio" if test.aio else ("threads" if test.transport == "inproc" else "blocking"),
        "count": count,
        "size": test.size,
        "unit": test.unit,
        "higher_is_better": test.higher_is_better,
        "libs": summaries,
        "ratio": _ratio({lib: s["median"] for lib, s in summaries.items()}),
    }


def _run_sweep(
    sizes: list[int],
    libs: list[str],
    args: argparse.Namespace,
    timeout: float,
    tmpdir: str,
    say: Callable[[str], None],
) -> dict[str, Any]:
    test = TESTS["thr"]
    points = []
    for size in sizes:
        count = sweep_count(size, args.scale)
        runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in libs}
        for rep in range(args.repeat):
            for lib in libs:
                raw = run_once(test, lib, count, size, timeout, tmpdir)
                raw["value"] = value_of("msg/s", raw, size)
                runs[lib].append(raw)
                say(
                    f"  sweep {human_size(size):>7} {rep + 1}/{args.repeat} {lib:<8} "
                    f"{_describe(raw, raw['value'], 'msg/s')}  ({raw['wall']:.1f} s)"
                )
        point: dict[str, Any] = {"size": size, "count": count, "libs": {}}
        for lib in libs:
            summary = summarize([r["value"] for r in runs[lib]], runs[lib])
            median = summary["median"]
            point["libs"][lib] = {
                "msgs_per_s": median,
                "mb_per_s": median * size / 1e6 if median is not None else None,
                "failures": summary["failures"],
                "runs": runs[lib],
            }
        point["ratio"] = _ratio({lib: s["msgs_per_s"] for lib, s in point["libs"].items()})
        points.append(point)
    return {"test": "thr", "transport": test.transport, "points": points}


if __name__ == "__main__":
    sys.exit(main())

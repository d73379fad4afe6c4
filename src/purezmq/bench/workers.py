"""The workers: one side of one benchmark, each in its own process.

The runner starts ``python -m purezmq.bench _worker ROLE ...`` for each side.  A worker talks back
on stdout, one line per event: ``READY endpoint`` once it has bound (the runner then starts the
connecting side with that endpoint), ``RESULT {json}`` with its raw figures.  A side that has
finished sending holds its process, and so its library's I/O, open until the runner closes its
stdin: no message is lost to an early exit, with the asyncio API either, whose messages are only
flushed while its event loop runs.

The tcp/ipc roles (thr-recv, thr-send, lat-rep, lat-req) run on the blocking API, or on the
asyncio one with ``--aio``.  Both share the socket setup (:func:`_open`: creating, configuring,
binding and connecting a socket are plain calls in both APIs) and the ending (report or hold,
then destroy the context); only the measured loops are written once per API, because a loop that
chose at run time whether to await would time that choice too.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.metadata
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from purezmq.bench import bare, scaling
from purezmq.bench.catalog import LIBS

#: What a role's body returns: the raw figures to report, or None for a side that only feeds its
#: peer and so holds its process open until the runner releases it.
Figures = dict[str, Any] | None


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


def _payload(size: int, tag: bytes = b"x", document: bool = False) -> bytes:
    if document:  # JSON records, as an application would send them (compressible, not trivially).
        records = (
            b'{"id":%d,"user":"user-%d","score":%d.%d,"tags":["alpha","beta"],"ok":true},'
            % (n, n % 97, n * 7 % 1000, n % 10)
            for n in range(size // 40 + 1)
        )
        return (b"[" + b"".join(records))[: size - 1] + b"]"
    return (tag * size)[:size]


def _open(zmq: Any, ctx: Any, kind: str, a: argparse.Namespace) -> Any:
    """A socket of type ``kind`` (``"PULL"``, ...) bound or connected as ``a`` says.

    The binding side reports its endpoint, followed by its public key when it is a CURVE server
    (``--curve``); the connecting side is given that key as ``--serverkey``.  Each side makes its
    own key pair, as two separate programs would.
    """
    sock = ctx.socket(getattr(zmq, kind))
    if getattr(a, "compress", False) and hasattr(sock, "set_compression"):
        sock.set_compression(["zstd", "zlib"])
    if a.bind:
        server_key = ""
        if a.curve:
            public, secret = zmq.curve_keypair()
            sock.curve_secretkey = secret
            sock.curve_server = 1
            server_key = " " + public.decode("ascii")
        _emit("READY", _bind(sock, zmq, a.bind) + server_key)
    else:
        if a.serverkey:
            public, secret = zmq.curve_keypair()
            sock.curve_publickey = public
            sock.curve_secretkey = secret
            sock.curve_serverkey = a.serverkey.encode("ascii")
        sock.connect(a.connect[0])
    return sock


# -- the measured loops, blocking API -----------------------------------------------------------
# Bound methods are looked up once, outside the loops, so the loops time the library alone.


def _recv_timed(pull: Any, a: argparse.Namespace) -> Figures:
    """Receive ``a.count`` messages; timed from the first, which waits for the sender."""
    recv = pull.recv
    recv()
    start = time.perf_counter()
    for _ in range(a.count - 1):
        recv()
    elapsed = time.perf_counter() - start
    return {"messages": a.count - 1, "elapsed": elapsed, "size": a.size}


def _send_all(push: Any, a: argparse.Namespace) -> Figures:
    msg = _payload(a.size, document=getattr(a, "compress", False))
    send = push.send
    for _ in range(a.count):
        send(msg)
    return None


def _echo(rep: Any, a: argparse.Namespace) -> Figures:
    recv, send = rep.recv, rep.send
    for _ in range(a.count + 1):  # one untimed warm-up round trip, then the timed ones
        send(recv())
    return None


def _roundtrips_timed(req: Any, a: argparse.Namespace) -> Figures:
    msg = _payload(a.size)
    recv, send = req.recv, req.send
    send(msg)  # the first round trip also sets up the connection: not timed
    recv()
    start = time.perf_counter()
    for _ in range(a.count):
        send(msg)
        recv()
    elapsed = time.perf_counter() - start
    return {"roundtrips": a.count, "elapsed": elapsed}


# -- the same loops, asyncio API ----------------------------------------------------------------


async def _arecv_timed(pull: Any, a: argparse.Namespace) -> Figures:
    recv = pull.recv
    await recv()
    start = time.perf_counter()
    for _ in range(a.count - 1):
        await recv()
    elapsed = time.perf_counter() - start
    return {"messages": a.count - 1, "elapsed": elapsed, "size": a.size}


async def _asend_all(push: Any, a: argparse.Namespace) -> Figures:
    msg = _payload(a.size)
    send = push.send
    for _ in range(a.count):
        await send(msg)
    return None


async def _aecho(rep: Any, a: argparse.Namespace) -> Figures:
    recv, send = rep.recv, rep.send
    for _ in range(a.count + 1):
        await send(await recv())
    return None


async def _aroundtrips_timed(req: Any, a: argparse.Namespace) -> Figures:
    msg = _payload(a.size)
    recv, send = req.recv, req.send
    await send(msg)
    await recv()
    start = time.perf_counter()
    for _ in range(a.count):
        await send(msg)
        await recv()
    elapsed = time.perf_counter() - start
    return {"roundtrips": a.count, "elapsed": elapsed}


@dataclass(frozen=True)
class _Paired:
    """A tcp/ipc role: its socket type and its loop on each API."""

    kind: str
    run: Callable[[Any, argparse.Namespace], Figures]
    arun: Callable[[Any, argparse.Namespace], Awaitable[Figures]]


_PAIRED: dict[str, _Paired] = {
    "thr-recv": _Paired("PULL", _recv_timed, _arecv_timed),
    "thr-send": _Paired("PUSH", _send_all, _asend_all),
    "lat-rep": _Paired("REP", _echo, _aecho),
    "lat-req": _Paired("REQ", _roundtrips_timed, _aroundtrips_timed),
}


def _run_paired(role: _Paired, zmq: Any, a: argparse.Namespace) -> None:
    ctx = zmq.Context()
    # (Referenced until the end: a socket collected after its last send may drop what it still
    # queues, as pyomq's does, and the receiver would wait for ever.)
    sock = _open(zmq, ctx, role.kind, a)
    figures = role.run(sock, a)
    if figures is None:
        _hold()
    else:
        _emit("RESULT", figures)
    ctx.destroy(linger=0)


async def _arun_paired(
    role: _Paired, zmq: Any, azmq: Any, a: argparse.Namespace, hold: Any = None
) -> None:
    # Socket types and constants come from the blocking module; the context from the asyncio one.
    ctx = azmq.Context()
    sock = _open(zmq, ctx, role.kind, a)  # (Referenced until the end, as in _run_paired.)
    figures = await role.arun(sock, a)
    if figures is None:
        await (hold or _ahold)()
    else:
        _emit("RESULT", figures)
    ctx.destroy(linger=0)


# -- roles on the blocking API only -------------------------------------------------------------


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
    """thr over inproc: the sender is a thread of this process, the receiver its main thread."""
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://bench-thr")

    def sender() -> None:
        # If this raises, threading prints the traceback on stderr and the main thread waits for
        # messages that never come: the runner reports a timeout.
        push = ctx.socket(zmq.PUSH)
        push.connect("inproc://bench-thr")
        _send_all(push, a)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    figures = _recv_timed(pull, a)
    thread.join()
    _emit("RESULT", figures)
    ctx.destroy(linger=0)


def _w_inproc_lat(zmq: Any, a: argparse.Namespace) -> None:
    """lat over inproc: REP echoes in a thread of this process, REQ is its main thread."""
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    rep.bind("inproc://bench-lat")
    thread = threading.Thread(target=_echo, args=(rep, a), daemon=True)
    thread.start()
    req = ctx.socket(zmq.REQ)
    req.connect("inproc://bench-lat")
    figures = _roundtrips_timed(req, a)
    thread.join()
    _emit("RESULT", figures)
    ctx.destroy(linger=0)


def _w_info(zmq: Any, a: argparse.Namespace) -> None:
    """The library's version facts, for the report (run in a worker: the runner imports none)."""
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


def _w_scaling(zmq: Any, a: argparse.Namespace) -> None:
    cells = scaling.measure(
        zmq, _ints(a.peers), _ints(a.subs), a.shapes.split(","), a.count, a.size, 10_000
    )
    _emit("RESULT", {"cells": cells})


def _ints(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


_SYNC_ONLY: dict[str, Callable[[Any, argparse.Namespace], None]] = {
    "scaling": _w_scaling,
    "idle-router": lambda zmq, a: scaling.idle_router(zmq, a.count, _emit),
    "idle-dealers": lambda zmq, a: scaling.idle_dealers(zmq, a.connect[0], a.count, _emit),
    "pub": _w_pub,
    "sub": _w_sub,
    "inproc-thr": _w_inproc_thr,
    "inproc-lat": _w_inproc_lat,
    "info": _w_info,
}


def worker_main(argv: Sequence[str]) -> int:
    """Run one role: ``python -m purezmq.bench _worker ROLE --lib LIB ...``."""
    p = argparse.ArgumentParser(prog="purezmq.bench _worker")
    p.add_argument("role", choices=sorted({*_PAIRED, *_SYNC_ONLY}))
    p.add_argument("--lib", required=True, choices=sorted(LIBS))
    p.add_argument("--aio", action="store_true")
    p.add_argument("--trio", action="store_true")
    p.add_argument("--bind", default="")
    p.add_argument("--bind2", default="")
    p.add_argument("--connect", nargs="*", default=[])
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--subscribers", type=int, default=0)
    p.add_argument("--curve", action="store_true")
    p.add_argument("--serverkey", default="")
    p.add_argument("--compress", action="store_true")
    p.add_argument("--peers", default="")
    p.add_argument("--subs", default="")
    p.add_argument("--shapes", default=",".join(scaling.SHAPES))
    a = p.parse_args(argv)
    if a.trio and a.lib != "purezmq":
        a.aio = True  # (No trio API: the library's asyncio one, as the catalog says.)
    if (a.aio or a.trio) and a.role not in _PAIRED:
        p.error(f"--aio: {a.role} has no asyncio form (only {', '.join(sorted(_PAIRED))})")
    lib = LIBS[a.lib]
    if a.lib == "bare":
        bare.ROLES[a.role](a, _emit)
        return 0
    zmq = importlib.import_module(lib.module)
    if a.trio and not a.aio:
        import anyio

        import purezmq.anyio

        async def hold() -> None:
            await anyio.to_thread.run_sync(sys.stdin.read)

        anyio.run(_arun_paired, _PAIRED[a.role], zmq, purezmq.anyio, a, hold, backend="trio")
    elif a.aio:
        azmq = importlib.import_module(lib.asyncio_module)
        asyncio.run(_arun_paired(_PAIRED[a.role], zmq, azmq, a))
    elif a.role in _PAIRED:
        _run_paired(_PAIRED[a.role], zmq, a)
    else:
        _SYNC_ONLY[a.role](zmq, a)
    return 0

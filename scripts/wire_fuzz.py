#!/usr/bin/env python
"""A wire fuzzer (issue 17): thousands of malformed TCP connections against a live server.

A server process (``--serve``: pyzmq or purezmq; REP, ROUTER, PULL, SUB or PUB; the threaded
engine or asyncio, i.e. ``purezmq.asyncio``/``zmq.asyncio`` in an event loop) binds on
127.0.0.1 and serves: REP and ROUTER echo, PULL and SUB count, PUB publishes a tick every 5 ms.
It prints ``port N`` on stdout, then answers each ``stat`` line on stdin with one JSON line (well
formed messages counted, Python threads alive, threads present at start that have died).

The fuzzer (this process) opens N connections to it, a fresh TCP connection each, a bounded number
at a time, each sending one mutation of a real ZMTP stream. The seeds are recorded with
scripts/fuzz_protocol.py's sans-IO connections (NULL, the complementary socket type, messages and
pings; PLAIN and CURVE recordings too, whose mechanism the server refuses). The kinds:

- ``mutate``: a seed mutated by fuzz_protocol's mutator (bit flips, splices, frame sizes up to
  2**64-1, greeting variants, ...);
- ``greeting``: a bad greeting (signature, version, mechanism, as-server) then the rest;
- ``truncated``: the handshake cut short (the connection then waits: we close it);
- ``oversize``: a valid handshake then a frame claiming a huge size (up to 2**63) and a bit of it;
- ``command``: a valid greeting then bogus commands (before or after READY);
- ``garbage``: a valid handshake then random bytes;
- ``random``: random bytes from the start;
- ``drip``: a (possibly mutated) seed sent in tiny pieces, with pauses;
- ``rst``: part of a seed, then an abortive close (SO_LINGER 0: RST).

Each connection lasts at most ``--hold`` seconds (default 0.2) or until the server closes it; its
outcome is one of ``server_closed`` (EOF), ``server_reset`` (RST from the server), ``we_closed``
(time was up), ``we_reset`` (the ``rst`` kind), ``connect_failed``. Every ``--check-every``
connections, and at the end, a well-formed pyzmq client of the complementary type (REQ, DEALER,
PUSH, PUB, SUB) must be served within 1 s. At the end the server's RSS and descriptor count are
compared with their baseline (taken after a first well-formed client, after a bounded settle) and
its threads must all be alive. Linux only (/proc).

    python scripts/wire_fuzz.py                                 # 20,000 each, all servers
    python scripts/wire_fuzz.py -n 2000 --types REP,PULL --engines thread --impls purezmq
    python scripts/wire_fuzz.py --json wire_fuzz.json
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import os
import random
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
}

TYPES = ["REP", "ROUTER", "PULL", "SUB", "PUB"]
ENGINES = ["thread", "asyncio"]
IMPLS = ["purezmq", "zmq"]
#: The well-formed client of each server type.
CLIENT = {"REP": "REQ", "ROUTER": "DEALER", "PULL": "PUSH", "SUB": "PUB", "PUB": "SUB"}
GOOD = b"GOOD-"
KINDS = [
    "mutate",
    "greeting",
    "truncated",
    "oversize",
    "command",
    "garbage",
    "random",
    "drip",
    "rst",
]
HUGE_SIZES = [2**20, 2**24, 2**30, 2**31, 2**32, 2**40, 2**47, 2**62, 2**63 - 1, 2**63]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


# -- the server, in a process of its own ----------------------------------------------------------


def serve(impl: str, kind: str, engine: str) -> None:
    """Bind, serve, answer ``stat`` on stdin; ``quit`` ends it."""
    lib: Any = __import__("zmq" if impl == "zmq" else "purezmq")
    stats = {"good": 0, "messages": 0}
    stop = threading.Event()
    out_lock = threading.Lock()

    def say(line: str) -> None:
        with out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    start_threads: list[threading.Thread] = []

    def control() -> None:
        for line in sys.stdin:
            word = line.strip()
            if word == "stat":
                alive = threading.enumerate()
                dead = [t.name for t in start_threads if not t.is_alive()]
                say(json.dumps({**stats, "threads": len(alive), "dead": dead}))
            elif word == "quit":
                break
        stop.set()

    def account(frames: list[bytes]) -> None:
        stats["messages"] += 1
        if frames and frames[-1].startswith(GOOD):
            stats["good"] += 1

    def setup(ctx: Any) -> Any:
        sock = ctx.socket(getattr(lib, kind))
        sock.linger = 0
        if kind == "SUB":
            sock.setsockopt(lib.SUBSCRIBE, b"")
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        return sock, port

    def started(port: int) -> None:
        start_threads.extend(threading.enumerate())
        threading.Thread(target=control, name="control", daemon=True).start()
        say(f"port {port}")

    if engine == "thread":
        ctx = lib.Context()
        sock, port = setup(ctx)
        sock.rcvtimeo = 50
        started(port)
        while not stop.is_set():
            try:
                if kind == "PUB":
                    sock.send(b"tick")
                    time.sleep(0.005)
                    continue
                frames = sock.recv_multipart()
            except lib.Again:
                continue
            account(frames)
            if kind in ("REP", "ROUTER"):
                sock.send_multipart(frames)
        sock.close(linger=0)
        ctx.term()
        return

    aio: Any = importlib.import_module("zmq.asyncio" if impl == "zmq" else "purezmq.asyncio")

    async def main() -> None:
        ctx = aio.Context()
        sock, port = setup(ctx)
        started(port)
        while not stop.is_set():
            if kind == "PUB":
                await sock.send(b"tick")
                await asyncio.sleep(0.005)
                continue
            if not await sock.poll(50):
                continue
            try:  # (libzmq's REP may say POLLIN for a request it then drops.)
                frames = await sock.recv_multipart()
            except lib.Again:
                continue
            account(frames)
            if kind in ("REP", "ROUTER"):
                await sock.send_multipart(frames)
        sock.close(linger=0)
        ctx.term()

    asyncio.run(main())


# -- seeds --------------------------------------------------------------------------------------


def _fuzz_protocol() -> Any:
    module = sys.modules.get("fuzz_protocol")
    if module is None:
        path = Path(__file__).resolve().parent / "fuzz_protocol.py"
        spec = importlib.util.spec_from_file_location("fuzz_protocol", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["fuzz_protocol"] = module
        spec.loader.exec_module(module)
    return module


class Seeds:
    """What a client of ``CLIENT[server_type]`` writes, recorded; and the mutator."""

    def __init__(self, server_type: str) -> None:
        fp = self.fp = _fuzz_protocol()
        client_type = CLIENT[server_type]
        if client_type == "SUB":
            script = [("client", "subscribe", b""), ("client", "ping", b"ctx")]
        else:
            script = [
                ("client", "messages", [*fp.SMALL, b"L" * 70_000]),
                ("client", "ping", b"ctx"),
            ]
        self.good: list[bytes] = []  # NULL, accepted as is
        self.other: list[bytes] = []  # other mechanisms: refused
        for mechanism in fp.MECHANISMS:
            client = fp.make_connection(mechanism, client_type, server=False)
            server = fp.make_connection(mechanism, server_type, server=True)
            to_server, _ = fp.converse(client, server, script)
            (self.good if mechanism == "NULL" else self.other).append(b"".join(to_server))
        stream = self.good[0]
        self.greeting = stream[:64]
        spans = fp.frame_spans(stream, 64)
        self.handshake = stream[: spans[0][0] + spans[0][1] + spans[0][2]]  # greeting + READY
        self.corpus = self.good + self.other + fp.traffic_streams()

    def make(self, rng: random.Random, kind: str) -> bytes:
        fp = self.fp
        if kind in ("mutate", "drip", "rst"):
            seed = rng.choice(self.good * 3 + self.other)
            if kind == "mutate" or rng.random() < 0.5:
                seed = fp.mutate(seed, fp.random_mutation(rng), self.corpus)
            seed = seed or rng.randbytes(1 + rng.randrange(64))
            return seed[: rng.randrange(1, len(seed) + 1)] if kind == "rst" else seed
        if kind == "greeting":
            offset, patch = rng.choice(fp.GREETING_VARIANTS)
            stream = rng.choice(self.good)
            return stream[:offset] + patch + stream[offset + len(patch) :]
        if kind == "truncated":
            return self.handshake[: rng.randrange(1, len(self.handshake))]
        if kind == "oversize":
            flags = rng.choice((0x00, 0x01, 0x04)) | fp.LONG
            size = rng.choice(HUGE_SIZES)
            return self.handshake + bytes((flags,)) + struct.pack(">Q", size) + rng.randbytes(100)
        if kind == "command":
            name = rng.choice([b"READY", b"PING", b"PONG", b"ERROR", b"SUBSCRIBE", b"HELLO", b""])
            name = name or rng.randbytes(rng.randrange(1, 40))
            body = rng.randbytes(rng.randrange(0, 300))
            payload = bytes((len(name) % 256,)) + name + body
            if len(payload) < 256 and rng.random() < 0.5:
                command = bytes((0x04, len(payload))) + payload
            else:
                command = b"\x06" + struct.pack(">Q", len(payload)) + payload
            head = self.greeting if rng.random() < 0.3 else self.handshake
            return head + command * rng.randint(1, 3)
        if kind == "garbage":
            return self.handshake + rng.randbytes(rng.randrange(1, 4000))
        return rng.randbytes(rng.randrange(1, 2000))  # random


# -- the fuzzer ---------------------------------------------------------------------------------


async def one_connection(port: int, data: bytes, kind: str, hold: float, rng: random.Random) -> str:
    deadline = time.monotonic() + hold
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2.0)
    except (OSError, asyncio.TimeoutError):
        return "connect_failed"
    sock = writer.get_extra_info("socket")

    async def drain_reads() -> str:
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "we_closed"
                chunk = await asyncio.wait_for(reader.read(65536), left)
                if not chunk:
                    return "server_closed"
        except asyncio.TimeoutError:
            return "we_closed"
        except ConnectionResetError:
            return "server_reset"
        except OSError:
            return "server_reset"

    reading = asyncio.ensure_future(drain_reads())
    outcome = None
    try:
        if kind == "drip":
            pos = 0
            while pos < len(data) and time.monotonic() < deadline and not reading.done():
                step = rng.randint(1, 8)
                writer.write(data[pos : pos + step])
                pos += step
                await asyncio.sleep(rng.choice((0, 0.001, 0.005, 0.02)))
        else:
            writer.write(data)
        if kind == "rst":
            await asyncio.sleep(rng.choice((0, 0.001, 0.01)))
            if not reading.done() and not writer.transport.is_closing():
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
                else:
                    reading.cancel()
                    writer.transport.abort()
                    outcome = "we_reset"
        if outcome is None:
            outcome = await reading
    except (ConnectionResetError, BrokenPipeError):
        outcome = "server_reset"
    finally:
        if not reading.done():
            reading.cancel()
        if not writer.transport.is_closing():
            writer.transport.abort() if outcome == "server_reset" else writer.close()
    return outcome


class Server:
    def __init__(self, impl: str, kind: str, engine: str) -> None:
        self.impl, self.kind, self.engine = impl, kind, engine
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", impl, kind, engine],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env=ENV,
        )
        self.pid = self.proc.pid
        line = self.readline(15.0)
        if not line.startswith("port "):
            raise RuntimeError(f"server {impl} {kind} {engine} did not start: {line!r}")
        self.port = int(line.split()[1])

    def readline(self, timeout: float) -> str:
        import select

        assert self.proc.stdout is not None
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            return ""
        return self.proc.stdout.readline()

    def stat(self) -> dict[str, Any] | None:
        if self.proc.poll() is not None:
            return None
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write("stat\n")
            self.proc.stdin.flush()
        except OSError:
            return None
        line = self.readline(5.0)
        return json.loads(line) if line else None

    def sample(self) -> dict[str, int]:
        try:
            return {"kib": rss_kib(self.pid), "fds": fd_count(self.pid)}
        except OSError:
            return {"kib": 0, "fds": 0}

    def stderr_text(self) -> str:
        self.errors.flush()
        self.errors.seek(0)
        return self.errors.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def served(server: Server, timeout: float = 1.0) -> float | None:
    """A well-formed pyzmq client of the complementary type: seconds until served, or None."""
    import zmq

    ctx = zmq.Context.instance()
    sock = ctx.socket(getattr(zmq, CLIENT[server.kind]))
    sock.linger = 0
    marker = GOOD + str(time.monotonic_ns()).encode()
    start = time.monotonic()
    deadline = start + timeout
    try:
        if server.kind == "PUB":
            sock.setsockopt(zmq.SUBSCRIBE, b"")
        sock.connect(f"tcp://127.0.0.1:{server.port}")
        if server.kind == "PUB":
            if sock.poll(int(timeout * 1000), zmq.POLLIN):
                sock.recv_multipart()
                return time.monotonic() - start
            return None
        if server.kind in ("REP", "ROUTER"):
            sock.send(marker)
            if sock.poll(int(timeout * 1000), zmq.POLLIN) and sock.recv() == marker:
                return time.monotonic() - start
            return None
        # PULL, SUB: the server counts what it got (a PUB sends until subscribed to).
        before = server.stat()
        if before is None:
            return None
        sock.send(marker)
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = server.stat()
            if now is None:
                return None
            if now["good"] > before["good"]:
                return time.monotonic() - start
            if server.kind == "SUB":
                sock.send(marker)
        return None
    finally:
        sock.close(linger=0)


def settle(server: Server, fds: int, timeout: float) -> dict[str, int]:
    """Wait (bounded) for the server's descriptors to come back to ``fds``."""
    stop = time.monotonic() + timeout
    now = server.sample()
    while now["fds"] > fds and time.monotonic() < stop:
        time.sleep(0.1)
        now = server.sample()
    return now


def run_one(
    impl: str,
    kind: str,
    engine: str,
    connections: int,
    *,
    concurrency: int = 32,
    hold: float = 0.2,
    check_every: int = 2000,
    seed: int = 1,
    settle_s: float = 5.0,
    progress: bool = False,
) -> dict[str, Any]:
    """Fuzz one server; returns its numbers (see ``table``)."""
    raise_fd_limit()
    seeds = Seeds(kind)
    rng = random.Random(f"{seed}-{impl}-{kind}-{engine}")
    server = Server(impl, kind, engine)
    result: dict[str, Any] = {"impl": impl, "type": kind, "engine": engine}
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    checks: list[float | None] = []
    retries: list[float | None] = []
    peak = 0
    started = time.monotonic()
    try:
        first = served(server, 5.0)  # Warm up: the baseline includes one served client.
        result["first_served_s"] = first
        time.sleep(0.2)
        base = settle(server, fds=0, timeout=0)
        base = settle(server, fds=base["fds"], timeout=1.0)
        stat = server.stat()
        result["threads_start"] = stat["threads"] if stat else None
        peak = base["kib"]

        async def fuzz(count: int, offset: int) -> None:
            nonlocal peak
            gate = asyncio.Semaphore(concurrency)

            async def guarded(index: int) -> None:
                async with gate:
                    kind_ = KINDS[index % len(KINDS)]
                    data = seeds.make(rng, kind_)
                    kinds[kind_] += 1
                    outcomes[await one_connection(server.port, data, kind_, hold, rng)] += 1

            async def sampler() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, server.sample()["kib"])
                    await asyncio.sleep(0.1)

            watch = asyncio.ensure_future(sampler())
            try:
                await asyncio.gather(*(guarded(offset + i) for i in range(count)))
            finally:
                watch.cancel()

        done = 0
        while done < connections and server.proc.poll() is None:
            batch = min(check_every, connections - done)
            asyncio.run(fuzz(batch, done))
            done += batch
            checks.append(served(server))
            if checks[-1] is None:  # Noted; a second client tells a stall from a dead server.
                retries.append(served(server))
            if progress:
                print(
                    f"  {impl} {kind} {engine}: {done}/{connections}, served in "
                    f"{checks[-1]}, rss {server.sample()['kib'] // 1024} MiB",
                    file=sys.stderr,
                    flush=True,
                )
        result["connections"] = done
        result["fuzz_s"] = round(time.monotonic() - started, 1)
        end = settle(server, base["fds"], settle_s)
        stat = server.stat()
        result.update(
            outcomes=dict(outcomes),
            kinds=dict(kinds),
            checks=len(checks),
            served_all=bool(checks) and all(c is not None for c in checks),
            served_first=sum(c is not None for c in checks),
            served_retry=sum(c is not None for c in retries),
            served_max_s=max((c for c in checks if c is not None), default=None),
            alive=server.proc.poll() is None and stat is not None,
            threads_end=stat["threads"] if stat else None,
            dead_threads=stat["dead"] if stat else None,
            rss_kib={"start": base["kib"], "peak": max(peak, end["kib"]), "end": end["kib"]},
            fds={"start": base["fds"], "end": end["fds"]},
        )
    finally:
        server.stop()
        text = server.stderr_text()
        server.errors.close()
    errors = text.count("Traceback")
    result["errors"] = errors
    result["stderr_tail"] = text[-2000:] if text else ""
    if errors:  # (The first one whole: the tail rarely holds it.)
        start = text.index("Traceback")
        result["first_traceback"] = text[start : start + 4000]
    return result


def ok(result: dict[str, Any], rss_growth_kib: int = 30 * 1024) -> bool:
    return bool(
        result.get("served_all")
        and result.get("alive")
        and not result.get("dead_threads")
        and result["fds"]["end"] <= result["fds"]["start"]
        and result["rss_kib"]["end"] - result["rss_kib"]["start"] < rss_growth_kib
    )


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| impl | type | engine | connections | server closed | server reset | we closed "
        "| we reset | connect failed | served after (max s) | alive, threads | "
        "RSS start/peak/end MiB | fds start/end | errors |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        o = r.get("outcomes", {})
        rss = r.get("rss_kib", {"start": 0, "peak": 0, "end": 0})
        fds = r.get("fds", {"start": 0, "end": 0})
        served_max = r.get("served_max_s")
        served_text = f"{r.get('served_first', 0)}/{r.get('checks', 0)}"
        if served_max is not None:
            served_text += f" ({served_max:.2f})"
        if r.get("served_first", 0) < r.get("checks", 0):
            served_text += f", on retry {r.get('served_retry', 0)}"
        lines.append(
            f"| {r['impl']} | {r['type']} | {r['engine']} | {r.get('connections', 0)} "
            f"| {o.get('server_closed', 0)} | {o.get('server_reset', 0)} "
            f"| {o.get('we_closed', 0)} | {o.get('we_reset', 0)} | {o.get('connect_failed', 0)} "
            f"| {served_text} | {'yes' if r.get('alive') else 'NO'}, "
            f"{r.get('threads_start')}->{r.get('threads_end')}"
            f"{' dead ' + str(r['dead_threads']) if r.get('dead_threads') else ''} "
            f"| {rss['start'] / 1024:.0f}/{rss['peak'] / 1024:.0f}/{rss['end'] / 1024:.0f} "
            f"| {fds['start']}/{fds['end']} | {r.get('errors', 0)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--serve", nargs=3, metavar=("IMPL", "TYPE", "ENGINE"), help=argparse.SUPPRESS
    )
    parser.add_argument("-n", "--connections", type=int, default=20_000)
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--impls", default=",".join(IMPLS))
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--hold", type=float, default=0.2, help="seconds per connection, at most")
    parser.add_argument("--check-every", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.serve:
        serve(*args.serve)
        return 0
    results = []
    for kind, engine, impl in itertools.product(
        args.types.split(","), args.engines.split(","), args.impls.split(",")
    ):
        print(f"{impl} {kind} {engine} ...", file=sys.stderr, flush=True)
        result = run_one(
            impl,
            kind,
            engine,
            args.connections,
            concurrency=args.concurrency,
            hold=args.hold,
            check_every=args.check_every,
            seed=args.seed,
            progress=True,
        )
        results.append(result)
        if result["errors"] or not ok(result):
            print(result["stderr_tail"], file=sys.stderr)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if all(ok(r) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

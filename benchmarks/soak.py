"""Flood and soak, purezmq and pyzmq side by side: is memory bounded by HWM, do fds leak?

Scenarios (each run once per library, the same script for both, in fresh processes; the
process under watch is sampled for resident memory and open descriptors from /proc):
- flood:   a PUSH sending as fast as it can into a PULL that reads slowly, for --seconds;
           the sender's and the receiver's memory must stay bounded (SNDHWM/RCVHWM 1000).
- pubsub:  a PUB publishing as fast as it can to a slow SUB, for --seconds: the PUB drops at
           HWM, its memory stays bounded.
- dealers: --dealers DEALERs (one process) on one ROUTER: the ROUTER's memory and fds with
           all of them connected, and its fds once they have all gone.
- churn:   --cycles REQ connect/request/reply/close cycles against one REP: the REP's memory
           and fds before and after (they must come back), and the client's memory.

Run:  python benchmarks/soak.py                       # the issue's sizes: 600 s floods, ...
      python benchmarks/soak.py --seconds 20 --dealers 500 --cycles 1000   # a few minutes
Prints a table (and --json FILE writes the numbers). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
}
PAYLOAD = b"x" * 100


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


# -- the roles, each in a process of its own ------------------------------------------------------


def role(lib: Any, name: str, endpoint: str, args: dict[str, Any]) -> None:
    """Run one role; it says "ready" on stdout once bound/connected and "done" at the end."""
    ctx = lib.Context()
    say = lambda *words: print(*words, flush=True)  # noqa: E731
    seconds = args.get("seconds", 10.0)
    if name == "push":  # As fast as it can, for `seconds`.
        sock = ctx.socket(lib.PUSH)
        sock.bind(endpoint)
        say("ready", sock.last_endpoint.decode())
        sent, stop = 0, time.monotonic() + seconds
        while time.monotonic() < stop:
            for _ in range(100):
                sock.send(PAYLOAD)
            sent += 100
        say("done", sent)
        sock.close(0)
    elif name == "slow-pull":  # Reads in bursts with pauses: ~a fifth of what it could.
        sock = ctx.socket(lib.PULL)
        sock.connect(endpoint)
        sock.rcvtimeo = 2000
        say("ready", endpoint)
        got = 0
        try:
            while True:
                for _ in range(100):
                    sock.recv()
                got += 100
                time.sleep(0.001)
        except lib.Again:
            pass
        say("done", got)
        sock.close(0)
    elif name == "pub":
        sock = ctx.socket(lib.PUB)
        sock.bind(endpoint)
        say("ready", sock.last_endpoint.decode())
        sent, stop = 0, time.monotonic() + seconds
        while time.monotonic() < stop:
            for _ in range(100):
                sock.send(PAYLOAD)
            sent += 100
        say("done", sent)
        sock.close(0)
    elif name == "slow-sub":
        sock = ctx.socket(lib.SUB)
        sock.subscribe(b"")
        sock.connect(endpoint)
        sock.rcvtimeo = 2000
        say("ready", endpoint)
        got = 0
        try:
            while True:
                for _ in range(100):
                    sock.recv()
                got += 100
                time.sleep(0.005)
        except lib.Again:
            pass
        say("done", got)
        sock.close(0)
    elif name in ("router", "rep"):
        sock = ctx.socket(lib.ROUTER if name == "router" else lib.REP)
        sock.bind(endpoint)
        sock.rcvtimeo = 100
        try:  # (A first blocking call makes the socket's wake-up fds: not counted as a leak.)
            sock.recv()
        except lib.Again:
            pass
        say("ready", sock.last_endpoint.decode())
        served = 0
        while not _stdin_says("stop"):
            try:
                message = sock.recv_multipart()
            except lib.Again:
                continue
            sock.send_multipart(message)
            served += 1
        say("done", served)
        sock.close(0)
    elif name == "dealers":
        raise_fd_limit()
        ctx.set(lib.MAX_SOCKETS, args["dealers"] + 16)  # (libzmq's default is 1023.)
        sockets = []
        for _ in range(args["dealers"]):
            dealer = ctx.socket(lib.DEALER)
            dealer.rcvtimeo = 20_000
            dealer.connect(endpoint)
            sockets.append(dealer)
        for dealer in sockets:
            dealer.send(b"hi")
        for dealer in sockets:
            dealer.recv()
        say("ready", len(sockets))
        _wait_stdin("stop")
        for dealer in sockets:
            dealer.close(0)
        say("done", len(sockets))
    elif name == "churn":

        def cycle() -> None:
            req = ctx.socket(lib.REQ)
            req.rcvtimeo = 5000
            req.connect(endpoint)
            req.send(b"ping")
            req.recv()
            req.close(0)

        for _ in range(10):  # (The REP's first replies make what it keeps: not a leak.)
            cycle()
        say("warm")
        _wait_stdin("go")
        for _ in range(args["cycles"]):
            cycle()
        say("ready", args["cycles"])
        _wait_stdin("stop")
        say("done", args["cycles"])
    ctx.term()


def _stdin_says(word: str) -> bool:
    import select

    if select.select([sys.stdin], [], [], 0)[0]:
        return sys.stdin.readline().strip() == word
    return False


def _wait_stdin(word: str) -> None:
    while sys.stdin.readline().strip() != word:
        pass


# -- the orchestra ------------------------------------------------------------------------------


class Peer:
    def __init__(self, impl: str, name: str, endpoint: str, **args: Any) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--role",
                name,
                "--impl",
                impl,
                "--endpoint",
                endpoint,
                "--args",
                json.dumps(args),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self.pid = self.proc.pid

    def expect(self, word: str) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != word:
            raise RuntimeError(f"expected {word!r} from pid {self.pid}, got {line!r}")
        return line[1] if len(line) > 1 else ""

    def tell(self, word: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()

    def finish(self) -> None:
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def sample(peers: dict[str, Peer], seconds: float) -> dict[str, int]:
    """The largest resident size (KiB) of each watched process over ``seconds``."""
    peak = {name: 0 for name in peers}
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        for name, peer in peers.items():
            try:
                peak[name] = max(peak[name], rss_kib(peer.pid))
            except OSError:
                pass
        time.sleep(0.2)
    return peak


def flood(impl: str, seconds: float) -> dict[str, Any]:
    sender = Peer(impl, "push", "tcp://127.0.0.1:*", seconds=seconds)
    endpoint = sender.expect("ready")
    receiver = Peer(impl, "slow-pull", endpoint)
    receiver.expect("ready")
    start = {"sender": rss_kib(sender.pid), "receiver": rss_kib(receiver.pid)}
    peak = sample({"sender": sender, "receiver": receiver}, seconds)
    sent, got = int(sender.expect("done")), int(receiver.expect("done"))
    sender.finish(), receiver.finish()
    return {"sent": sent, "received": got, "start_kib": start, "peak_kib": peak}


def pubsub(impl: str, seconds: float) -> dict[str, Any]:
    pub = Peer(impl, "pub", "tcp://127.0.0.1:*", seconds=seconds)
    endpoint = pub.expect("ready")
    sub = Peer(impl, "slow-sub", endpoint)
    sub.expect("ready")
    start = {"pub": rss_kib(pub.pid), "sub": rss_kib(sub.pid)}
    peak = sample({"pub": pub, "sub": sub}, seconds)
    sent, got = int(pub.expect("done")), int(sub.expect("done"))
    pub.finish(), sub.finish()
    return {"sent": sent, "received": got, "start_kib": start, "peak_kib": peak}


def dealers(impl: str, count: int) -> dict[str, Any]:
    router = Peer(impl, "router", "tcp://127.0.0.1:*")
    endpoint = router.expect("ready")
    base = {"kib": rss_kib(router.pid), "fds": fd_count(router.pid)}
    began = time.monotonic()
    clients = Peer(impl, "dealers", endpoint, dealers=count)
    clients.expect("ready")
    full = {
        "kib": rss_kib(router.pid),
        "fds": fd_count(router.pid),
        "clients_kib": rss_kib(clients.pid),
        "seconds": round(time.monotonic() - began, 2),
    }
    clients.tell("stop")
    clients.expect("done")
    clients.finish()
    after = _settle(router.pid, base["fds"])
    router.tell("stop")
    router.expect("done")
    router.finish()
    return {"dealers": count, "base": base, "connected": full, "after": after}


def churn(impl: str, cycles: int) -> dict[str, Any]:
    rep = Peer(impl, "rep", "tcp://127.0.0.1:*")
    endpoint = rep.expect("ready")
    client = Peer(impl, "churn", endpoint, cycles=cycles)
    client.expect("warm")
    time.sleep(0.2)  # (The warm-up's last connection closing.)
    base = {"kib": rss_kib(rep.pid), "fds": fd_count(rep.pid)}
    began = time.monotonic()
    client.tell("go")
    client.expect("ready")
    seconds = round(time.monotonic() - began, 2)
    client_kib = rss_kib(client.pid)
    client.tell("stop")
    client.expect("done")
    client.finish()
    after = _settle(rep.pid, base["fds"])
    rep.tell("stop")
    rep.expect("done")
    rep.finish()
    return {
        "cycles": cycles,
        "seconds": seconds,
        "base": base,
        "after": after,
        "client_kib": client_kib,
    }


def _settle(pid: int, fds: int, timeout: float = 30.0) -> dict[str, int]:
    """The process's memory and fds once its fd count is back to ``fds`` (or at ``timeout``)."""
    deadline = time.monotonic() + timeout
    while fd_count(pid) > fds and time.monotonic() < deadline:
        time.sleep(0.1)
    return {"kib": rss_kib(pid), "fds": fd_count(pid)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="flood and pubsub length")
    parser.add_argument("--dealers", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=5000)
    parser.add_argument("--impls", default="purezmq,zmq")
    parser.add_argument("--scenarios", default="flood,pubsub,dealers,churn")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--args", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.role:
        role(importlib.import_module(opts.impl), opts.role, opts.endpoint, json.loads(opts.args))
        return
    raise_fd_limit()
    results: dict[str, dict[str, Any]] = {}
    for scenario in opts.scenarios.split(","):
        for impl in opts.impls.split(","):
            if scenario == "flood":
                outcome = flood(impl, opts.seconds)
            elif scenario == "pubsub":
                outcome = pubsub(impl, opts.seconds)
            elif scenario == "dealers":
                outcome = dealers(impl, opts.dealers)
            else:
                outcome = churn(impl, opts.cycles)
            results.setdefault(scenario, {})[impl] = outcome
            print(scenario, impl, json.dumps(outcome), flush=True)
    print()
    print(table(results))
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=1) + "\n")


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = ["| scenario | measure | " + " | ".join(next(iter(results.values()))) + " |"]
    rows.append("|---|---|" + "--:|" * len(next(iter(results.values()))))

    def row(scenario: str, label: str, pick: Any) -> None:
        cells = []
        for outcome in results[scenario].values():
            try:
                cells.append(str(pick(outcome)))
            except (KeyError, TypeError):
                cells.append("-")
        rows.append(f"| {scenario} | {label} | " + " | ".join(cells) + " |")

    mib = lambda kib: f"{kib / 1024:.0f} MiB"  # noqa: E731
    for scenario in results:
        if scenario in ("flood", "pubsub"):
            first, second = ("sender", "receiver") if scenario == "flood" else ("pub", "sub")
            row(scenario, "sent / received", lambda o: f"{o['sent']:,} / {o['received']:,}")
            for side in (first, second):
                row(
                    scenario,
                    f"{side} memory start -> peak",
                    lambda o, s=side: f"{mib(o['start_kib'][s])} -> {mib(o['peak_kib'][s])}",
                )
        elif scenario == "dealers":
            row(
                scenario,
                "ROUTER memory idle -> all connected",
                lambda o: f"{mib(o['base']['kib'])} -> {mib(o['connected']['kib'])}",
            )
            row(
                scenario,
                "ROUTER fds idle / connected / after",
                lambda o: f"{o['base']['fds']} / {o['connected']['fds']} / {o['after']['fds']}",
            )
            row(scenario, "DEALERs' process memory", lambda o: mib(o["connected"]["clients_kib"]))
            row(scenario, "seconds to connect all", lambda o: o["connected"]["seconds"])
        else:
            row(
                scenario,
                "REP memory before -> after",
                lambda o: f"{mib(o['base']['kib'])} -> {mib(o['after']['kib'])}",
            )
            row(
                scenario,
                "REP fds before / after",
                lambda o: f"{o['base']['fds']} / {o['after']['fds']}",
            )
            row(scenario, "client memory after", lambda o: mib(o["client_kib"]))
            row(scenario, "seconds", lambda o: o["seconds"])
    return "\n".join(rows)


if __name__ == "__main__":
    main()

"""Python calls per REQ/REP round trip over tcp, on each side: a count, not a timing.

On a noisy machine a timing moves 2x from run to run; the number of Python (and C) calls a
round trip makes in the socket's thread does not. It is what the request/reply latency of a
pure-Python library is made of, so this is the figure to watch when trimming the hot path:

    python benchmarks/calls.py            # purezmq REQ and REP, in two processes

Each side counts the calls its own thread makes (``sys.setprofile``) over ROUND_TRIPS round trips,
after a warm-up, and prints the mean per round trip.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

import purezmq as zmq

ROUND_TRIPS = 500
WARM_UP = 50
ENDPOINT = "tcp://127.0.0.1:5613"


def calls_per_round_trip(run: Callable[[], None]) -> float:
    thread = threading.get_ident()
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call") and threading.get_ident() == thread:
            count += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count / ROUND_TRIPS


def serve() -> None:
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    rep.bind(ENDPOINT)

    def echo(times: int) -> None:
        for _ in range(times):
            rep.send(rep.recv())

    echo(WARM_UP)
    calls = calls_per_round_trip(lambda: echo(ROUND_TRIPS))
    echo(WARM_UP)  # The requester's last round trips, counted on its side.
    print(f"REP: {calls:.1f} calls per round trip", flush=True)
    ctx.destroy(linger=0)


def request() -> None:
    ctx = zmq.Context()
    req = ctx.socket(zmq.REQ)
    req.connect(ENDPOINT)
    message = b"x" * 16

    def ask(times: int) -> None:
        for _ in range(times):
            req.send(message)
            req.recv()

    ask(WARM_UP)
    calls = calls_per_round_trip(lambda: ask(ROUND_TRIPS))
    ask(WARM_UP)
    print(f"REQ: {calls:.1f} calls per round trip", flush=True)
    ctx.destroy(linger=0)


def main() -> None:
    if sys.argv[1:] == ["rep"]:
        serve()
    elif sys.argv[1:] == ["req"]:
        request()
    else:
        sides = [subprocess.Popen([sys.executable, __file__, side]) for side in ("rep", "req")]
        for side in sides:
            side.wait(timeout=120)


if __name__ == "__main__":
    main()

"""A PUB and its SUB processes: the CPU each side spends, purezmq and pyzmq side by side.

    python benchmarks/pubsub_cpu.py                 # 4 and 16 SUBs, three interleaved rounds
    python benchmarks/pubsub_cpu.py --subs 16 --rounds 5

Each round runs, for each library, one PUB (this process) and N SUB processes of that library
over tcp loopback at the default high-water marks, and sends 200,000 messages of 16 B. It
prints the PUB's CPU per message sent (its process, every thread), the SUBs' CPU per message
received (each SUB's process, summed), the share delivered and the deliveries per second, then
the ratios purezmq/pyzmq. Where `purezmq bench`'s pubsub lines give the rate, this says which
side the time goes to.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing as mp
import queue
import time
from typing import Any

MESSAGES = 200_000
LIBRARIES = ("purezmq", "zmq")
DATA, PROBE, END = ord("D"), b"P", b"E"


def _subscriber(lib: str, endpoint: str, ready: Any, done: Any) -> None:
    zmq = importlib.import_module(lib)
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(endpoint)
    ready.put(1)
    recv = sub.recv
    while recv()[0] != DATA:  # Probes until the data starts.
        pass
    started, count = time.process_time(), 1
    while True:
        tag = recv()[0]
        if tag == DATA:
            count += 1
        elif tag == END[0]:
            break
    done.put((count, time.process_time() - started))
    sub.close(linger=0)
    ctx.term()


def one_run(lib: str, subscribers: int) -> dict[str, float]:
    zmq = importlib.import_module(lib)
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    ready: Any = mp.Queue()
    done: Any = mp.Queue()
    procs = [
        mp.Process(target=_subscriber, args=(lib, f"tcp://127.0.0.1:{port}", ready, done))
        for _ in range(subscribers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=30)
    for _ in range(50):  # Until every subscription has reached the PUB (probes are not counted).
        pub.send(PROBE)
        time.sleep(0.01)
    message = b"D" * 16
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(MESSAGES):
        pub.send(message)
    pub_cpu = time.process_time() - cpu
    reports: list[tuple[int, float]] = []
    deadline = time.monotonic() + 60
    while len(reports) < subscribers:  # END is resent: the PUB may drop it too.
        if time.monotonic() > deadline:
            raise RuntimeError(f"{lib}: only {len(reports)} of {subscribers} SUBs reported")
        pub.send(END)
        try:
            reports.append(done.get(timeout=0.01))
        except queue.Empty:
            pass
    wall = time.perf_counter() - wall
    for proc in procs:
        proc.join(timeout=30)
    pub.close(linger=0)
    ctx.term()
    received = sum(count for count, _ in reports)
    return {
        "pub_us": pub_cpu / MESSAGES * 1e6,
        "sub_us": sum(cpu for _, cpu in reports) / max(received, 1) * 1e6,
        "delivered": received / (MESSAGES * subscribers),
        "rate": received / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subs", default="4,16", help="SUB counts (default: 4,16)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for subscribers in [int(n) for n in args.subs.split(",")]:
        for round_ in range(1, args.rounds + 1):
            figures = {lib: one_run(lib, subscribers) for lib in LIBRARIES}
            for lib, f in figures.items():
                print(
                    f"{subscribers:3} SUBs round {round_} {lib:8} PUB {f['pub_us']:.2f} µs/msg  "
                    f"SUB {f['sub_us']:.3f} µs/delivery  delivered {f['delivered']:4.0%}  "
                    f"{f['rate'] / 1e6:.2f}M deliveries/s"
                )
            ours, theirs = figures["purezmq"], figures["zmq"]
            print(
                f"{subscribers:3} SUBs round {round_} purezmq/pyzmq: PUB "
                f"{ours['pub_us'] / theirs['pub_us']:.2f}x, SUB "
                f"{ours['sub_us'] / theirs['sub_us']:.2f}x CPU"
            )


if __name__ == "__main__":
    main()

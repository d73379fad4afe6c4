"""``purezmq demo``: the demos from the talk "ZeroMQ: a network stack with a message queue built
in", and the command that runs them.

``run_pipeline`` squares a matrix row by row on worker *processes*: a ventilator PUSHes rows,
each worker PULLs a row, squares it and PUSHes ``[row_index, squared_row]`` to a sink, which puts
the rows back in order and flattens them.  ``run_chat`` is a scripted conversation between two
PAIR sockets.  ``add_demo`` registers the command (``purezmq demo web`` is handed to
``purezmq.apps.web`` by ``purezmq.cli.passthrough``).

Only the pyzmq-compatible public API is used, so both functions also run against pyzmq.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence

import purezmq as zmq
from purezmq.cli.argtypes import positive_int

__all__ = ["CHAT_SCRIPT", "DEMO_MATRIX", "add_demo", "run_chat", "run_pipeline"]

DEMO_MATRIX: list[list[int]] = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]

CHAT_SCRIPT: list[tuple[str, str]] = [
    ("bob", "hi alice"),
    ("alice", "hi bob, one PAIR socket each and no broker in between"),
    ("bob", "and the message queue is built in"),
    ("alice", "bye"),
]

_TRANSPORTS = ("ipc", "tcp")
_POLL_MS = 50


def _endpoint(transport: str, tmpdir: str | None, name: str) -> str:
    if transport == "ipc":
        assert tmpdir is not None
        return f"ipc://{os.path.join(tmpdir, name)}.sock"
    return "tcp://127.0.0.1:*"


def _bind(sock: zmq.Socket, transport: str, tmpdir: str | None, name: str) -> str:
    """Bind to a fresh endpoint and return the address peers should connect to."""
    sock.bind(_endpoint(transport, tmpdir, name))
    endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
    return endpoint.decode() if isinstance(endpoint, bytes) else str(endpoint)


def _check_transport(transport: str) -> None:
    if transport not in _TRANSPORTS:
        raise ValueError(f"transport must be one of {', '.join(_TRANSPORTS)}, not {transport!r}")


def _square_worker(vent_endpoint: str, sink_endpoint: str, worker_id: int) -> None:
    """Worker process: PULL rows from the ventilator, PUSH squared rows to the sink.

    Messages from the ventilator are multipart ``[kind, payload...]``:
    ``ping`` (answered once with ``ready`` on the sink socket, proving this worker's ventilator
    connection is attached), ``row`` with a JSON ``[index, row]``, and ``stop``.
    """
    ctx = zmq.Context()
    rows = ctx.socket(zmq.PULL)
    rows.setsockopt(zmq.LINGER, 0)
    rows.connect(vent_endpoint)
    results = ctx.socket(zmq.PUSH)
    results.setsockopt(zmq.LINGER, 5000)  # flush the last result, but never hang forever
    results.connect(sink_endpoint)
    poller = zmq.Poller()
    poller.register(rows, zmq.POLLIN)
    parent = multiprocessing.parent_process()
    ready = False
    try:
        while True:
            if not poller.poll(250):
                if parent is not None and not parent.is_alive():
                    break  # orphaned: nobody will ever send "stop"
                continue
            kind, *payload = rows.recv_multipart()
            if kind == b"stop":
                break
            if kind == b"ping":
                if not ready:
                    results.send_multipart([b"ready", str(worker_id).encode()])
                    ready = True
            elif kind == b"row":
                index, row = json.loads(payload[0])
                squared = [x * x for x in row]
                results.send_multipart([b"result", json.dumps([index, squared]).encode()])
    except KeyboardInterrupt:
        pass
    finally:
        rows.close()
        results.close()
        ctx.term()


def _validate_matrix(matrix: Sequence[Sequence[int]]) -> list[list[int]]:
    rows: list[list[int]] = []
    for i, row in enumerate(matrix):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise ValueError(f"row {i} is not a sequence of numbers: {row!r}")
        for x in row:
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise ValueError(f"row {i} holds a non-number: {x!r}")
        rows.append(list(row))
    return rows


def run_pipeline(
    matrix: Sequence[Sequence[int]] = DEMO_MATRIX,
    workers: int = 3,
    transport: str = "ipc",
    timeout: float = 30.0,
) -> list[int]:
    """Square ``matrix`` row by row on ``workers`` processes and return the flattened result.

    The sink (PULL) and ventilator (PUSH) live in this process; workers are started with the
    ``spawn`` start method.  Rows are only sent once every worker has answered a ping received over
    its ventilator connection, so PUSH really load-balances rows across all workers.  ``transport``
    is ``"ipc"`` (sockets in a temporary directory) or ``"tcp"`` (ephemeral ports on 127.0.0.1).
    Every worker has exited when this returns.  Raises ``TimeoutError`` if the whole run takes more
    than ``timeout`` seconds and ``RuntimeError`` if the workers die.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, not {workers!r}")
    _check_transport(transport)
    rows = _validate_matrix(matrix)
    if not rows:
        return []

    deadline = time.monotonic() + timeout
    tmpdir = tempfile.mkdtemp(prefix="purezmq-") if transport == "ipc" else None
    ctx = zmq.Context()
    procs: list[multiprocessing.process.BaseProcess] = []
    try:
        sink = ctx.socket(zmq.PULL)
        sink.setsockopt(zmq.LINGER, 0)
        sink_endpoint = _bind(sink, transport, tmpdir, "sink")
        vent = ctx.socket(zmq.PUSH)
        vent.setsockopt(zmq.LINGER, 0)
        vent_endpoint = _bind(vent, transport, tmpdir, "ventilator")
        poller = zmq.Poller()
        poller.register(sink, zmq.POLLIN)

        mp = multiprocessing.get_context("spawn")
        for worker_id in range(workers):
            procs.append(
                mp.Process(
                    target=_square_worker,
                    args=(vent_endpoint, sink_endpoint, worker_id),
                    name=f"purezmq-square-worker-{worker_id}",
                    daemon=True,
                )
            )
            procs[-1].start()

        def receive() -> list[bytes] | None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"pipeline did not finish within {timeout} s")
            if not poller.poll(_POLL_MS):
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("all pipeline workers exited unexpectedly")
                return None
            return sink.recv_multipart()

        # 1. Wait until every worker is connected both ways. Pings only reach workers whose
        #    ventilator connection is attached; the "ready" answer comes back over the sink.
        ready: set[bytes] = set()
        while len(ready) < workers:
            try:
                vent.send_multipart([b"ping"], zmq.NOBLOCK)
            except zmq.Again:
                pass  # no worker connected yet
            msg = receive()
            if msg is not None and msg[0] == b"ready":
                ready.add(msg[1])

        # 2. Ventilate: PUSH deals the rows out round-robin.
        for index, row in enumerate(rows):
            vent.send_multipart([b"row", json.dumps([index, row]).encode()])

        # 3. Sink: collect every row, whatever order the workers finish in.
        results: dict[int, list[int]] = {}
        while len(results) < len(rows):
            msg = receive()
            if msg is not None and msg[0] == b"result":
                index, squared = json.loads(msg[1])
                results[index] = squared

        # 4. Stop the workers: keep sending "stop" until each has taken one and exited.
        stop_deadline = time.monotonic() + 5.0
        while any(p.is_alive() for p in procs) and time.monotonic() < stop_deadline:
            try:
                vent.send_multipart([b"stop"], zmq.NOBLOCK)
            except zmq.Again:
                pass
            multiprocessing.connection.wait([p.sentinel for p in procs if p.is_alive()], 0.05)
        return [x for index in sorted(results) for x in results[index]]
    finally:
        for proc in procs:
            proc.join(timeout=1.0)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5.0)
        ctx.destroy(linger=0)
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def run_chat(
    script: Sequence[tuple[str, str]] = CHAT_SCRIPT,
    transport: str = "ipc",
    timeout: float = 10.0,
) -> list[str]:
    """Play ``script`` between two PAIR sockets, ``alice`` (binds) and ``bob`` (connects).

    Every line is sent by its speaker and received by the other side; the transcript, as the
    receiving side prints it (``"bob: hi alice"``), is returned.  The first speaker must be bob: the
    connecting side queues messages until the connection is up, the binding side has no peer yet.
    """
    _check_transport(transport)
    names = ("alice", "bob")
    for speaker, _ in script:
        if speaker not in names:
            raise ValueError(f"speakers must be alice or bob, not {speaker!r}")
    if script and script[0][0] != "bob":
        raise ValueError("bob (the connecting side) must speak first")

    tmpdir = tempfile.mkdtemp(prefix="purezmq-") if transport == "ipc" else None
    ctx = zmq.Context()
    try:
        alice = ctx.socket(zmq.PAIR)
        bob = ctx.socket(zmq.PAIR)
        for sock in (alice, bob):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
            sock.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
        bob.connect(_bind(alice, transport, tmpdir, "chat"))
        sockets = {"alice": alice, "bob": bob}
        transcript = []
        for speaker, text in script:
            listener = "bob" if speaker == "alice" else "alice"
            sockets[speaker].send_multipart([speaker.encode(), text.encode()])
            try:
                name, received = sockets[listener].recv_multipart()
            except zmq.Again:
                raise TimeoutError(f"{listener} heard nothing within {timeout} s") from None
            transcript.append(f"{name.decode()}: {received.decode()}")
        return transcript
    finally:
        ctx.destroy(linger=0)
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


# -- the command --------------------------------------------------------------------------------


def add_demo(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run a demo from the talk (pipeline, chat or web)",
        description="Run a self-contained demo. pipeline (default): square a 3x3 matrix row by "
        "row on worker processes over PUSH/PULL. chat: a scripted chat between two PAIR sockets.",
    )
    p.add_argument(
        "name",
        nargs="?",
        choices=("pipeline", "chat", "web"),
        default="pipeline",
        help="web: the web app ('purezmq demo web --help')",
    )
    p.add_argument(
        "--transport", choices=("ipc", "tcp"), default="ipc", help="default: %(default)s"
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=3,
        help="pipeline worker processes (default: %(default)s)",
    )
    p.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    if args.name == "chat":
        for line in run_chat(transport=args.transport):
            print(line, flush=True)
        return 0
    matrix = DEMO_MATRIX
    print(f"matrix: {matrix}")
    print(f"squaring each row on {args.workers} worker processes over {args.transport} ...")
    sys.stdout.flush()
    print(run_pipeline(matrix, workers=args.workers, transport=args.transport), flush=True)
    return 0

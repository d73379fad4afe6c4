"""The ventilator of the pipeline and its worker processes: start processB.py first.

    python examples/pipeline/processB.py                 # terminal 1: the sink
    python examples/pipeline/processA.py --workers 3     # terminal 2

The ventilator binds a PUSH and starts the workers (multiprocessing, "spawn").  Each worker PULLs
rows from it, squares them and PUSHes ``[row_index, squared_row]`` (JSON) to the sink.  Before
dealing out the rows the ventilator pings until every worker has answered "ready" over a PULL of
its own: a ping only reaches a worker whose connection is attached, so every row is then dealt
round-robin to a connected worker.  At the end every worker is told to stop.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import shutil
import sys
import tempfile
import time

import purezmq as zmq

MATRIX = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
DEFAULT_SINK = "tcp://127.0.0.1:5558"


def worker(worker_id: int, vent_endpoint: str, ready_endpoint: str, sink_endpoint: str) -> None:
    ctx = zmq.Context()
    rows = ctx.socket(zmq.PULL)
    rows.connect(vent_endpoint)
    ready = ctx.socket(zmq.PUSH)
    ready.connect(ready_endpoint)
    sink = ctx.socket(zmq.PUSH)
    sink.connect(sink_endpoint)
    poller = zmq.Poller()
    poller.register(rows, zmq.POLLIN)
    parent = multiprocessing.parent_process()
    said_ready = False
    try:
        while True:
            if not poller.poll(250):
                if parent is not None and not parent.is_alive():
                    return  # the ventilator is gone; nobody will say stop
                continue
            kind, *payload = rows.recv_multipart()
            if kind == b"stop":
                return
            if kind == b"ping" and not said_ready:
                ready.send(str(worker_id).encode())
                said_ready = True
            elif kind == b"row":
                index, row = json.loads(payload[0])
                squared = [x * x for x in row]
                sink.send_multipart([b"result", json.dumps([index, squared]).encode()])
    except KeyboardInterrupt:
        pass
    finally:
        ctx.destroy(linger=5000)  # deliver the last result, but never hang forever


def main() -> int:
    parser = argparse.ArgumentParser(description="Pipeline ventilator and worker processes.")
    parser.add_argument("--sink", default=DEFAULT_SINK, help="sink endpoint (%(default)s)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes (%(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds (%(default)s)")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    tmpdir = tempfile.mkdtemp(prefix="purezmq-pipeline-")
    vent_endpoint = f"ipc://{tmpdir}/ventilator.sock"
    ready_endpoint = f"ipc://{tmpdir}/ready.sock"
    deadline = time.monotonic() + args.timeout
    ctx = zmq.Context()
    procs = []
    try:
        vent = ctx.socket(zmq.PUSH)
        vent.bind(vent_endpoint)
        ready = ctx.socket(zmq.PULL)
        ready.bind(ready_endpoint)
        poller = zmq.Poller()
        poller.register(ready, zmq.POLLIN)
        sink = ctx.socket(zmq.PUSH)
        sink.connect(args.sink)
        sink.send_multipart([b"batch", json.dumps({"rows": len(MATRIX)}).encode()])

        spawn = multiprocessing.get_context("spawn")
        for worker_id in range(args.workers):
            proc = spawn.Process(
                target=worker, args=(worker_id, vent_endpoint, ready_endpoint, args.sink)
            )
            proc.start()
            procs.append(proc)

        print(f"ventilator: waiting for {args.workers} workers", file=sys.stderr, flush=True)
        ready_workers: set[bytes] = set()
        while len(ready_workers) < args.workers:
            if time.monotonic() > deadline:
                print("ventilator: workers did not start in time", file=sys.stderr)
                return 1
            try:
                vent.send_multipart([b"ping"], zmq.NOBLOCK)
            except zmq.Again:
                pass  # no worker connected yet
            if poller.poll(50):
                ready_workers.add(ready.recv())

        print(f"ventilator: sending {len(MATRIX)} rows", file=sys.stderr, flush=True)
        for index, row in enumerate(MATRIX):
            vent.send_multipart([b"row", json.dumps([index, row]).encode()])

        # A worker handles every row queued for it before it reads a "stop", so keep saying
        # stop until all of them have finished and exited.
        while any(p.is_alive() for p in procs):
            if time.monotonic() > deadline:
                print("ventilator: workers did not stop in time", file=sys.stderr)
                return 1
            try:
                vent.send_multipart([b"stop"], zmq.NOBLOCK)
            except zmq.Again:
                pass
            multiprocessing.connection.wait([p.sentinel for p in procs if p.is_alive()], 0.05)
        print("ventilator: done", file=sys.stderr, flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    except zmq.ZMQError as exc:
        print(f"ventilator: error: {exc}", file=sys.stderr)
        return 1
    finally:
        for proc in procs:
            proc.join(timeout=1.0)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5.0)
        ctx.destroy(linger=5000)  # the batch announcement may still be on its way
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

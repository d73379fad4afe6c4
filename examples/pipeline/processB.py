"""The sink of the pipeline: start this first, then processA.py.

    python examples/pipeline/processB.py                 # binds tcp://127.0.0.1:5558
    python examples/pipeline/processA.py                 # in a second terminal

PULL binds; workers PUSH ``[b"result", [row_index, squared_row]]`` (JSON) and the ventilator
announces the batch with ``[b"batch", {"rows": n}]``.  Messages arrive in any order; once all ``n``
rows are in, they are put back in order, flattened and printed: [1, 4, 9, 16, 25, 36, 49, 64, 81].
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import purezmq as zmq

DEFAULT_SINK = "tcp://127.0.0.1:5558"


def main() -> int:
    parser = argparse.ArgumentParser(description="Pipeline sink: collect the squared rows.")
    parser.add_argument("--sink", default=DEFAULT_SINK, help="endpoint to bind (%(default)s)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds (%(default)s)")
    args = parser.parse_args()

    ctx = zmq.Context()
    try:
        sink = ctx.socket(zmq.PULL)
        sink.bind(args.sink)
        print(f"sink: waiting for results on {args.sink}", file=sys.stderr, flush=True)
        poller = zmq.Poller()
        poller.register(sink, zmq.POLLIN)
        deadline = time.monotonic() + args.timeout
        expected: int | None = None
        rows: dict[int, list[int]] = {}
        while expected is None or len(rows) < expected:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(int(remaining * 1000)):
                print(f"sink: timed out after {args.timeout} s", file=sys.stderr)
                return 1
            kind, payload = sink.recv_multipart()
            if kind == b"batch":
                expected = json.loads(payload)["rows"]
            elif kind == b"result":
                index, squared = json.loads(payload)
                rows[index] = squared
                print(f"sink: row {index} -> {squared}", file=sys.stderr, flush=True)
        print([x for index in sorted(rows) for x in rows[index]], flush=True)
        return 0
    except KeyboardInterrupt:
        return 130
    except zmq.ZMQError as exc:
        print(f"sink: error: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.destroy(linger=0)


if __name__ == "__main__":
    sys.exit(main())

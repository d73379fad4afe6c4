"""One-way messaging with PUSH/PULL: type lines in one terminal, see them in another.

    python examples/simple.py host ipc:///tmp/simple.sock      # terminal 1: binds a PULL
    python examples/simple.py client ipc:///tmp/simple.sock    # terminal 2: connects a PUSH

or over TCP: ``host tcp://*:1234`` and ``client tcp://localhost:1234``.  The host prints every
message it receives as one line; the client sends each line typed on stdin.  Either side may start
first.  Ctrl-D (end of input) ends the client, Ctrl-C ends either.
"""

from __future__ import annotations

import argparse
import sys

import purezmq as zmq


def host(ctx: zmq.Context, endpoint: str) -> None:
    pull = ctx.socket(zmq.PULL)
    pull.bind(endpoint)
    print(f"host: listening on {endpoint}", file=sys.stderr, flush=True)
    while True:
        message = pull.recv()
        sys.stdout.write(message.decode("utf-8", "replace") + "\n")
        sys.stdout.flush()


def client(ctx: zmq.Context, endpoint: str) -> None:
    push = ctx.socket(zmq.PUSH)
    push.connect(endpoint)
    print(f"client: sending to {endpoint}; type lines, Ctrl-D to finish", file=sys.stderr)
    for line in sys.stdin:
        push.send(line.rstrip("\r\n").encode())


def main() -> int:
    parser = argparse.ArgumentParser(description="PUSH/PULL one-way messages.")
    parser.add_argument("role", choices=("host", "client"))
    parser.add_argument("endpoint", help="e.g. ipc:///tmp/x, tcp://*:1234, tcp://localhost:1234")
    args = parser.parse_args()
    ctx = zmq.Context()
    try:
        (host if args.role == "host" else client)(ctx, args.endpoint)
    except KeyboardInterrupt:
        return 130
    except zmq.ZMQError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.destroy(linger=2000)  # close the sockets: unsent lines get at most 2 s
    return 0


if __name__ == "__main__":
    sys.exit(main())

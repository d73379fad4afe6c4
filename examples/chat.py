"""Two-terminal chat over one PAIR socket, single-threaded.

    python examples/chat.py bind tcp://*:5555 --name alice            # terminal 1
    python examples/chat.py connect tcp://localhost:5555 --name bob   # terminal 2

Each side sends the lines typed on stdin and prints the other side's lines as ``bob: hello``.
One ``Poller`` watches both the socket and stdin (raw file descriptor 0), so there is no thread.
Ctrl-D (end of input) or Ctrl-C quits.  (Polling stdin needs a POSIX system.)
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

import purezmq as zmq

STDIN = 0


def chat(sock: zmq.Socket, name: str) -> None:
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    poller.register(STDIN, zmq.POLLIN)
    pending = b""
    while True:
        events = dict(poller.poll())
        if events.get(sock):
            sender, text = sock.recv_multipart()
            print(f"{sender.decode('utf-8', 'replace')}: {text.decode('utf-8', 'replace')}")
            sys.stdout.flush()
        if events.get(STDIN):
            data = os.read(STDIN, 4096)  # not sys.stdin: its buffer would hide lines from poll
            lines = (pending + data).split(b"\n")
            pending = lines.pop() if data else b""  # at end of input, send the unfinished line
            for line in lines:
                if line.strip():
                    send(sock, name, line.rstrip(b"\r"))
            if not data:
                return


def send(sock: zmq.Socket, name: str, line: bytes) -> None:
    try:
        sock.send_multipart([name.encode(), line], zmq.NOBLOCK)
    except zmq.Again:
        print("(not sent: nobody is connected yet)", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Push-to-talk chat over a PAIR socket.")
    parser.add_argument("mode", choices=("bind", "connect"))
    parser.add_argument("endpoint", help="e.g. tcp://*:5555 to bind, tcp://localhost:5555")
    parser.add_argument("--name", help="how the other side sees you (default: your user name)")
    args = parser.parse_args()
    try:
        name = args.name or getpass.getuser()
    except Exception:
        name = args.mode
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.PAIR)
        (sock.bind if args.mode == "bind" else sock.connect)(args.endpoint)
        print(f"[{name}] {args.mode} {args.endpoint}; Ctrl-D to quit", file=sys.stderr, flush=True)
        chat(sock, name)
    except KeyboardInterrupt:
        return 130
    except zmq.ZMQError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.destroy(linger=1000)  # give the last lines at most 1 s to leave
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A pyzmq (libzmq) peer run as a subprocess by test_reconnect.py, so it can be SIGKILLed.

Usage: python echo_peer.py MODE ENDPOINT [ROUTING_ID]

  router-echo-bind      ROUTER bound on ENDPOINT, sends every message back to its sender.
  rep-echo-bind         REP bound on ENDPOINT, replies with the request.
  dealer-echo-connect   DEALER (routing id ROUTING_ID) connected to ENDPOINT; sends b"hello" every
                        100 ms until it receives something, then echoes every message it receives.

Prints "READY" on stdout once bound/connected. Exits when stdin is closed (so a dying test run never
leaves it behind).
"""

from __future__ import annotations

import os
import sys
import threading

import zmq


def _exit_when_stdin_closes() -> None:
    try:
        while sys.stdin.buffer.read(1):
            pass
    finally:
        os._exit(0)


def main() -> None:
    mode, endpoint = sys.argv[1], sys.argv[2]
    threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    ctx = zmq.Context()
    if mode == "router-echo-bind":
        sock = ctx.socket(zmq.ROUTER)
        sock.linger = 0
        sock.bind(endpoint)
        print("READY", flush=True)
        while True:
            sock.send_multipart(sock.recv_multipart())
    elif mode == "rep-echo-bind":
        sock = ctx.socket(zmq.REP)
        sock.linger = 0
        sock.bind(endpoint)
        print("READY", flush=True)
        while True:
            sock.send_multipart(sock.recv_multipart())
    elif mode == "dealer-echo-connect":
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.routing_id = sys.argv[3].encode()
        sock.reconnect_ivl = 50
        sock.connect(endpoint)
        print("READY", flush=True)
        while not sock.poll(100):
            sock.send(b"hello")
        while True:
            sock.send_multipart(sock.recv_multipart())
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()

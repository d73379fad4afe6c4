"""``purezmq proxy``: forward messages between a frontend and a backend socket."""

from __future__ import annotations

import argparse

import purezmq as zmq
from purezmq.cli.argtypes import non_negative_int, positive_int
from purezmq.cli.common import (
    _COMMON_EPILOG,
    _FORMATTER,
    Interrupted,
    Progress,
    Signals,
    _fail_timeout,
    _seconds,
    _wrap,
    attach,
    close_all,
    linger_ms,
    make_progress,
    timeout_ms,
)

# -- proxy --------------------------------------------------------------------------------------

PATTERNS = {
    "queue": (zmq.ROUTER, zmq.DEALER),
    "forwarder": (zmq.XSUB, zmq.XPUB),
    "streamer": (zmq.PULL, zmq.PUSH),
}


def add_proxy(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "proxy",
        help="forward messages between a frontend and a backend socket",
        description=_wrap(
            "Forward messages between two sockets, like zmq_proxy. queue (default): ROUTER "
            "frontend for REQ/DEALER clients, DEALER backend for REP/DEALER workers. forwarder: "
            "XSUB frontend for publishers, XPUB backend for subscribers. streamer: PULL frontend "
            "for PUSH senders, PUSH backend for PULL workers. Both endpoints are bound unless "
            "--connect-frontend/--connect-backend. Runs until Ctrl-C or SIGTERM (exit 0), or "
            "--count messages."
        ),
        epilog="""examples:
  purezmq proxy 'tcp://*:5559' 'tcp://*:5560'                      # REQ -> 5559, REP -> 5560
  purezmq proxy 'tcp://*:5557' 'tcp://*:5558' --pattern streamer
  purezmq proxy 'tcp://*:6000' 'tcp://*:6001' --pattern forwarder --capture 'tcp://*:6002'
"""
        + _COMMON_EPILOG,
        formatter_class=_FORMATTER,
    )
    p.add_argument("frontend", metavar="FRONTEND", help="the clients' side (bound)")
    p.add_argument("backend", metavar="BACKEND", help="the workers' side (bound)")
    p.add_argument("--pattern", choices=tuple(PATTERNS), default="queue")
    p.add_argument("--connect-frontend", action="store_true", help="connect the frontend")
    p.add_argument("--connect-backend", action="store_true", help="connect the backend")
    p.add_argument(
        "--capture",
        metavar="ENDPOINT",
        help="also publish every forwarded message on a PUB socket bound to ENDPOINT",
    )
    p.add_argument("--count", type=positive_int, metavar="N", help="exit after N messages")
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="fail (exit 1) when no message is forwarded for SECONDS",
    )
    p.add_argument("--hwm", type=non_negative_int, metavar="N", help="SNDHWM and RCVHWM")
    p.add_argument(
        "--linger",
        type=int,
        metavar="MS",
        help="at exit, wait this long for queued messages (default: --timeout if given, else 1000)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress line on stderr (default: when stderr is a terminal)",
    )
    p.set_defaults(handler=run_proxy)


def run_proxy(args: argparse.Namespace) -> int:
    front_type, back_type = PATTERNS[args.pattern]
    ctx = zmq.Context()
    progress = make_progress(args, "forwarded", reads=False, prints=False)
    closing = False
    sigs = Signals()
    try:
        front = ctx.socket(front_type)
        back = ctx.socket(back_type)
        capture = ctx.socket(zmq.PUB) if args.capture else None
        for sock in (front, back, capture):
            if sock is not None:
                sock.setsockopt(zmq.LINGER, 0)
                if args.hwm is not None:
                    sock.setsockopt(zmq.SNDHWM, args.hwm)
                    sock.setsockopt(zmq.RCVHWM, args.hwm)
        attach(front, args.frontend, not args.connect_frontend)
        attach(back, args.backend, not args.connect_backend)
        if capture is not None:
            attach(capture, args.capture, True)
        directions = [(front, back)]
        if args.pattern != "streamer":
            directions.append((back, front))
        with sigs:
            try:
                _proxy_loop(args, sigs, directions, capture, progress)
            except Interrupted:
                sigs.received = None  # a clean stop: flush within the linger, exit 0
            progress.close()
            closing = True
            sockets = [s for s in (front, back, capture) if s is not None]
            close_all(ctx, sockets, linger_ms(args, 1000), sigs)
        return 0
    except Interrupted:
        return 0  # a second signal while flushing: stop at once
    finally:
        progress.close()
        if not ctx.closed and not closing:
            ctx.destroy(linger=0)


def _writable(sock: zmq.Socket) -> bool:
    return bool(sock.getsockopt(zmq.EVENTS) & zmq.POLLOUT)


def _proxy_loop(
    args: argparse.Namespace,
    sigs: Signals,
    directions: list[tuple[zmq.Socket, zmq.Socket]],
    capture: zmq.Socket | None,
    progress: Progress,
) -> None:
    sockets = {id(s): s for pair in directions for s in pair}
    while args.count is None or progress.count < args.count:
        # Read a side only while the other can take a message: back-pressure, as zmq_proxy.
        masks = dict.fromkeys(sockets, 0)
        for src, dst in directions:
            if _writable(dst):
                masks[id(src)] |= zmq.POLLIN
            else:
                masks[id(dst)] |= zmq.POLLOUT
        if not sigs.poll([(sockets[key], mask) for key, mask in masks.items()], timeout_ms(args)):
            raise _fail_timeout(args, "no message was forwarded")
        for src, dst in directions:
            for _ in range(1000):
                if not _writable(dst):
                    break
                try:
                    frames = src.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                dst.send_multipart(frames)
                if capture is not None:
                    capture.send_multipart(frames, zmq.NOBLOCK)
                progress.add(frames)
                if args.count is not None and progress.count >= args.count:
                    return

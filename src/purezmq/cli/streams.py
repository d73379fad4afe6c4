"""The socket commands: ``purezmq push|pull|pub|sub|req|rep|dealer|router|pair``.

Each turns stdin lines into messages and received messages into stdout lines, using only the
pyzmq-compatible public API (``Context``, sockets, ``Poller``, options). ``COMMANDS`` lists one
``add_<kind>(subparsers)`` per socket type; each runs ``run_socket``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import purezmq as zmq
from purezmq.cli import draft
from purezmq.cli.argtypes import non_negative_int, positive_int
from purezmq.cli.common import (
    _CHUNK,
    _COMMON_EPILOG,
    _FORMATTER,
    FORMATS,
    SOCKET_TYPES,
    Codec,
    CommandError,
    InputParser,
    Interrupted,
    Output,
    Signals,
    UsageError,
    _BrokenPipe,
    _fail_timeout,
    _seconds,
    _warn,
    _wrap,
    attach,
    close_all,
    escape_frame,
    linger_ms,
    make_progress,
    read_messages,
    run_exec,
    timeout_ms,
)
from purezmq.cli.draft import DRAFT_TYPES

# -- the socket subcommands ---------------------------------------------------------------------

_SEND_ONLY = ("push", "pub", "scatter", "radio")
_RECV_ONLY = ("pull", "sub", "gather", "dish")
_BIDIRECTIONAL = ("dealer", "router", "pair", "client", "server", "peer", "channel")
#: The commands whose messages start with a peer's routing id.
_ROUTED = ("router", "server", "peer")


def run_socket(args: argparse.Namespace) -> int:
    kind = args.command
    if kind in _ROUTED and args.format in ("lines", "raw"):
        raise UsageError(
            f"a {kind} needs --format multipart or json: each message it sends starts with the "
            "peer's routing id"
        )
    codec = Codec(args.format, frames_as_list=(kind in _ROUTED))
    ctx = zmq.Context()
    closing = False
    sigs = Signals()
    try:
        if kind in DRAFT_TYPES:
            sock = draft.make_socket(ctx, kind, args)
        else:
            sock_type = zmq.XPUB if kind == "pub" and args.wait_subscribers else SOCKET_TYPES[kind]
            sock = ctx.socket(sock_type)
        if args.hwm is not None:
            sock.setsockopt(zmq.SNDHWM, args.hwm)
            sock.setsockopt(zmq.RCVHWM, args.hwm)
        sock.setsockopt(zmq.LINGER, 0)
        if getattr(args, "identity", None):
            sock.setsockopt(zmq.ROUTING_ID, args.identity.encode())
        if kind == "router":
            sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        if kind == "sub":
            for topic in args.subscribe or [""]:
                sock.setsockopt(zmq.SUBSCRIBE, topic.encode("utf-8", "surrogateescape"))
        if kind == "peer" and not args.bind:
            draft.connect_peers(sock, args.endpoints)
        else:
            for endpoint in args.endpoints:
                attach(sock, endpoint, args.bind)

        with sigs:
            _RUNNERS[kind](args, sock, codec, sigs)
            # All sent: wait for its delivery (LINGER), bounded by --linger or --timeout.
            linger = 0 if kind in _RECV_ONLY or kind == "req" else linger_ms(args)
            closing = True
            close_all(ctx, [sock], linger, sigs)
        return 0
    except _BrokenPipe:
        _silence_stdout()
        return 141  # like a tool killed by SIGPIPE, but without the traceback
    except Interrupted as exc:
        return 128 + exc.signum  # Ctrl-C: 130, SIGTERM: 143; quietly
    finally:
        if not ctx.closed and not closing:
            ctx.destroy(linger=0)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _send(args: argparse.Namespace, sigs: Signals, sock: zmq.Socket, frames: list[bytes]) -> None:
    while True:
        try:
            sock.send_multipart(frames, zmq.NOBLOCK)
            return
        except zmq.Again:
            pass
        if not sigs.poll([(sock, zmq.POLLOUT)], timeout_ms(args)):
            raise _fail_timeout(args, "no peer took a message")


def _recv(args: argparse.Namespace, sigs: Signals, sock: zmq.Socket, what: str) -> list[bytes]:
    while True:
        try:
            return sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            pass
        if not sigs.poll([(sock, zmq.POLLIN)], timeout_ms(args)):
            raise _fail_timeout(args, what)


_SUBSCRIPTION_GRACE_MS = 100


def _wait_subscriber(args: argparse.Namespace, sigs: Signals, sock: zmq.Socket) -> None:
    """XPUB: wait until the first subscription arrives (the slow-joiner problem)."""
    deadline = time.monotonic() + args.wait_subscribers
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not sigs.poll([(sock, zmq.POLLIN)], max(1, int(remaining * 1000))):
            raise CommandError(
                f"timed out: no subscriber within {args.wait_subscribers:g} s (--wait-subscribers)"
            )
        first = sock.recv_multipart()[0]
        if first[:1] == b"\x01":
            break
    # A subscriber sends all its topics at once: take the rest of them before publishing.
    grace_end = time.monotonic() + 1.0
    while time.monotonic() < grace_end and sigs.poll([(sock, zmq.POLLIN)], _SUBSCRIPTION_GRACE_MS):
        sock.recv_multipart()


def _run_send(args: argparse.Namespace, sock: zmq.Socket, codec: Codec, sigs: Signals) -> None:
    if args.command == "pub" and args.wait_subscribers:
        _wait_subscriber(args, sigs, sock)
    progress = make_progress(args, "sent", reads=True, prints=False)
    try:
        for frames in read_messages(codec, sigs):
            _send(args, sigs, sock, frames)
            progress.add(frames)
            if args.count is not None and progress.count >= args.count:
                break
    finally:
        progress.close()


def _run_recv(args: argparse.Namespace, sock: zmq.Socket, codec: Codec, sigs: Signals) -> None:
    out = Output()
    progress = make_progress(args, "received", reads=False, prints=True)
    try:
        while args.count is None or progress.count < args.count:
            frames = _recv(args, sigs, sock, "no message arrived")
            if args.exec:
                output = run_exec(args.exec, codec.render(frames), args.timeout, sigs)
                if output:
                    out.write(output)
            else:
                out.write(codec.render(frames))
            progress.add(frames)
    finally:
        progress.close()


def _run_req(args: argparse.Namespace, sock: zmq.Socket, codec: Codec, sigs: Signals) -> None:
    out = Output()
    progress = make_progress(args, "replies", reads=True, prints=True)
    try:
        for frames in read_messages(codec, sigs):
            _send(args, sigs, sock, frames)
            reply = _recv(args, sigs, sock, "no reply arrived")
            out.write(codec.render(reply))
            progress.add(reply)
            if args.count is not None and progress.count >= args.count:
                break
    finally:
        progress.close()


def _run_rep(args: argparse.Namespace, sock: zmq.Socket, codec: Codec, sigs: Signals) -> None:
    out = Output()
    progress = make_progress(args, "requests", reads=False, prints=True)
    try:
        while args.count is None or progress.count < args.count:
            request = _recv(args, sigs, sock, "no request arrived")
            text = codec.render(request)
            out.write(text)
            reply = request
            if args.exec:
                output = run_exec(args.exec, text, args.timeout, sigs)
                reply = codec.parse_output(output or b"")
            _send(args, sigs, sock, reply)
            progress.add(request)
    finally:
        progress.close()


def _run_bidirectional(
    args: argparse.Namespace, sock: zmq.Socket, codec: Codec, sigs: Signals
) -> None:
    """dealer, router, pair: send stdin lines and print received messages, concurrently."""
    out = Output()
    progress = make_progress(args, "received", reads=not args.no_input, prints=True)
    parser = InputParser(codec)
    pending: deque[list[bytes]] = deque()
    stdin_open = not args.no_input
    stdin_fd = 0
    # --count: stop receiving at N (the rest stays queued), but keep sending until stdin ends.
    try:
        while True:
            if not stdin_open and not pending:
                # stdin has ended and all of it was sent: done, once --count messages arrived
                if args.count is not None and progress.count >= args.count:
                    return
                if args.count is None and not args.no_input:
                    return
            wanted = args.count is None or progress.count < args.count
            items: list[tuple[Any, int]] = [
                (sock, (zmq.POLLIN if wanted else 0) | (zmq.POLLOUT if pending else 0))
            ]
            if stdin_open and len(pending) < 1000:
                items.append((stdin_fd, zmq.POLLIN))
            ready = sigs.poll(items, timeout_ms(args))
            if not ready:
                raise _fail_timeout(args, "nothing was sent or received")
            if ready.get(stdin_fd, 0) & (zmq.POLLIN | zmq.POLLERR):
                data = os.read(stdin_fd, _CHUNK)
                if data:
                    pending.extend(parser.feed(data))
                else:
                    pending.extend(parser.finish())
                    stdin_open = False
            events = ready.get(sock, 0)
            if events & zmq.POLLIN:
                for _ in range(1000):
                    try:
                        frames = sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    out.write(codec.render(frames))
                    progress.add(frames)
                    if args.count is not None and progress.count >= args.count:
                        break
            if events & zmq.POLLOUT:
                _send_pending(sock, pending)
    finally:
        progress.close()


def _send_pending(sock: zmq.Socket, pending: deque[list[bytes]]) -> None:
    while pending:
        try:
            sock.send_multipart(pending[0], zmq.NOBLOCK)
        except zmq.Again:
            return
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EHOSTUNREACH:
                raise
            routing_id = escape_frame(pending[0][0]).decode("utf-8", "replace")
            _warn(f"no peer with routing id {routing_id!r}: message dropped")
        pending.popleft()


_RUNNERS: dict[str, Callable[[argparse.Namespace, zmq.Socket, Codec, Signals], None]] = {
    "push": _run_send,
    "pub": _run_send,
    "pull": _run_recv,
    "sub": _run_recv,
    "req": _run_req,
    "rep": _run_rep,
    "dealer": _run_bidirectional,
    "router": _run_bidirectional,
    "pair": _run_bidirectional,
    "scatter": _run_send,
    "radio": _run_send,
    "gather": _run_recv,
    "dish": _run_recv,
    "client": _run_bidirectional,
    "server": _run_bidirectional,
    "peer": _run_bidirectional,
    "channel": _run_bidirectional,
}

# -- parsers ------------------------------------------------------------------------------------

_FORMAT_HELP = (
    "lines (default): one message per line (a multi-frame message is printed as with "
    "multipart). raw: stdin is read in chunks, each chunk a message; "
    "received frames are written as they are, with no newline. json: each input line must be "
    "valid JSON and is sent as it is; a received message is printed as it is when it is valid "
    "JSON, else as a JSON string, and a multi-frame message as a JSON list of strings. "
    "multipart: frames are separated by tabs, with \\t \\n \\r \\\\ and \\xNN escapes inside a "
    "frame. A router uses multipart by default (the first frame is the peer's routing id)."
)

_DESCRIPTIONS = {
    "push": "Send each line of stdin as a message on a PUSH socket. PUSH deals messages out "
    "round-robin to the connected PULL peers and blocks while there is none, so no message is "
    "lost; at the end of stdin it waits until everything has been delivered.",
    "pull": "Print each message a PULL socket receives, one per line (flushed per line). With "
    "--exec, run a command per message instead (a worker) and print its output.",
    "pub": "Publish each line of stdin on a PUB socket. Subscribers that are not connected yet "
    "miss the messages: a SUB needs a moment after connecting before its subscription reaches "
    "the publisher (the 'slow joiner'). --wait-subscribers waits for the first subscription "
    "before publishing.",
    "sub": "Print each message a SUB socket receives. Without --subscribe it subscribes to "
    "everything; a topic is a prefix of the message (of its first frame).",
    "req": "Send each line of stdin as a request and print each reply. --timeout makes a "
    "request without a reply an error.",
    "rep": "Answer requests on a REP socket: print each request and reply with it (echo), or "
    "with the output of --exec COMMAND run with the request on its stdin.",
    "dealer": "Send stdin lines and print received messages, both at once, on a DEALER "
    "socket. To talk to a REP, start each message with an empty frame: --format multipart and a "
    "leading tab.",
    "router": "Send stdin lines and print received messages, both at once, on a ROUTER socket. "
    "Each received message starts with the sender's routing id; a message to send starts with "
    "the routing id of its peer.",
    "pair": "Send stdin lines and print received messages, both at once, on a PAIR socket. "
    "Use it for a chat between two terminals.",
    **draft.DESCRIPTIONS,
}

_EXAMPLES = {
    "push": """\
  seq 100000 | purezmq push tcp://localhost:5555
  purezmq push --bind ipc:///tmp/jobs.sock < jobs.txt""",
    "pull": """\
  purezmq pull --bind 'tcp://*:5555' | wc -l
  purezmq pull --count 1000 --timeout 10 tcp://localhost:5555 > out.txt
  purezmq pull tcp://localhost:5555 --exec 'wc -c'         # a worker""",
    "pub": """\
  tail -f app.log | purezmq pub --bind 'tcp://*:5556'
  echo 'weather sunny' | purezmq pub --wait-subscribers 5 tcp://localhost:5556""",
    "sub": """\
  purezmq sub tcp://localhost:5556 --subscribe weather --subscribe news
  purezmq sub --bind 'tcp://*:5556' --count 1""",
    "req": """\
  echo hello | purezmq req --timeout 5 tcp://localhost:5555
  purezmq req --format json tcp://localhost:5555 < requests.jsonl""",
    "rep": """\
  purezmq rep --bind 'tcp://*:5555'                        # echo server
  purezmq rep --bind 'tcp://*:5555' --exec 'tr a-z A-Z'""",
    "dealer": """\
  purezmq dealer --identity worker-1 tcp://localhost:5555
  printf '\\thello\\n' | purezmq dealer --format multipart --count 1 tcp://localhost:5555""",
    "router": """\
  purezmq router --bind 'tcp://*:5555'          # prints: routing-id<TAB>message
  purezmq router --bind 'tcp://*:5555' --format json""",
    "pair": """\
  purezmq pair --bind 'tcp://*:5555'           # terminal 1
  purezmq pair tcp://localhost:5555            # terminal 2""",
    **draft.EXAMPLES,
}


def _summary(description: str) -> str:
    first = description.split(". ")[0].split(" (")[0].split(": ")[0].rstrip(".")
    return first[:1].lower() + first[1:]


def _add_socket_command(subparsers: argparse._SubParsersAction, kind: str) -> None:
    p = subparsers.add_parser(
        kind,
        help=_summary(_DESCRIPTIONS[kind]),
        description=_wrap(_DESCRIPTIONS[kind]),
        epilog="examples:\n" + _EXAMPLES[kind] + "\n" + _COMMON_EPILOG,
        formatter_class=_FORMATTER,
    )
    p.add_argument("endpoints", nargs="+", metavar="ENDPOINT", help="where to connect or bind")
    p.add_argument("--bind", action="store_true", help="bind the endpoints instead of connecting")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="multipart" if kind in _ROUTED else "lines",
        help=_FORMAT_HELP,
    )
    counted = {
        "push": "sent",
        "pub": "sent",
        "scatter": "sent",
        "radio": "sent",
        "req": "replies received",
        "rep": "requests answered",
    }.get(kind, "received")
    p.add_argument(
        "--count", type=positive_int, metavar="N", help=f"exit after N messages {counted}"
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="fail (exit 1) when nothing is sent or received for SECONDS"
        + ("; also bounds each --exec run" if kind in ("rep", "pull", "gather") else "")
        + "; bounds the final delivery wait",
    )
    p.add_argument("--hwm", type=non_negative_int, metavar="N", help="SNDHWM and RCVHWM")
    p.add_argument(
        "--linger",
        type=int,
        metavar="MS",
        help="how long to wait for the delivery of sent messages at exit "
        "(default: --timeout if given, else until delivered; -1: forever)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress line with the rate on stderr (default: only when stderr is a "
        "terminal and the command reads and writes files, e.g. '< in.txt', '> out.txt', "
        "not pipes)",
    )
    if kind == "sub":
        p.add_argument(
            "--subscribe",
            action="append",
            metavar="TOPIC",
            help="subscribe to messages starting with TOPIC (repeatable; default: everything)",
        )
    if kind == "pub":
        p.add_argument(
            "--wait-subscribers",
            type=_seconds,
            metavar="SECONDS",
            help="before publishing, wait up to SECONDS for a first subscriber (fail if none)",
        )
    if kind == "radio":
        p.add_argument("--group", default="", help="the group messages go to (default: '')")
    if kind == "dish":
        p.add_argument(
            "--join",
            action="append",
            metavar="GROUP",
            help="receive the messages of GROUP (repeatable; default: the empty group)",
        )
    if kind in ("pull", "rep", "gather"):
        p.add_argument(
            "--exec",
            metavar="COMMAND",
            help="run COMMAND (with the shell) per message, the message on its stdin"
            + (": its stdout is the reply" if kind == "rep" else ", and print its stdout"),
        )
    if kind in ("dealer", "req"):
        p.add_argument("--identity", metavar="ID", help="the socket's routing id")
    if kind in _BIDIRECTIONAL:
        p.add_argument(
            "--no-input",
            action="store_true",
            help="do not read stdin: only print received messages",
        )
    p.set_defaults(handler=run_socket, wait_subscribers=None, exec=None, no_input=False)


def _adder(kind: str) -> Callable[[argparse._SubParsersAction], None]:
    def add(subparsers: argparse._SubParsersAction) -> None:
        _add_socket_command(subparsers, kind)

    add.__name__ = f"add_{kind}"
    return add


COMMANDS = tuple(_adder(kind) for kind in (*SOCKET_TYPES, *DRAFT_TYPES))

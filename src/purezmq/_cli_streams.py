"""The text-stream subcommands of the ``purezmq`` command line (package-private).

``purezmq push|pull|pub|sub|req|rep|dealer|router|pair`` turn stdin lines into messages and
received messages into stdout lines; ``purezmq proxy`` forwards between two sockets. Only the
pyzmq-compatible public API is used (``Context``, sockets, ``Poller``, options).

Each subcommand is registered by an ``add_<name>(subparsers)`` function listed in ``COMMANDS`` and
runs a handler ``(args) -> int``. A user mistake raises ``UsageError`` (exit 2), a failure
``CommandError`` (exit 1); ``purezmq.cli.main`` prints either as one line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import purezmq as zmq
from purezmq._argtypes import non_negative_int, positive_int


class UsageError(Exception):
    """A mistake in how the command was invoked: one line on stderr, exit status 2."""


class CommandError(Exception):
    """The command ran but failed: one line on stderr, exit status 1."""


class _BrokenPipe(Exception):
    """stdout was closed by its reader (``purezmq pull ... | head``)."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; raised where the command waits, never inside purezmq."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Signals:
    """SIGINT and SIGTERM set a flag; every wait of a command also watches a wakeup pipe.

    Python runs signal handlers in the main thread only, and a signal the kernel hands to
    purezmq's I/O thread would not interrupt a main thread asleep in a socket wait: with
    ``signal.set_wakeup_fd`` the pipe gets a byte whichever thread takes the signal. Raising
    from the handler instead could also leave purezmq's state half-updated.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self._saved: dict[int, Any] = {}
        self._saved_fd = -1
        self._installed = False
        self._r = self._w = -1

    def __enter__(self) -> Signals:
        self._r, self._w = os.pipe()
        for fd in (self._r, self._w):
            os.set_blocking(fd, False)
        if threading.current_thread() is threading.main_thread():
            self._saved_fd = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
            for signum in self._SIGNALS:
                self._saved[signum] = signal.signal(signum, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            for signum, handler in self._saved.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(self._saved_fd)
        os.close(self._r)
        os.close(self._w)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is None:
            self.received = signum

    def check(self) -> None:
        if self.received is not None:
            raise Interrupted(self.received)

    def poll(self, items: list[tuple[Any, int]], timeout: int = -1) -> dict[Any, int]:
        """Wait for ``(socket or fd, mask)`` items: ``{item: events}``, ``{}`` on timeout (ms)."""
        deadline = None if timeout < 0 else time.monotonic() + timeout / 1000
        poller = zmq.Poller()
        for item, mask in items:
            if mask:
                poller.register(item, mask)
        poller.register(self._r, zmq.POLLIN)
        while True:
            self.check()
            wait = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            ready = dict(poller.poll(wait))
            if ready.pop(self._r, 0):
                try:
                    while os.read(self._r, 512):
                        pass
                except OSError:
                    pass
                self.check()
                if not ready and (deadline is None or time.monotonic() < deadline):
                    continue
            return ready


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


# -- message formats ----------------------------------------------------------------------------

FORMATS = ("lines", "raw", "json", "multipart")
_CHUNK = 65536
_TO_ESCAPE = re.compile(r"[\\\t\n\r\x00-\x1f\x7f\udc80-\udcff]")
_ESCAPED = re.compile(rb"\\(\\|t|n|r|x[0-9a-fA-F]{2})")
_NAMED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNNAMED = {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r"}


def escape_frame(frame: bytes) -> bytes:
    r"""A frame as text without tabs or newlines: ``\\ \t \n \r`` and ``\xNN`` for other bytes."""
    text = frame.decode("utf-8", "surrogateescape")
    if not _TO_ESCAPE.search(text):
        return frame

    def one(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in _NAMED:
            return _NAMED[ch]
        code = ord(ch)
        return f"\\x{code - 0xDC00 if code >= 0xDC80 else code:02x}"

    return _TO_ESCAPE.sub(one, text).encode("utf-8", "surrogateescape")


def unescape_frame(text: bytes) -> bytes:
    """The inverse of ``escape_frame``; a backslash before anything else is kept as it is."""
    if b"\\" not in text:
        return text

    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        return _UNNAMED.get(code) or bytes([int(code[1:], 16)])

    return _ESCAPED.sub(one, text)


def _as_text(frame: bytes) -> str:
    return frame.decode("utf-8", "surrogateescape")


class Codec:
    """Turns stdin text into messages (lists of frames) and messages into stdout text.

    ``lines``: a line is a one-frame message; a received multi-frame message is printed like
    ``multipart``. ``raw``: each chunk read from stdin is a message; frames are written as they
    are. ``multipart``: frames are separated by tabs, each escaped by ``escape_frame``. ``json``:
    each input line must be valid JSON and is sent as it is (for ROUTER: a JSON list of strings,
    one per frame); a received one-frame message is printed as it is when it is valid JSON, else
    as a JSON string, and a multi-frame message as a JSON list of strings.
    """

    def __init__(self, fmt: str, frames_as_list: bool = False) -> None:
        self.format = fmt
        self.frames_as_list = frames_as_list  # json input must be a list of frames (ROUTER)

    def parse(self, line: bytes, lineno: int) -> list[bytes]:
        if self.format in ("lines", "raw"):
            return [line]
        if self.format == "multipart":
            return [unescape_frame(part) for part in line.split(b"\t")]
        try:
            value = json.loads(line)
        except ValueError as exc:
            reason = getattr(exc, "msg", str(exc))
            raise CommandError(f"stdin line {lineno} is not valid JSON: {reason}") from None
        if not self.frames_as_list:
            return [line]
        if not (isinstance(value, list) and value and all(isinstance(f, str) for f in value)):
            raise CommandError(
                f"stdin line {lineno}: a ROUTER needs a JSON list of strings "
                '(["routing id", ..., "body"])'
            )
        return [f.encode("utf-8", "surrogateescape") for f in value]

    def render(self, frames: list[bytes]) -> bytes:
        fmt = self.format
        if fmt == "raw":
            return b"".join(frames)
        if fmt == "json":
            if len(frames) == 1:
                return self._json_frame(frames[0]) + b"\n"
            return json.dumps([_as_text(f) for f in frames]).encode() + b"\n"
        if fmt == "lines" and len(frames) == 1:
            return frames[0] + b"\n"
        return b"\t".join(escape_frame(f) for f in frames) + b"\n"

    @staticmethod
    def _json_frame(frame: bytes) -> bytes:
        try:
            value = json.loads(frame)
        except ValueError:
            return json.dumps(_as_text(frame)).encode()
        if b"\n" in frame or b"\r" in frame:
            return json.dumps(value).encode()  # keep one message per line
        return frame

    def parse_output(self, output: bytes) -> list[bytes]:
        """A reply from the text an --exec command printed."""
        if self.format == "raw":
            return [output]
        if output.endswith(b"\n"):
            output = output[:-1]
        if self.format == "multipart":
            return self.parse(output, 1)
        return [output]


class InputParser:
    """Splits stdin data, fed in chunks of any size, into messages."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.rest = b""
        self.lineno = 0

    def feed(self, data: bytes) -> list[list[bytes]]:
        if self.codec.format == "raw":
            return [[data]] if data else []
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        return [self._parse(line) for line in lines]

    def finish(self) -> list[list[bytes]]:
        rest, self.rest = self.rest, b""
        return [self._parse(rest)] if rest else []

    def _parse(self, line: bytes) -> list[bytes]:
        self.lineno += 1
        return self.codec.parse(line, self.lineno)


def read_messages(codec: Codec, sigs: Signals, fd: int = 0) -> Iterator[list[bytes]]:
    """Messages from ``fd`` as soon as their line is complete."""
    parser = InputParser(codec)
    while True:
        sigs.poll([(fd, zmq.POLLIN)])
        data = os.read(fd, _CHUNK)
        if not data:
            yield from parser.finish()
            return
        yield from parser.feed(data)


# -- output, progress, --exec -------------------------------------------------------------------


class Output:
    """Writes to stdout, flushed per message."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
            self.stream.flush()
        except BrokenPipeError:
            raise _BrokenPipe() from None


class Progress:
    """A progress line with the rate on stderr, for transfers running longer than a second."""

    def __init__(self, enabled: bool, verb: str, total: int | None = None) -> None:
        self.enabled = enabled
        self.verb = verb
        self.total = total
        self.count = 0
        self.nbytes = 0
        self.start = time.monotonic()
        self.next_draw = self.start + 1.0
        self.drawn = False

    def add(self, frames: list[bytes]) -> None:
        self.count += 1
        if self.enabled:
            self.nbytes += sum(len(f) for f in frames)
            now = time.monotonic()
            if now >= self.next_draw:
                self.next_draw = now + 0.25
                self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        count = f"{self.count}/{self.total}" if self.total else str(self.count)
        line = (
            f"\r{self.verb} {count} messages, {_human(self.nbytes)}B in {elapsed:.1f} s "
            f"({self.count / elapsed:,.0f} msg/s, {_human(self.nbytes / elapsed)}B/s)\x1b[K"
        )
        try:
            sys.stderr.write(line)
            sys.stderr.flush()
            self.drawn = True
        except OSError:
            self.enabled = False

    def close(self) -> None:
        if self.enabled and self.drawn:
            self._draw(time.monotonic())
            try:
                sys.stderr.write("\n")
                sys.stderr.flush()
            except OSError:
                pass
        self.enabled = False


def _human(value: float) -> str:
    for unit in ("", "k", "M", "G"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} T"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _is_pipe_or_tty(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


def make_progress(args: argparse.Namespace, verb: str, reads: bool, prints: bool) -> Progress:
    """--progress/--no-progress; by default on only when stderr is a terminal and the streams the
    command uses (stdin if it ``reads``, stdout if it ``prints``) are files: not in pipelines,
    and not interleaved with what is typed or printed on the terminal."""
    enabled = args.progress
    if enabled is None:
        enabled = (
            _isatty(sys.stderr)
            and not (reads and _is_pipe_or_tty(0))
            and not (prints and _is_pipe_or_tty(1))
        )
    return Progress(bool(enabled), verb, getattr(args, "count", None))


def _warn(message: str) -> None:
    print(f"purezmq: warning: {message}", file=sys.stderr, flush=True)


def run_exec(command: str, text: bytes, timeout: float | None, sigs: Signals) -> bytes | None:
    """Run ``command`` in a shell with ``text`` on its stdin; its stdout, or None on timeout."""
    data: bytes | None = text
    proc = subprocess.Popen(
        command,
        shell=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,  # so that a timeout can kill the shell's children too
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            step = 0.2 if deadline is None else min(0.2, max(0.0, deadline - time.monotonic()))
            try:
                output, _ = proc.communicate(data, timeout=step)
                break
            except subprocess.TimeoutExpired:
                data = None  # a retried communicate() goes on with the same input
                sigs.check()
                if deadline is not None and time.monotonic() >= deadline:
                    _warn(f"--exec command timed out after {timeout:g} s and was killed")
                    return None
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.communicate()
    if proc.returncode:
        _warn(f"--exec command exited with status {proc.returncode}")
    return output


# -- sockets ------------------------------------------------------------------------------------

SOCKET_TYPES = {
    "push": zmq.PUSH,
    "pull": zmq.PULL,
    "pub": zmq.PUB,
    "sub": zmq.SUB,
    "req": zmq.REQ,
    "rep": zmq.REP,
    "dealer": zmq.DEALER,
    "router": zmq.ROUTER,
    "pair": zmq.PAIR,
}


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return re.sub(r"\s*\(addr=.*\)$", "", text)


def attach(sock: zmq.Socket, endpoint: str, bind: bool) -> None:
    """Bind or connect, turning a failure into a one-line ``CommandError``."""
    if not bind and re.match(r"^(tcp|udp)://\*", endpoint):
        raise CommandError(f"cannot connect to the wildcard address {endpoint} (use --bind)")
    try:
        if bind:
            sock.bind(endpoint)
        else:
            sock.connect(endpoint)
    except zmq.ZMQError as exc:
        verb = "bind to" if bind else "connect to"
        raise CommandError(f"cannot {verb} {endpoint}: {_reason(exc)}") from None


def linger_ms(args: argparse.Namespace, default: int = -1) -> int:
    """--linger, else --timeout, else ``default`` (-1: wait until everything is delivered)."""
    if args.linger is not None:
        return int(args.linger)
    if args.timeout is not None:
        return int(args.timeout * 1000)
    return default


def timeout_ms(args: argparse.Namespace) -> int:
    return -1 if args.timeout is None else max(1, int(args.timeout * 1000))


def close_all(ctx: zmq.Context, sockets: list[zmq.Socket], linger: int, sigs: Signals) -> None:
    """Close with ``linger`` and wait for the delivery; an error if the linger ran out."""
    started = time.monotonic()
    for sock in sockets:
        sock.close(linger=linger)
    # Context.term blocks until delivered: wait for it in a thread, so that Ctrl-C still works.
    terminated = threading.Event()

    def term() -> None:
        ctx.term()
        terminated.set()

    threading.Thread(target=term, name="purezmq-cli-term", daemon=True).start()
    while not terminated.wait(0.1):
        sigs.check()
    if linger > 0 and (time.monotonic() - started) * 1000 >= linger - 5:
        raise CommandError(
            f"timed out: messages still undelivered after waiting {linger / 1000:g} s "
            "(no peer took them; see --linger/--timeout)"
        )


def _fail_timeout(args: argparse.Namespace, what: str) -> CommandError:
    return CommandError(f"timed out: {what} within {args.timeout:g} s (--timeout)")


# -- the socket subcommands ---------------------------------------------------------------------

_SEND_ONLY = ("push", "pub")
_RECV_ONLY = ("pull", "sub")
_BIDIRECTIONAL = ("dealer", "router", "pair")


def run_socket(args: argparse.Namespace) -> int:
    kind = args.command
    if kind == "router" and args.format in ("lines", "raw"):
        raise UsageError(
            "a router needs --format multipart or json: each message it sends starts with the "
            "peer's routing id"
        )
    codec = Codec(args.format, frames_as_list=(kind == "router"))
    ctx = zmq.Context()
    closing = False
    sigs = Signals()
    try:
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
}

_COMMON_EPILOG = """
Endpoints are connected to unless --bind is given (tcp://HOST:PORT, ipc://PATH, inproc://NAME;
bind to tcp://*:PORT for every interface). Senders wait for their messages to be delivered
before exiting: forever by default, at most --timeout seconds if given, or --linger MS.
Exit status: 0 on success, 1 on a failure (bad endpoint, address in use, timeout), 2 on a usage
mistake, 130 on Ctrl-C."""

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=min(shutil.get_terminal_size().columns, 100) - 2)


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
        default="multipart" if kind == "router" else "lines",
        help=_FORMAT_HELP,
    )
    counted = {
        "push": "sent",
        "pub": "sent",
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
        + ("; also bounds each --exec run" if kind in ("rep", "pull") else "")
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
    if kind in ("pull", "rep"):
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


SOCKET_COMMANDS = tuple(_adder(kind) for kind in SOCKET_TYPES)


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


COMMANDS = (*SOCKET_COMMANDS, add_proxy)

"""What the commands share: ``UsageError`` and ``CommandError``, signals, message formats,
output, ``--exec`` and socket set-up."""

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
from collections.abc import Iterator
from typing import Any, BinaryIO

import purezmq as zmq
from purezmq.cli.argtypes import float_above_zero


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


_seconds = float_above_zero(
    "not a number of seconds", "must be a positive number of seconds", finite=True
)


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


# -- help text --------------------------------------------------------------------------------

_COMMON_EPILOG = """
Endpoints are connected to unless --bind is given (tcp://HOST:PORT, ipc://PATH, inproc://NAME,
ws://HOST:PORT/PATH; bind to tcp://*:PORT for every interface). Senders wait for their messages
to be delivered before exiting: forever by default, at most --timeout seconds if given, or
--linger MS.
Exit status: 0 on success, 1 on a failure (bad endpoint, address in use, timeout), 2 on a usage
mistake, 130 on Ctrl-C."""

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=min(shutil.get_terminal_size().columns, 100) - 2)

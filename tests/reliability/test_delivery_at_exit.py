"""Messages accepted by send() reach the peer even when the sending script simply ends.

libzmq's rule (zmq_setsockopt ZMQ_LINGER, zmq_close, zmq_ctx_term): a message that send() accepted
is still delivered after the socket is closed, for as long as LINGER allows (-1, the default: no
limit; 0: dropped at once; N: at most N ms). With pyzmq a script that sends and then ends -- with
no close(), with close() only, by dropping its context, or by leaving it in a module global --
delivers everything to a peer that is there, and still exits promptly when no peer is there.
(pyzmq terms a context when it is collected -- Context.__del__ calls destroy() -- but not at
interpreter exit: its atexit hook only sets a flag that stops __del__ from destroying. What gets a
module-global context's messages out at exit is libzmq's native I/O thread, which keeps writing
while the interpreter tears down; the tests show that it does, they do not make it a guarantee.)

Every test runs a small sender script in a subprocess, once importing ``zmq`` (pyzmq: proves that
the expectation is libzmq's) and once importing ``purezmq`` (the library under test), and counts
what a pyzmq receiver in this process gets (or, for inproc, what a receiving thread in the script
saw). Every wait is bounded: the sender process has START_TIMEOUT to reach its last statement and
EXIT_GRACE after it to be gone (else it is killed and the test says "hung at exit"); the receiver
stops at the expected count, or QUIET seconds after the sender is done with nothing more arriving.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import zmq

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    # This checkout's purezmq, whatever is installed.
    "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
    ),
    "PYTHONDONTWRITEBYTECODE": "1",
}

IMPLS = [pytest.param("zmq", id="pyzmq"), pytest.param("purezmq", id="purezmq")]

#: From the sender's start until its last statement (it sends, then ends).
START_TIMEOUT = 20.0
#: From the sender's last statement until the process is gone. pyzmq takes ~50 ms.
EXIT_GRACE = 4.0
#: Once the sender is done (exited, or released its context): this long with nothing arriving
#: means nothing more will. (What a finished sender wrote is already in the kernel.)
QUIET = 0.5
#: Upper bound for "exits promptly" / "term() returns in time" (LINGER 0 and LINGER 200).
PROMPT = 5.0

# -- the sender scripts ------------------------------------------------------------------------

PRELUDE = r'''
import gc, json, os, select, sys, threading, time

cfg = json.loads(sys.argv[1])
zmq = __import__(cfg["impl"])
KIND, SHAPE, N, EP = cfg["kind"], cfg["shape"], cfg["count"], cfg["endpoint"]
OP_MS = 20000
_stdin = [b""]


_say = threading.Lock()


def say(*words):
    """One whole line per marker (print() from two threads can interleave its parts)."""
    line = " ".join(str(word) for word in words) + "\n"
    with _say:
        sys.stdout.write(line)
        sys.stdout.flush()


def poll_word(word, timeout):
    """Whether the test wrote the line ``word`` on stdin within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while b"\n" not in _stdin[0]:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([0], [], [], remaining)[0]:
            return False
        chunk = os.read(0, 4096)
        if not chunk:
            raise SystemExit("sender: stdin closed")
        _stdin[0] += chunk
    line, _stdin[0] = _stdin[0].split(b"\n", 1)
    if line.decode() != word:
        raise SystemExit(f"sender: expected {word!r} on stdin, got {line!r}")
    return True


def wait_word(word):
    if not poll_word(word, 20.0):
        raise SystemExit(f"sender: no {word!r} from the test")


def open_socket(ctx):
    sock = ctx.socket(getattr(zmq, KIND))
    if cfg.get("linger") is not None:
        sock.setsockopt(zmq.LINGER, cfg["linger"])
    sock.sndtimeo = OP_MS
    if KIND not in ("PUB", "PUSH"):
        sock.rcvtimeo = OP_MS
    sock.connect(EP)
    return sock


def handshake(sock):
    """What the socket type needs before its messages can reach the receiver (no slow joiner);
    the routing id to send to, for a ROUTER."""
    if KIND == "PUB":
        # Probe until the test's SUB has seen a probe (its subscription is in) and says go.
        deadline = time.monotonic() + 20.0
        while not poll_word("go", 0.01):
            if time.monotonic() > deadline:
                raise SystemExit("sender: the SUB never saw a probe")
            sock.send(b"probe")
    elif KIND == "XPUB":
        subscription = sock.recv()
        assert subscription[:1] == b"\x01", subscription
    elif KIND == "ROUTER":
        peer, hello = sock.recv_multipart()
        assert hello == b"hello", hello
        return peer
    return None


def send_all(sock, peer):
    for i in range(N):
        if peer is None:
            sock.send(b"m%d" % i)
        else:
            sock.send_multipart([peer, b"m%d" % i])
    say("sent")


def timed(name, call):
    started = time.monotonic()
    call()
    say(name, f"{time.monotonic() - started:.3f}")


def released():
    """The context is gone (collected): the test counts now, while this process still lives."""
    say("released")
    wait_word("exit")
'''

#: tcp or ipc: the script connects to the test's receiver, sends N, then ends in one SHAPE.
SENDER = (
    PRELUDE
    + r"""
if SHAPE == "function":
    # Everything local to a function: collected when it returns.
    def main():
        ctx = zmq.Context()
        sock = open_socket(ctx)
        send_all(sock, handshake(sock))

    main()
    gc.collect()
    released()
else:
    ctx = zmq.Context.instance() if SHAPE == "instance" else zmq.Context()
    sock = open_socket(ctx)
    send_all(sock, handshake(sock))
    if SHAPE == "close":
        sock.close()
    elif SHAPE == "term":
        sock.close()
        timed("term", ctx.term)
    elif SHAPE == "destroy":
        timed("term", ctx.destroy)
    elif SHAPE == "del":
        del sock, ctx  # Unclosed: the socket closes itself when collected, then the context.
        gc.collect()
        released()
    elif SHAPE not in ("nothing", "instance"):
        raise SystemExit(f"unknown shape {SHAPE}")
say("end")
"""
)

#: inproc: a (non-daemon) thread of the script receives, the main thread sends and ends.
INPROC_SENDER = (
    PRELUDE
    + r"""
RX = {"PUSH": "PULL", "PAIR": "PAIR", "DEALER": "ROUTER", "XPUB": "SUB"}[KIND]
ctx = zmq.Context()
rx = ctx.socket(getattr(zmq, RX))
rx.rcvtimeo = 5000
rx.bind(EP)
if RX == "SUB":
    rx.subscribe(b"")


def receive():
    got = 0
    try:
        while got < N:
            if rx.recv_multipart()[-1][:1] == b"m":
                got += 1
    except zmq.ZMQError as exc:
        say("receiver-stopped", exc.errno)
    say("received", got)
    rx.close()


threading.Thread(target=receive, name="receiver").start()  # Not a daemon: exit waits for it.
sock = open_socket(ctx)
send_all(sock, handshake(sock))
if SHAPE == "close":
    sock.close()
elif SHAPE != "nothing":
    raise SystemExit(f"unknown shape {SHAPE}")
say("end")
"""
)

#: asyncio: sends N from a coroutine and returns from asyncio.run() without term().
ASYNC_SENDER = (
    PRELUDE
    + r"""
import asyncio
import importlib

azmq = importlib.import_module(cfg["impl"] + ".asyncio")


async def main():
    ctx = azmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.connect(EP)
    for i in range(N):
        await sock.send(b"m%d" % i)
    say("sent")
    if SHAPE == "close":
        sock.close()
    elif SHAPE == "term":
        sock.close()
        timed("term", ctx.term)
    elif SHAPE != "nothing":
        raise SystemExit(f"unknown shape {SHAPE}")


asyncio.run(main())
say("end")
"""
)


class Sender:
    """A sender script in a subprocess; its stdout lines are markers ("end", "released", ...)."""

    def __init__(self, script: str, **cfg: Any) -> None:
        cfg.setdefault("linger", None)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self._cond = threading.Condition()
        #: marker (first word of a line) -> (when it was seen, the rest of the line)
        self.seen: dict[str, tuple[float, str]] = {}
        self.stderr: list[str] = []
        self.exited_at: float | None = None
        self.status = "running"
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        threading.Thread(target=self._wait_exit, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                word, _, rest = line.strip().partition(" ")
                with self._cond:
                    self.seen.setdefault(word, (time.monotonic(), rest))
                    self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        with self.proc.stderr:
            for line in self.proc.stderr:
                self.stderr.append(line.rstrip())

    def _wait_exit(self) -> None:
        self.proc.wait()
        with self._cond:
            self.exited_at = time.monotonic()
            self._cond.notify_all()

    # -- what the test asks ------------------------------------------------------------------

    def value(self, marker: str) -> str:
        return self.seen[marker][1]

    def tell(self, word: str) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(word + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # Gone already: finish() says how it ended.

    @property
    def running(self) -> bool:
        return self.exited_at is None

    def done_at(self) -> float | None:
        """When the sender's part was over: it exited, or released its context (and waits), or
        its last statement is EXIT_GRACE behind (it hangs at exit: nothing more will come)."""
        times = [self.exited_at]
        if "released" in self.seen:
            times.append(self.seen["released"][0])
        if "end" in self.seen:
            times.append(self.seen["end"][0] + EXIT_GRACE)
        if time.monotonic() - self.started > START_TIMEOUT:
            times.append(self.started + START_TIMEOUT)
        known = [t for t in times if t is not None and t <= time.monotonic()]
        return min(known) if known else None

    def finish(self) -> str:
        """Let it end (a released sender waits for "exit"); "ok", or how it failed. A sender still
        running EXIT_GRACE after its last statement is killed: it hangs at exit."""
        self.tell("exit")
        self._close_stdin()
        with self._cond:
            self._cond.wait_for(
                lambda: "end" in self.seen or self.exited_at is not None,
                timeout=max(0.0, self.started + START_TIMEOUT - time.monotonic()),
            )
            if "end" in self.seen:
                end = self.seen["end"][0]
                self._cond.wait_for(
                    lambda: self.exited_at is not None,
                    timeout=max(0.0, end + EXIT_GRACE - time.monotonic()),
                )
        hung = self.exited_at is None
        if hung:
            self.proc.kill()
            self.proc.wait(10)
        for reader in self._readers:  # Its last lines: read up to the end of its output.
            reader.join(5)
        if hung:
            if "end" in self.seen:
                self.status = f"hung at exit (still running {EXIT_GRACE:.0f} s after its last line)"
            else:
                self.status = f"did not reach its last line in {START_TIMEOUT:.0f} s"
        elif self.proc.returncode != 0:
            tail = " | ".join(self.stderr[-3:])
            self.status = f"exit code {self.proc.returncode}: {tail}"
        else:
            self.status = "ok"
        return self.status

    @property
    def exit_delay(self) -> float:
        """Seconds from the script's last statement to the process being gone."""
        assert self.exited_at is not None and "end" in self.seen
        return self.exited_at - self.seen["end"][0]

    def _close_stdin(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close_stdin()
        for reader in self._readers:
            reader.join(5)


@pytest.fixture
def senders() -> Any:
    """Start senders through this; any still running at the end of the test is killed."""
    started: list[Sender] = []

    def start(script: str, **cfg: Any) -> Sender:
        sender = Sender(script, **cfg)
        started.append(sender)
        return sender

    yield start
    for sender in started:
        sender.kill()


# -- the receiving side (pyzmq, in this process) ----------------------------------------------

#: The sending socket type -> its natural pyzmq receiver.
RECEIVER = {
    "PUSH": zmq.PULL,
    "PUB": zmq.SUB,
    "XPUB": zmq.SUB,
    "DEALER": zmq.ROUTER,
    "PAIR": zmq.PAIR,
    "REQ": zmq.REP,
    "ROUTER": zmq.DEALER,
}
DEALER_ID = b"the-dealer"


def receiver(pyctx: zmq.Context, kind: str, endpoint: str) -> tuple[zmq.Socket, str]:
    """The pyzmq receiver for a ``kind`` sender, bound; (socket, endpoint to connect to)."""
    rx = pyctx.socket(RECEIVER[kind])
    rx.linger = 0
    # No receive limit: libzmq then reads everything the sender wrote before it sees the hang-up.
    # (With its pipe full it stops reading, and over ipc it drops what is left unread once the
    # peer has gone: that would be the receiver losing messages, not the sender.)
    rx.rcvhwm = 0
    if kind in ("PUB", "XPUB"):
        rx.subscribe(b"")
    if kind == "ROUTER":
        rx.setsockopt(zmq.ROUTING_ID, DEALER_ID)  # Fixed, so that the ROUTER can address us.
    rx.bind(endpoint)
    return rx, rx.last_endpoint.decode()


def handshake(rx: zmq.Socket, kind: str, sender: Sender) -> None:
    """The receiver's half of the script's handshake (see PRELUDE.handshake)."""
    deadline = sender.started + START_TIMEOUT
    if kind == "PUB":
        # The first probe proves the subscription reached the PUB: then the script may send.
        while not rx.poll(50):
            assert sender.running and time.monotonic() < deadline, "the PUB never sent a probe"
        sender.tell("go")
    elif kind == "ROUTER":
        # Our hello tells the ROUTER our routing id; it goes out once the ROUTER has connected.
        while not rx.poll(50, zmq.POLLOUT):
            assert sender.running and time.monotonic() < deadline, "the ROUTER never connected"
        rx.send(b"hello")


def collect(rx: zmq.Socket, expected: int, sender: Sender) -> int:
    """Count data messages (last frame starting b"m") until ``expected`` arrived, or the sender
    is done and QUIET passes with nothing more."""
    count = 0
    last = time.monotonic()
    while count < expected:
        done = sender.done_at()
        if done is not None and time.monotonic() - max(last, done) >= QUIET:
            break
        if rx.poll(50):
            while count < expected:
                try:
                    frames = rx.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if frames[-1][:1] == b"m":
                    count += 1
            last = time.monotonic()
    return count


def deliver(
    senders: Any,
    pyctx: zmq.Context,
    impl: str,
    kind: str,
    shape: str,
    count: int,
    endpoint: str,
    script: str = SENDER,
    **cfg: Any,
) -> tuple[int, str, Sender]:
    """Run one sender against its pyzmq receiver: (messages received, sender status, sender)."""
    rx, actual = receiver(pyctx, kind, endpoint)
    sender = senders(script, impl=impl, kind=kind, shape=shape, count=count, endpoint=actual, **cfg)
    handshake(rx, kind, sender)
    received = collect(rx, count, sender)
    status = sender.finish()
    rx.close()
    return received, status, sender


def check(impl: str, what: str, received: int, count: int, status: str) -> None:
    assert (received, status) == (count, "ok"), (
        f"{impl}, {what}: {received} of {count} messages delivered; sender: {status}"
    )


# -- the script's shapes (PUSH -> PULL over tcp) ------------------------------------------------

SHAPES = [
    # (shape, what the script does after its last send)
    ("nothing", "nothing: no close(), no term(); ctx and socket module globals"),
    ("close", "sock.close() only; ctx a module global"),
    ("instance", "Context.instance() (kept by the class) and a global socket, nothing closed"),
    ("del", "del sock, ctx (unclosed socket); gc.collect(); counted before exit"),
    ("function", "ctx and socket local to a function that returns; counted before exit"),
    ("term", "sock.close(); ctx.term()"),
    ("destroy", "ctx.destroy() (closes the socket with its own LINGER)"),
]
COUNTS = [1, 10, 20_000]


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("shape", [pytest.param(s, id=s) for s, _ in SHAPES])
@pytest.mark.parametrize("impl", IMPLS)
def test_script_shapes_deliver_everything(
    senders: Any, pyctx: zmq.Context, impl: str, shape: str, count: int
) -> None:
    received, status, _ = deliver(senders, pyctx, impl, "PUSH", shape, count, "tcp://127.0.0.1:*")
    check(impl, f"PUSH over tcp, shape {shape!r} ({dict(SHAPES)[shape]})", received, count, status)


# -- every sending socket type against its natural receiver (tcp) ------------------------------

KINDS = ["PUSH", "PUB", "XPUB", "DEALER", "PAIR", "REQ", "ROUTER"]


@pytest.mark.parametrize("shape", ["nothing", "term"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_every_socket_type_tcp(
    senders: Any, pyctx: zmq.Context, impl: str, kind: str, shape: str
) -> None:
    count = 1 if kind == "REQ" else 10  # REQ: one request (it may not send a second unanswered).
    received, status, _ = deliver(senders, pyctx, impl, kind, shape, count, "tcp://127.0.0.1:*")
    check(impl, f"{kind} over tcp, shape {shape!r}", received, count, status)


# -- ipc: a subset -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,shape,count",
    [
        ("PUSH", "nothing", 10),
        ("PUSH", "nothing", 20_000),
        ("PUSH", "close", 20_000),
        ("PUSH", "term", 20_000),
        ("DEALER", "nothing", 10),
        ("PUB", "nothing", 10),
    ],
)
@pytest.mark.parametrize("impl", IMPLS)
def test_ipc(
    senders: Any,
    pyctx: zmq.Context,
    ipc_endpoint: str,
    impl: str,
    kind: str,
    shape: str,
    count: int,
) -> None:
    received, status, _ = deliver(senders, pyctx, impl, kind, shape, count, ipc_endpoint)
    check(impl, f"{kind} over ipc, shape {shape!r}", received, count, status)


# -- inproc: both ends in the script -----------------------------------------------------------


@pytest.mark.parametrize(
    "kind,shape,count",
    [
        ("PUSH", "nothing", 10),
        ("PUSH", "nothing", 20_000),
        ("PUSH", "close", 10),
        ("PUSH", "close", 20_000),
        ("PAIR", "nothing", 10),
        ("DEALER", "nothing", 10),
        ("XPUB", "nothing", 10),
    ],
)
@pytest.mark.parametrize("impl", IMPLS)
def test_inproc_receiving_thread_gets_everything(
    senders: Any, impl: str, kind: str, shape: str, count: int
) -> None:
    sender = senders(
        INPROC_SENDER,
        impl=impl,
        kind=kind,
        shape=shape,
        count=count,
        endpoint="inproc://delivery-at-exit",
    )
    status = sender.finish()
    received = int(sender.value("received")) if "received" in sender.seen else -1
    check(impl, f"{kind} over inproc, shape {shape!r}", received, count, status)


# -- LINGER ------------------------------------------------------------------------------------


def unreachable(ipc_dir: str, transport: str) -> str:
    """An endpoint where nobody listens (and nobody will)."""
    if transport == "ipc":
        return f"ipc://{ipc_dir}/nobody.sock"
    with socket.socket() as probe:  # A port that was free a moment ago; nobody binds it.
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def run_without_receiver(senders: Any, impl: str, shape: str, endpoint: str, **cfg: Any) -> Sender:
    sender = senders(
        SENDER, impl=impl, kind="PUSH", shape=shape, count=10, endpoint=endpoint, **cfg
    )
    sender.finish()
    return sender


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
@pytest.mark.parametrize("shape", ["nothing", "close", "term"])
@pytest.mark.parametrize("impl", IMPLS)
def test_linger_zero_absent_receiver_exits_promptly(
    senders: Any, ipc_dir: str, impl: str, shape: str, transport: str
) -> None:
    """LINGER=0: queued messages are dropped at close; nothing waits for the missing peer."""
    sender = run_without_receiver(senders, impl, shape, unreachable(ipc_dir, transport), linger=0)
    assert sender.status == "ok", f"{impl}, LINGER=0, shape {shape!r}: sender {sender.status}"
    assert sender.exit_delay < PROMPT
    if shape == "term":
        assert float(sender.value("term")) < PROMPT


@pytest.mark.parametrize("shape", ["nothing", "close", "term"])
@pytest.mark.parametrize("impl", IMPLS)
def test_linger_bounded_no_receiver_waits_at_most_linger(
    senders: Any, ipc_dir: str, impl: str, shape: str
) -> None:
    """LINGER=200 and no peer at all: term() (or the exit) gives up after ~200 ms."""
    sender = run_without_receiver(senders, impl, shape, unreachable(ipc_dir, "tcp"), linger=200)
    assert sender.status == "ok", f"{impl}, LINGER=200, shape {shape!r}: sender {sender.status}"
    assert sender.exit_delay < PROMPT
    if shape == "term":
        assert float(sender.value("term")) < PROMPT


@pytest.mark.parametrize("shape", ["nothing", "close"])
@pytest.mark.parametrize("impl", IMPLS)
def test_default_linger_no_receiver_no_term_still_exits(
    senders: Any, ipc_dir: str, impl: str, shape: str
) -> None:
    """pyzmq compatibility, and a constraint on the fix: a script that never calls term() exits
    even when its queued messages have nowhere to go (LINGER -1). pyzmq does not term() at
    interpreter exit, so an 'atexit: term every context' that honours LINGER=-1 would hang here
    where pyzmq does not."""
    sender = run_without_receiver(senders, impl, shape, unreachable(ipc_dir, "tcp"))
    assert sender.status == "ok", (
        f"{impl}, default LINGER, no peer, shape {shape!r} (no term): sender {sender.status}"
    )
    assert sender.exit_delay < PROMPT


@pytest.mark.parametrize("shape", ["nothing", "term"])
@pytest.mark.parametrize("impl", IMPLS)
def test_linger_minus_one_receiver_present_delivers_everything(
    senders: Any, pyctx: zmq.Context, impl: str, shape: str
) -> None:
    """LINGER=-1 set explicitly (the default's value): everything reaches the receiver."""
    count = 20_000
    received, status, _ = deliver(
        senders, pyctx, impl, "PUSH", shape, count, "tcp://127.0.0.1:*", linger=-1
    )
    check(impl, f"LINGER=-1, shape {shape!r}", received, count, status)


# -- term() from another thread wakes a blocked recv() with ETERM --------------------------------


def _in_recv(thread: threading.Thread, function: str) -> bool:
    """Whether ``thread`` is inside the call on the marked line of ``function``."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == function:
            return "BLOCKED-HERE" in _line_of(frame)
        frame = frame.f_back
    return False


def _line_of(frame: Any) -> str:
    import linecache

    return linecache.getline(frame.f_code.co_filename, frame.f_lineno)


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
@pytest.mark.parametrize("impl", IMPLS)
def test_term_from_another_thread_wakes_blocked_recv(impl: str, transport: str) -> None:
    lib = importlib.import_module(impl)
    ctx = lib.Context()
    sock = ctx.socket(lib.PULL)
    sock.bind("tcp://127.0.0.1:*" if transport == "tcp" else "inproc://term-wakes-recv")
    outcome: dict[str, Any] = {}

    def blocked_reader() -> None:
        try:
            sock.recv()  # BLOCKED-HERE
            outcome["recv"] = "returned a message"
        except lib.ContextTerminated as exc:
            outcome["recv"] = ("ContextTerminated", exc.errno)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            outcome["recv"] = repr(exc)
        finally:
            sock.close()  # As libzmq asks after ETERM, so that term() can return.

    def terminator() -> None:
        ctx.term()
        outcome["term"] = "returned"

    reader = threading.Thread(target=blocked_reader, daemon=True)
    reader.start()
    deadline = time.monotonic() + 5
    while not _in_recv(reader, "blocked_reader"):  # (recv() may still be on its way to sleep.)
        assert time.monotonic() < deadline, "the reader never got into recv()"
        time.sleep(0.001)
    terminating = threading.Thread(target=terminator, daemon=True)
    terminating.start()
    reader.join(10)
    terminating.join(10)
    assert outcome == {"recv": ("ContextTerminated", lib.ETERM), "term": "returned"}, (
        f"{impl}: {outcome} (reader alive: {reader.is_alive()}, term alive: "
        f"{terminating.is_alive()})"
    )


# -- asyncio -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 20_000])
@pytest.mark.parametrize("shape", ["nothing", "close", "term"])
@pytest.mark.parametrize("impl", IMPLS)
def test_asyncio_sender_returning_from_asyncio_run(
    senders: Any, pyctx: zmq.Context, impl: str, shape: str, count: int
) -> None:
    """A zmq.asyncio / purezmq.asyncio PUSH sends N in a coroutine; asyncio.run() returns."""
    received, status, _ = deliver(
        senders, pyctx, impl, "PUSH", shape, count, "tcp://127.0.0.1:*", script=ASYNC_SENDER
    )
    check(impl, f"asyncio PUSH over tcp, shape {shape!r}", received, count, status)


# -- fork ----------------------------------------------------------------------------------------

FORK_SENDER = (
    PRELUDE
    + r"""
ctx = zmq.Context()
sock = open_socket(ctx)
send_all(sock, handshake(sock))
pid = os.fork()
if pid == 0:
    # The child has the parent's context but not its I/O thread: it must neither flush nor
    # wait for it at exit (pyzmq's child exits at once too).
    sys.exit(0)
_, status = os.waitpid(pid, 0)
say("child", status)
say("end")
"""
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.parametrize("impl", IMPLS)
def test_forked_child_exits_and_parent_still_delivers(
    senders: Any, pyctx: zmq.Context, impl: str
) -> None:
    count = 1000
    received, status, sender = deliver(
        senders, pyctx, impl, "PUSH", "nothing", count, "tcp://127.0.0.1:*", script=FORK_SENDER
    )
    check(impl, "PUSH over tcp, the parent of a forked child", received, count, status)
    assert sender.value("child") == "0"

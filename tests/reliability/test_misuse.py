"""Misuse that libzmq punishes with an abort or undefined behaviour gets a clear error here:
a socket used by two threads at once, a socket used after close(), a parent's context used in a
forked child. Never a hang, never a message silently lost."""

from __future__ import annotations

import errno
import importlib
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import purezmq

pytestmark = pytest.mark.timeout(30)

IMPLS = [pytest.param("zmq", id="pyzmq"), pytest.param("purezmq", id="purezmq")]
SRC = str(Path(__file__).resolve().parents[2] / "src")


# -- two threads in one socket ---------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_second_thread_blocking_in_a_socket_gets_a_clear_error(transport: str) -> None:
    """Two threads send on one PUSH whose peer does not read: both end up waiting for room.
    One wake-up can only wake one of them (libzmq would abort here); the second thread to block
    is refused with a clear error instead of sleeping for ever, and every send() that returned
    is delivered once the peer reads."""
    ctx = purezmq.Context()
    rx = ctx.socket(purezmq.PULL)
    rx.linger = 0
    rx.rcvtimeo = 2000
    rx.rcvhwm = 10
    if transport == "tcp":
        endpoint = f"tcp://127.0.0.1:{rx.bind_to_random_port('tcp://127.0.0.1')}"
    else:
        endpoint = "inproc://misuse-two-threads"
        rx.bind(endpoint)
    tx = ctx.socket(purezmq.PUSH)
    tx.linger = 0
    tx.sndhwm = 10
    tx.sndtimeo = 10_000
    tx.connect(endpoint)
    sent = {b"a": 0, b"b": 0}
    errors: list[BaseException] = []
    both_blocked = threading.Barrier(3)

    def send(tag: bytes) -> None:
        try:
            both_blocked.wait(5)
            for i in range(2_000):
                tx.send(tag + b"%d" % i + bytes(20_000))  # (Fills tcp's buffers.)
                sent[tag] += 1
        except purezmq.ZMQError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(tag,), daemon=True) for tag in sent]
    for thread in threads:
        thread.start()
    both_blocked.wait(5)
    threads_done = threading.Event()

    def join() -> None:
        for thread in threads:
            thread.join()
        threads_done.set()

    # Until one of them is refused, the other is kept sleeping by the full pipe: read then.
    waiter = threading.Thread(target=join, daemon=True)
    waiter.start()
    deadline_ok = _wait_for(lambda: bool(errors), 10)
    assert deadline_ok, "neither thread was refused: both asleep in one socket"
    assert errors[0].errno == errno.EFAULT
    assert "another thread" in str(errors[0])
    received = []
    try:
        while not threads_done.is_set() or rx.poll(200):
            if rx.poll(100):
                received.append(rx.recv())
    finally:
        tx.sndtimeo = 0
    assert threads_done.wait(10)
    # The first thread was not refused: it sent everything, and all of it arrived.
    assert len(errors) == 1
    assert len(received) == sent[b"a"] + sent[b"b"]
    tx.close()
    rx.close()
    ctx.term()


def _wait_for(predicate: Any, timeout: float) -> bool:
    done = threading.Event()
    deadline = timeout
    step = 0.01
    while deadline > 0:
        if predicate():
            return True
        done.wait(step)
        deadline -= step
    return bool(predicate())


# -- use after close -------------------------------------------------------------------------------

AFTER_CLOSE = [
    ("send", lambda s, lib: s.send(b"x")),
    ("recv", lambda s, lib: s.recv(lib.NOBLOCK)),
    ("send_multipart", lambda s, lib: s.send_multipart([b"a", b"b"])),
    ("bind", lambda s, lib: s.bind("tcp://127.0.0.1:*")),
    ("connect", lambda s, lib: s.connect("tcp://127.0.0.1:5555")),
    ("setsockopt", lambda s, lib: s.setsockopt(lib.LINGER, 0)),
    ("getsockopt", lambda s, lib: s.getsockopt(lib.LINGER)),
]


@pytest.mark.parametrize("operation", [pytest.param(op, id=name) for name, op in AFTER_CLOSE])
@pytest.mark.parametrize("impl", IMPLS)
def test_use_after_close_raises_enotsock(impl: str, operation: Any) -> None:
    lib = importlib.import_module(impl)
    ctx = lib.Context()
    sock = ctx.socket(lib.DEALER)
    sock.close()
    with pytest.raises(lib.ZMQError) as caught:
        operation(sock, lib)
    assert caught.value.errno == errno.ENOTSOCK
    sock.close()  # Closing again is allowed.
    ctx.term()


# -- fork ------------------------------------------------------------------------------------------

FORK_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import purezmq as zmq

    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = ctx.socket(zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"before")
    assert pull.recv() == b"before"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        results = []
        for name, call in [
            ("send", lambda: push.send(b"from the child", zmq.NOBLOCK)),
            ("socket", lambda: ctx.socket(zmq.PUSH)),
        ]:
            try:
                call()
                results.append(f"{name}:ok")
            except zmq.ZMQError as exc:
                results.append(f"{name}:{exc.errno}:{'fork' in str(exc)}")
        push.close()  # Allowed: closing what the parent owns does nothing to the parent.
        own = zmq.Context.instance()  # A fresh context works in the child.
        child_push = own.socket(zmq.PUSH)
        child_push.connect(f"tcp://127.0.0.1:{port}")
        child_push.send(b"from the child's own context")
        child_push.close()
        own.term()
        os.write(write, " ".join(results).encode())
        sys.exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    print(os.read(read, 1000).decode())
    print("exit", status)
    pull.rcvtimeo = 5000
    print("parent got", pull.recv().decode())
    push.send(b"after")
    print("parent got", pull.recv().decode())
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_parents_context_in_a_forked_child_raises_clearly() -> None:
    """libzmq's sockets in a forked child silently send nowhere (pyzmq too: a send returns and
    the message is lost). purezmq says so instead; the child's own context works, and the
    parent's sockets are untouched."""
    done = subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"send:{errno.EFAULT}:True socket:{errno.EFAULT}:True"
    assert lines[1] == "exit 0"
    assert lines[2:] == ["parent got from the child's own context", "parent got after"]

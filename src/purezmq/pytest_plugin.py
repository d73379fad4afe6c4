"""purezmq's pytest plugin: the fixtures ZeroMQ tests otherwise write in every conftest.

Installed with purezmq (the ``pytest11`` entry point ``purezmq``), pytest loads it by itself
(``-p purezmq`` where plugin autoloading is off). Every wait it makes is bounded.

Fixtures:

- ``zmq_context``: a purezmq Context, destroyed (linger 0) after the test.
- ``zmq_tcp_endpoint``, ``zmq_ipc_endpoint``: a free ``tcp://127.0.0.1:PORT``, and an
  ``ipc://`` path in a private directory (short enough for the 107-byte limit).
- ``zmq_pair``: ``zmq_pair(zmq.PUSH, zmq.PULL, transport="tcp")`` gives (bound, connected)
  sockets, connected for real (the handshake is over) before it returns.
- ``zmq_pyzmq``: the pyzmq module, for a libzmq peer (the test is skipped without pyzmq).
- ``zmq_assert_receives``: ``zmq_assert_receives(sock, [b"frame", ...], timeout=5.0)``, also
  importable as ``purezmq.pytest_plugin.assert_receives``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

import purezmq
from purezmq.utils.monitor import recv_monitor_message

#: Socket timeouts (ms) of the sockets zmq_pair makes, and its wait for the connection (s).
DEFAULT_TIMEOUT_MS = 5000
CONNECT_TIMEOUT = 10.0

__all__ = ["assert_receives"]


def assert_receives(sock: Any, expected: Sequence[bytes], timeout: float = 5.0) -> None:
    """Wait at most ``timeout`` seconds for a message on ``sock`` and check its frames."""
    if not sock.poll(int(timeout * 1000)):
        raise AssertionError(f"no message within {timeout:g} s (expected {list(expected)!r})")
    got = sock.recv_multipart()
    assert got == list(expected), f"received {got!r}, expected {list(expected)!r}"


@pytest.fixture
def zmq_context() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def zmq_tcp_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def zmq_ipc_endpoint() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="zmq-")
    yield f"ipc://{directory}/s.sock"
    shutil.rmtree(directory, ignore_errors=True)


def _wait_connected(monitor: Any, deadline: float) -> None:
    wanted = int(purezmq.EVENT_HANDSHAKE_SUCCEEDED)
    while (left := deadline - time.monotonic()) > 0:
        if monitor.poll(int(left * 1000) + 1):
            event: Any = recv_monitor_message(monitor)  # (A blocking socket: a dict.)
            if event["event"] == wanted:
                return
    raise AssertionError(f"the sockets did not connect within {CONNECT_TIMEOUT:g} s")


@pytest.fixture
def zmq_pair(zmq_context: purezmq.Context) -> Iterator[Callable[..., tuple[Any, Any]]]:
    made: list[Any] = []

    def pair(bind_type: int, connect_type: int, transport: str = "tcp") -> tuple[Any, Any]:
        bound = zmq_context.socket(bind_type)
        connected = zmq_context.socket(connect_type)
        made.extend((bound, connected))
        for sock in (bound, connected):
            sock.linger = 0
            sock.rcvtimeo = sock.sndtimeo = DEFAULT_TIMEOUT_MS
        if transport == "tcp":
            bound.bind("tcp://127.0.0.1:*")
        elif transport == "ipc":
            directory = tempfile.mkdtemp(prefix="zmq-")
            made.append(directory)
            bound.bind(f"ipc://{directory}/s.sock")
        elif transport == "inproc":
            bound.bind(f"inproc://zmq-pair-{id(bound):x}")
        else:
            raise ValueError(f"transport must be tcp, ipc or inproc, not {transport!r}")
        endpoint = bound.last_endpoint.decode()
        if transport == "inproc":
            connected.connect(endpoint)
            return bound, connected
        monitor = connected.get_monitor_socket(purezmq.EVENT_HANDSHAKE_SUCCEEDED)
        try:
            connected.connect(endpoint)
            _wait_connected(monitor, time.monotonic() + CONNECT_TIMEOUT)
        finally:
            connected.disable_monitor()
            monitor.close(linger=0)
        return bound, connected

    yield pair
    for item in made:
        if isinstance(item, str):
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.close(linger=0)


@pytest.fixture
def zmq_pyzmq() -> Any:
    return pytest.importorskip("zmq", reason="pyzmq is not installed")


@pytest.fixture
def zmq_assert_receives() -> Callable[..., None]:
    return assert_receives

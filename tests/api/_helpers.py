"""Helpers for the API tests (on top of the interop helpers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from interop._util import OP_TIMEOUT_MS, make_socket, prep  # noqa: F401 - re-exported


def connected_pair(
    context: Any, lib: Any, send_type: int, recv_type: int, transport: str = "tcp"
) -> tuple[Any, Any]:
    """(sender, receiver): the receiver binds, the sender connects; both prepped (linger 0,
    bounded timeouts). Over tcp, a first message is exchanged when the types allow it so that
    the connection is known to be up."""
    receiver = make_socket(context, recv_type)
    sender = make_socket(context, send_type)
    if transport == "tcp":
        port = receiver.bind_to_random_port("tcp://127.0.0.1")
        sender.connect(f"tcp://127.0.0.1:{port}")
    else:
        name = f"inproc://api-{id(receiver):x}-{time.monotonic_ns()}"
        receiver.bind(name)
        sender.connect(name)
    return sender, receiver


def wait_until(
    predicate: Callable[[], bool], timeout_s: float = 5.0, step_s: float = 0.005
) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passed; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step_s)


class Worker(threading.Thread):
    """A daemon thread that records the exception (or return value) of its target."""

    def __init__(self, target: Callable[[], Any], name: str = "api-worker") -> None:
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.result = self._target_fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.done.set()

    def finish(self, timeout_s: float = 10.0) -> Any:
        self.join(timeout_s)
        assert not self.is_alive(), f"thread {self.name} did not finish within {timeout_s}s"
        if self.error is not None:
            raise self.error
        return self.result

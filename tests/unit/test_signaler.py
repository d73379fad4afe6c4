"""The Signaler under racing setters: no wake-up lost, no gate left open, the descriptor in step."""

from __future__ import annotations

import select
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from purezmq.engine.signaler import Signaler

SETTERS = 3
CHANGES = 3000


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Threads switch every microsecond instead of every 5 ms: the races get their chance."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def _racing_setters(
    signal: Signaler, changes: list[int], errors: list[BaseException]
) -> list[threading.Thread]:
    """Threads that each make CHANGES state changes, setting the signal after each one."""

    def setter() -> None:
        try:
            for i in range(CHANGES):
                changes.append(1)  # The state change, made before the set (as sockets do).
                signal.set()
                if i % 16 == 0:
                    time.sleep(0)  # Let the owner (and the other setters) in between.
        except BaseException as exc:  # A gate released twice raises RuntimeError here.
            errors.append(exc)

    threads = [threading.Thread(target=setter) for _ in range(SETTERS)]
    for thread in threads:
        thread.start()
    return threads


def test_no_change_is_left_without_a_wake_up() -> None:
    signal = Signaler()
    changes: list[int] = []
    errors: list[BaseException] = []
    threads = _racing_setters(signal, changes, errors)
    wake_ups = 0
    while True:
        signal.clear()  # Clear, then look: a change after the look must leave the flag set.
        seen = len(changes)
        if seen == SETTERS * CHANGES:
            break
        started = time.monotonic()
        if signal.wait(2.0):
            wake_ups += 1
        # Setters keep changing things until the owner has seen them all: a wait that lasts
        # its whole time-out slept through a change.
        assert time.monotonic() - started < 1.5, "a set() did not wake the owner"
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    assert wake_ups >= 1
    signal.clear()
    assert signal.wait(0.01) is False  # The gate is closed again: no stale wake-up left in it.


def test_short_timeouts_racing_sets_leave_the_gate_closed() -> None:
    signal = Signaler()
    changes: list[int] = []
    errors: list[BaseException] = []
    threads = _racing_setters(signal, changes, errors)
    while any(thread.is_alive() for thread in threads):
        # Time-outs and wake-ups cross each other here. (A wait may also return True for a
        # set the owner had already seen: a late wake-up, harmless, the owner looks again.)
        signal.wait(0.0002)
        signal.clear()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    signal.clear()
    assert signal.wait(0.01) is False
    signal.set()
    assert signal.wait(None) is True


def test_the_descriptor_is_readable_exactly_while_set_after_racing_sets() -> None:
    signal = Signaler()
    fd = signal.fileno()
    changes: list[int] = []
    errors: list[BaseException] = []
    threads = _racing_setters(signal, changes, errors)
    while any(thread.is_alive() for thread in threads):
        signal.clear()
        if not signal.is_set():
            select.select([fd], [], [], 0.001)
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    readable = select.select([fd], [], [], 0)[0] == [fd]
    assert readable == signal.is_set()
    signal.clear()
    assert select.select([fd], [], [], 0)[0] == []
    signal.set()
    assert select.select([fd], [], [], 1)[0] == [fd]
    signal.close()


def test_a_descriptor_asked_for_while_set_is_readable() -> None:
    signal = Signaler()
    signal.set()
    fd = signal.fileno()
    assert select.select([fd], [], [], 1)[0] == [fd]
    signal.clear()
    assert select.select([fd], [], [], 0)[0] == []
    signal.close()

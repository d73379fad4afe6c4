"""pyzmq's deprecated ``zmq.Stopwatch``: elapsed time in microseconds."""

from __future__ import annotations

import time
import warnings


class Stopwatch:
    """Deprecated zmq.Stopwatch implementation

    You can use Python's builtin timers (time.monotonic, etc.).

    As pyzmq 27's: making one issues a DeprecationWarning; :meth:`stop` returns the microseconds
    since :meth:`start` without stopping anything (it may be called again), and before any
    :meth:`start` counts from the clock's origin instead of raising (pyzmq before 25 raised
    ZMQError there)."""

    def __init__(self) -> None:
        warnings.warn(
            "zmq.Stopwatch is deprecated. Use stdlib time.monotonic and friends instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self._start = 0.0
        self._monotonic = time.monotonic

    def start(self) -> None:
        """Start the counter"""
        self._start = self._monotonic()

    def stop(self) -> int:
        """Return time since start in microseconds"""
        return int(1e6 * (self._monotonic() - self._start))


__all__ = ["Stopwatch"]

"""The garbage collector of zero-copy sends (pyzmq's ``zmq.utils.garbage``).

In pyzmq, a zero-copy send lends the Python object's memory to libzmq: the collector keeps the
object alive (in ``refs``, keyed by ``id``) until libzmq says it is done with the memory, then
drops it and sets the message's tracker event. purezmq never lends memory: a send takes the bytes
it needs before it returns (see ``MessageTracker``: done at once). So here the collector's promise
- the event is set once the library no longer uses the object - is kept immediately:
:meth:`GarbageCollector.store` sets the event and returns the key without holding the object, and
there is no thread to run. The class, its attributes and the module's ``gc`` instance are kept for
code written against pyzmq.

Listed under the API layer (tests/unit/test_layers.py): its ``context`` is a purezmq Context.
"""

from __future__ import annotations

import threading
from os import getpid
from typing import Any, NamedTuple


class gcref(NamedTuple):  # noqa: N801 - pyzmq's name
    obj: object
    event: threading.Event | None


class GarbageCollector:
    """purezmq's Garbage Collector (pyzmq's ``zmq.utils.garbage.GarbageCollector``).

    Used in pyzmq for representing the reference held by libzmq during zero-copy sends; purezmq
    holds no such reference (see the module), so :meth:`store` releases at once."""

    refs: dict[int, gcref]
    url: str = "inproc://pyzmq.gc.01"

    def __init__(self, context: Any | None = None) -> None:
        self.refs = {}
        self.pid: int | None = None
        self.thread = None  # No thread: nothing is ever waited for.
        self._context = context
        self._lock = threading.Lock()
        self._stay_down = False

    @property
    def context(self) -> Any:
        """The Context (made on first use; purezmq's own, not the global instance)."""
        if self._context is None:
            from ..context import Context

            self._context = Context()
        return self._context

    @context.setter
    def context(self, ctx: Any) -> None:
        if self.is_alive():
            if self.refs:
                raise RuntimeError("Cannot change context while GC has references")
            self.stop()
        self._context = ctx

    def start(self) -> None:
        """Start the collector (there is no thread in purezmq: it only notes the process)."""
        with self._lock:
            self.pid = getpid()

    def stop(self) -> None:
        """Stop the collector and forget any references."""
        with self._lock:
            self.pid = None
            self.refs.clear()

    def is_alive(self) -> bool:
        """Whether the collector was started in this process (and not stopped)."""
        return self.pid is not None and self.pid == getpid() and not self._stay_down

    def store(self, obj: object, event: threading.Event | None = None) -> int:
        """Store an object and (optionally) an event for zero-copy; returns its key (``id``).

        purezmq does not use ``obj``'s memory after a send returns, so nothing is kept: the
        event, if any, is set now (pyzmq sets it once libzmq releases the memory)."""
        if not self.is_alive():
            if self._stay_down:
                return 0
            self.start()
        if event is not None:
            event.set()
        return id(obj)


#: The collector pyzmq creates at import.
gc = GarbageCollector()

__all__ = ["GarbageCollector", "gc", "gcref"]

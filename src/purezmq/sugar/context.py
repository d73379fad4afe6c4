"""pyzmq's ``zmq.sugar.context``: purezmq's Context (the same class as ``purezmq.Context``)."""

from __future__ import annotations

from ..context import Context

#: pyzmq 27's ``Context[Socket[bytes]]`` typing alias; purezmq's Context is not generic.
SyncContext = Context

__all__ = ["Context", "SyncContext"]

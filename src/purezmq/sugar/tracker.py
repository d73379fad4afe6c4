"""pyzmq's ``zmq.sugar.tracker``: MessageTracker, and a tracker that is already done.

purezmq copies what it sends before a send returns, so every tracker is done at once."""

from __future__ import annotations

from ..frame import MessageTracker

#: A tracker that is done (pyzmq returns it for sends that need no tracking).
_FINISHED_TRACKER = MessageTracker()

__all__ = ["MessageTracker", "_FINISHED_TRACKER"]

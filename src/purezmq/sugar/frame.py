"""pyzmq's ``zmq.sugar.frame``: purezmq's Frame (``Message`` is the same class)."""

from __future__ import annotations

from ..frame import Frame, Message

__all__ = ["Frame", "Message"]

"""pyzmq's ``zmq.sugar.poll``: purezmq's Poller and select."""

from __future__ import annotations

from ..poll import Poller, select

__all__ = ["Poller", "select"]

"""purezmq.eventloop: pyzmq's ``zmq.eventloop`` over tornado 6 (the ``tornado`` extra).

- ``ioloop``: tornado's ``IOLoop`` (pyzmq's own IOLoop is long gone; ``install()`` is a
  deprecated no-op and ``ZMQIOLoop`` an alias).
- ``zmqstream.ZMQStream``: callbacks for a socket's messages, in a tornado (asyncio) loop.
- ``future``: ``Context``/``Socket``/``Poller`` whose calls return tornado-compatible futures.
"""

from __future__ import annotations

try:
    from tornado.ioloop import IOLoop
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "purezmq.eventloop needs tornado: pip install 'purezmq[tornado]' (or tornado>=6)"
    ) from exc

__all__ = ["IOLoop"]

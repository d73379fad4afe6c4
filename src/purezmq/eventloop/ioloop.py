"""purezmq.eventloop.ioloop: pyzmq's ``zmq.eventloop.ioloop``, deprecated since pyzmq 17.

Its names are tornado.ioloop's (``IOLoop``, ``PeriodicCallback``, ...): ZMQStream and the future
sockets work in tornado's own loop, which runs on asyncio. ``install()`` does nothing but warn,
and ``ZMQIOLoop`` is ``IOLoop``.
"""

from __future__ import annotations

import warnings

import tornado.ioloop as _tornado_ioloop
from tornado.ioloop import *  # noqa: F403 - the module pyzmq's re-exports
from tornado.ioloop import IOLoop

_DEPRECATION = (
    "zmq.eventloop.ioloop is deprecated since pyzmq 17: ZeroMQ sockets work in tornado's own "
    "IOLoop (and in asyncio's); use tornado.ioloop.IOLoop"
)

# What 'from tornado.ioloop import *' gives (tornado.ioloop has no __all__: its public globals).
globals().update(
    {name: value for name, value in vars(_tornado_ioloop).items() if not name.startswith("_")}
)


def _deprecated(stacklevel: int = 3) -> None:
    warnings.warn(_DEPRECATION, DeprecationWarning, stacklevel=stacklevel)


_deprecated()  # On import, as pyzmq: pointing at the importer.

#: pyzmq's old IOLoop subclass: tornado's IOLoop itself now.
ZMQIOLoop = IOLoop


def install() -> None:
    """Deprecated, does nothing: tornado's IOLoop needs no installing to run ZeroMQ sockets."""
    _deprecated()

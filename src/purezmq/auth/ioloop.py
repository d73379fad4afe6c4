"""pyzmq's zmq.auth.ioloop: IOLoopAuthenticator, deprecated (tornado's IOLoop runs on
asyncio): the asyncio authenticator under its old name. Importing it warns, as pyzmq's."""

from __future__ import annotations

import warnings
from typing import Any

from .asyncio import AsyncioAuthenticator

__all__ = ["IOLoopAuthenticator"]

warnings.warn(
    "zmq.auth.ioloop.IOLoopAuthenticator is deprecated. Use zmq.auth.asyncio.AsyncioAuthenticator",
    DeprecationWarning,
    stacklevel=2,
)


class IOLoopAuthenticator(AsyncioAuthenticator):
    """Deprecated: use purezmq.auth.asyncio.AsyncioAuthenticator. ``io_loop`` may be a tornado
    IOLoop (its asyncio loop is used) or an asyncio loop."""

    def __init__(
        self,
        context: Any = None,
        encoding: str = "utf-8",
        log: Any = None,
        io_loop: Any = None,
    ) -> None:
        loop = getattr(io_loop, "asyncio_loop", io_loop)
        super().__init__(context, loop=loop, encoding=encoding, log=log)

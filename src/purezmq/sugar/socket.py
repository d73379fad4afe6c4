"""pyzmq's ``zmq.sugar.socket``: purezmq's Socket (the same class as ``purezmq.Socket``)."""

from __future__ import annotations

from ..socket import Socket

#: pyzmq 27's ``Socket[bytes]`` (the typing alias of a socket whose recv gives bytes); purezmq's
#: Socket is not generic, so the alias is the class itself.
SyncSocket = Socket

__all__ = ["Socket", "SyncSocket"]

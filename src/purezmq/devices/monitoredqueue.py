"""``monitored_queue``: a proxy whose monitor copies say which side each message came from."""

from __future__ import annotations

from ..constants import SocketType
from ..socket import Socket
from .functions import check_socket, run_proxy

__all__ = ["monitored_queue"]


def monitored_queue(
    in_socket: Socket,
    out_socket: Socket,
    mon_socket: Socket,
    in_prefix: bytes = b"in",
    out_prefix: bytes = b"out",
) -> None:
    """Start a monitored queue device (in the calling thread, until the context is
    terminated: then ContextTerminated is raised).

    Like ``proxy`` with a capture socket, with two differences: each copy sent to
    ``mon_socket`` starts with a frame saying where the message came from (``in_prefix`` for
    ``in_socket``, ``out_prefix`` for ``out_socket``), and both sides may be ROUTER sockets: a
    message's first two frames (the routing id of its sender, then that of the peer it is for
    on the other side) are swapped on the way, so that the reply finds its way back."""
    check_socket(in_socket, "in_socket")
    check_socket(out_socket, "out_socket")
    check_socket(mon_socket, "mon_socket")
    for name, prefix in (("in_prefix", in_prefix), ("out_prefix", out_prefix)):
        if not isinstance(prefix, bytes):
            raise TypeError(
                f"Argument {name!r} has incorrect type "
                f"(expected bytes, got {type(prefix).__name__})"
            )
    swap = in_socket.type == out_socket.type == SocketType.ROUTER
    run_proxy(in_socket, out_socket, mon_socket, prefixes=(in_prefix, out_prefix), swap=swap)

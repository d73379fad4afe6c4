"""What the I/O side (sessions, the direct reader, security) may use of the socket core it serves.

``SocketBase`` implements it; the I/O objects name only this, so they can be built around a fake
in a test and the core can change what it is without them. The threaded fast paths' shared
state (``io_lock``, ``direct_send``, ``in_send``, ``working_here``) is part of it on purpose: the
socket's own thread and the I/O thread coordinate through exactly these (docs/architecture.md).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from ..options import Options
from ..routing.pipe import Peer, PipeListener
from ..routing.sockets import Routing
from .runtime import Runtime
from .signaler import Signaler


class SocketPort(PipeListener, Protocol):
    socket_type_name: str
    options: Options
    routing: Routing
    runtime: Runtime
    closed: bool
    signal: Signaler
    #: Whether termination waits for this socket's sessions to flush (LINGER).
    linger_in_term: bool
    #: The socket's stream sessions (tcp, ipc), for the fast paths.
    sessions: set[Any]
    #: Serialises the I/O thread and the socket's own thread on the socket's sessions.
    io_lock: threading.RLock
    #: A send follows a receive: write it from the socket's thread at once (see SocketBase).
    direct_send: bool
    #: The socket's thread is inside a send (the I/O thread then lets it fill the next batch).
    in_send: bool
    #: The socket's own thread does I/O work holding ``io_lock`` (its own posts need no signal).
    working_here: bool
    #: Where the socket's monitor events go (engine.monitor.Monitor), None when not monitored.
    monitor_sink: Any
    #: Socket.stats()'s totals, which sessions add to (engine.metrics.Counters).
    counters: Any

    @property
    def io_loop(self) -> Any:
        """Where the socket's sessions run (asyncio's loop API, the part the engines use)."""

    def schedule_io(self, callback: Any) -> None: ...

    def io_inline(self) -> bool:
        """Whether the calling thread is the one the sessions run in (asyncio: the loop's), so
        that I/O work may be done at once, with no hand-off."""
        ...

    def post(self, command: str, peer: Peer) -> None: ...

"""ZMTP 3.1 heartbeats (HEARTBEAT_IVL, HEARTBEAT_TIMEOUT, HEARTBEAT_TTL): a connection whose
peer has gone silent -- a dead host, a cut network, a half-open connection -- is dropped, and a
connecting socket reconnects, instead of waiting for TCP to notice (which, without keepalive,
it never does for an idle connection).

Every HEARTBEAT_IVL ms a PING goes out (carrying HEARTBEAT_TTL, in deciseconds, for the peer
to apply to us); if nothing at all has arrived from the peer HEARTBEAT_TIMEOUT ms after a PING
(by default HEARTBEAT_IVL), the connection is dropped. Any traffic counts, not only PONG: a
busy peer may answer late behind its messages.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..constants import SocketOption as Opt
from ..options import Options


class HeartbeatEngine(Protocol):
    #: How many reads brought bytes from the peer so far (any traffic counts as life).
    reads: int
    closed: bool
    failed: bool

    def send_ping(self, ttl_deciseconds: int) -> None: ...

    def peer_silent(self, silent_ms: int) -> None: ...


class Heartbeat:
    __slots__ = ("_engine", "_loop", "_ivl", "_timeout", "_ttl", "_tick", "_check", "_reads")

    def __init__(self, engine: HeartbeatEngine, loop: Any, options: Options) -> None:
        self._engine = engine
        self._loop = loop
        self._ivl = options.int(Opt.HEARTBEAT_IVL) / 1000
        timeout = options.int(Opt.HEARTBEAT_TIMEOUT)
        self._timeout = self._ivl if timeout < 0 else timeout / 1000
        self._ttl = min(options.int(Opt.HEARTBEAT_TTL) // 100, 0xFFFF)
        self._tick: Any = None
        self._check: Any = None
        self._reads = 0

    @staticmethod
    def wanted(options: Options) -> bool:
        return options.int(Opt.HEARTBEAT_IVL) > 0

    def start(self) -> None:
        """From the end of the handshake on."""
        self._tick = self._loop.call_later(self._ivl, self._ping)

    def stop(self) -> None:
        for timer in (self._tick, self._check):
            if timer is not None:
                timer.cancel()
        self._tick = self._check = None

    def _ping(self) -> None:
        engine = self._engine
        if engine.closed or engine.failed:
            return
        engine.send_ping(self._ttl)
        if self._check is None:  # (Else the previous PING's deadline still runs.)
            self._reads = engine.reads
            self._check = self._loop.call_later(self._timeout, self._checked)
        self._tick = self._loop.call_later(self._ivl, self._ping)

    def _checked(self) -> None:
        self._check = None
        engine = self._engine
        if engine.closed or engine.failed:
            return
        if engine.reads == self._reads:
            self.stop()
            engine.peer_silent(round(self._timeout * 1000))

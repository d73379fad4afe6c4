"""The raw engine of STREAM sockets: bytes over a tcp or ipc connection, no ZMTP at all.

No greeting, no framing, no handshake, no security: what the connection brings is delivered as
it was read (one message per read), and each message sent is written as it is. A ``RawSession``
(the session of every STREAM peer, ``SocketBase.open_session``) makes one per connection. They
are the ZMTP ``StreamEngine`` and ``Session`` with the protocol taken out, so the threaded
engine's fast paths (a send written from the socket's thread, a receive reading a borrowed
connection, a full queue written out from the sender's thread) and the asyncio transports drive
them as they drive ZMTP connections.

As libzmq's: with STREAM_NOTIFY (the default) an empty message tells the application that a
connection was made and that it ended; an empty message sent closes the connection (here once
what was sent before it is written), and a connection the application closed is not made again.
"""

from __future__ import annotations

import errno
from typing import Any

from ..constants import Errno, Event
from ..constants import SocketOption as Opt
from ..error import ZMQError
from ..protocol import HandshakeComplete
from ..routing.pipe import Queued
from .session import Session, StreamEngine

_DISCONNECTED = int(Event.DISCONNECTED)
_NO_DETAIL = int(Event.HANDSHAKE_FAILED_NO_DETAIL)
#: What the session is told of a raw connection's "handshake": nothing (it has none).
_NO_HANDSHAKE = HandshakeComplete({}, 1)
#: How often a connection being closed looks whether what it buffered is written (seconds).
_WRITTEN_YET_EVERY = 0.005


def check_raw_transport(socket_type: str, transport: str) -> None:
    """A STREAM's connections are raw tcp or ipc (inproc takes no peer of it): ws:// and
    wss:// carry ZMTP messages, which it has none of (ENOCOMPATPROTO). A DGRAM's datagrams are
    raw UDP: udp:// only."""
    if socket_type == "STREAM" and transport in ("ws", "wss"):
        raise ZMQError(Errno.ENOCOMPATPROTO)
    if socket_type == "DGRAM" and transport != "udp":
        raise ZMQError(Errno.ENOCOMPATPROTO)


class RawEngine(StreamEngine):
    """A connection of a STREAM socket (an asyncio.Protocol in shape, as StreamEngine)."""

    def __init__(self, session: RawSession, prepare: Any = None) -> None:
        # No protocol (and no handshake to time out): every use of ``connection`` is overridden.
        super().__init__(session, None, 0, prepare)  # type: ignore[arg-type]
        self._notify = bool(session.socket.options.int(Opt.STREAM_NOTIFY))
        #: The application closed this connection (it sent empty data): no notification, and
        #: the session ends with it.
        self.closed_here = False
        #: The connection ended while the socket's pipe was full: the session hears of it once
        #: what was read before (and the notification) is delivered.
        self._lost_pending = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # (The monitor's ACCEPTED or CONNECTED.)
        self.ready = self.handshaken = True
        self.session.handshake_complete(self, _NO_HANDSHAKE)  # Attaches an accepted peer.
        if self._notify and not self.closed:
            self.deliver([b""])

    def data_received(self, data: bytes) -> None:
        if self._draining:
            return
        self.reads += 1
        self.deliver([data])

    def body_buffer(self) -> memoryview | None:
        return None  # (Never asked: large_pending stays False.)

    def body_received(self, count: int) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        session = self.session
        if not self._end_told and not session.closing:
            self._end_told = True
            if session.socket.monitor_sink is not None:
                # libzmq 4.3.5 says HANDSHAKE_FAILED_NO_DETAIL (the errno; EPIPE for an end of
                # stream) before DISCONNECTED: its raw engine never leaves its handshaking state.
                self._event(_NO_DETAIL, getattr(exc, "errno", None) or errno.EPIPE)
                self._event(_DISCONNECTED, self.fd)
        self.closed = True
        self.ready = False
        self._cancel_timers()
        if self._notify and not self.closed_here and not session.closing:
            # (Not deliver(): there is no transport to pause now.)
            if self._stalled or not session.peer.inbound.write(b""):
                self._stalled.append(b"")  # The pipe, full, wakes unstall() once read.
        if self._stalled:
            self._lost_pending = True
            return
        session.engine_lost(self)

    def unstall(self) -> None:
        super().unstall()
        if self._lost_pending and not self._stalled:
            self._lost_pending = False
            self.session.engine_lost(self)

    def send(self, messages: list[Queued]) -> None:
        """Write each message's data; empty data closes the connection after what came before."""
        if self.failed or self.closed_here or self.transport is None:
            return
        chunks: list[bytes] = []
        for message in messages:
            data = message if isinstance(message, bytes) else b"".join(message)
            if not data:
                if chunks:
                    self.transport.writelines(chunks)
                self._close_here()
                return
            chunks.append(data)
        if chunks:
            self.transport.writelines(chunks)

    def _close_here(self) -> None:
        self.closed_here = True
        self.ready = False  # (Nothing more is written: the fast paths leave it alone.)
        self.close()  # Written out first; what the peer still sends is not read.

    def close(self) -> None:
        """Close once what was sent is written, as libzmq, without waiting for the peer to
        close its side (a raw peer may never: StreamEngine waits for a ZMTP one's)."""
        self._end_told = True  # (Ours: no monitor event.)
        transport = self.transport
        if transport is None or self.closed or self._draining:
            return
        self._draining = True
        transport.close()  # asyncio's: written out, then closed.
        if not transport.can_write_eof():
            self._close_when_written()  # The I/O thread's: written out, then only shut.

    def _close_when_written(self) -> None:
        self._close_timer = None
        transport = self.transport
        if self.closed or transport is None:
            return
        if transport.get_write_buffer_size():
            self._close_timer = self.session.loop.call_later(
                _WRITTEN_YET_EVERY, self._close_when_written
            )
            return
        transport.abort()  # (All written, and our side shut: the kernel sends the rest.)

    def _flush(self) -> None:
        pass  # (Everything is written as it is sent.)

    def send_ping(self, ttl_deciseconds: int) -> None:
        pass  # (No heartbeats: there is no ZMTP to carry them.)


class RawSession(Session):
    """The session of a STREAM peer: a raw engine per connection."""

    def new_engine(
        self, handshake_ivl: float, prepare: Any = None, direct: bool = False
    ) -> StreamEngine:
        engine = RawEngine(self, prepare)
        engine.direct = direct
        if self.engine is not None:
            self.engine.abort()
        self.engine = engine
        return engine

    def engine_lost(self, engine: StreamEngine) -> None:
        if engine is self.engine and isinstance(engine, RawEngine) and engine.closed_here:
            # Closed by the application: the peer is gone for good (no reconnection), as in
            # libzmq, whose socket terminated the pipe.
            self.engine = None
            self._terminate()
            return
        super().engine_lost(engine)

"""Sessions: the I/O side of one peer's pipes, and the ZMTP engine that serves one connection.

A ``Session`` outlives connections when it belongs to a connecter: messages queued for a peer wait
in its pipe while the connecter reconnects, as libzmq does. A ``StreamEngine`` is the
``asyncio.Protocol``-shaped glue between a byte transport and the sans-IO ``Connection``.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from typing import Any

from ..constants import Event
from ..constants import SocketOption as Opt
from ..protocol import (
    Connection,
    GroupChange,
    HandshakeComplete,
    PeerError,
    PeerTtl,
    ProtocolError,
    SubscriptionChange,
)
from ..protocol.frames import SharedBatch
from ..protocol.mechanisms import AuthRequest, HandshakeRefused
from ..protocol.tls import TlsConnection
from ..protocol.zws import ZwsConnection
from ..routing.draft import Membership
from ..routing.pipe import CONFLATES_IN, CONFLATES_OUT, ConflatePipe, Peer, Pipe, Queued
from ..routing.sockets import HICCUP
from ..transport.address import parse_endpoint, tcp_endpoint_text
from ..transport.selector import CLOSE_WAIT, report_fault
from .heartbeat import Heartbeat
from .monitor import handshake_failure
from .ports import SocketPort
from .security import authenticate, mechanism_for
from .wss import context_for

log = logging.getLogger("purezmq")

_PUBLISHERS = ("PUB", "XPUB", "RADIO")
_SUBSCRIBERS = ("SUB", "XSUB")
#: The types that take HELLO_MSG and HICCUP_MSG (draft options of libzmq 4.3.5).
_HELLO_TYPES = ("ROUTER", "DEALER", "CLIENT", "SERVER", "PEER")
_HICCUP_TYPES = ("DEALER", "CLIENT", "PEER")
_BATCH = 512
#: The longest the socket's thread waits for the I/O thread to let go of the socket's lock.
_LOCK_WAIT = 0.1
#: How long a connection dropped for a fault of its peer's waits for the peer to read what was
#: said last (an ERROR command) and close its side, before it is cut.
FAILED_CLOSE_WAIT = 1.0

_CONNECTED = int(Event.CONNECTED)
_ACCEPTED = int(Event.ACCEPTED)
_DISCONNECTED = int(Event.DISCONNECTED)
_HANDSHAKE_SUCCEEDED = int(Event.HANDSHAKE_SUCCEEDED)
_NO_DETAIL = int(Event.HANDSHAKE_FAILED_NO_DETAIL)


class StreamEngine:
    """Drives a ``Connection`` over a transport for a session (an asyncio.Protocol in shape)."""

    def __init__(
        self,
        session: Session,
        connection: Connection,
        handshake_ivl: float,
        prepare: Any = None,
    ) -> None:
        self.session = session
        self._counters = session.socket.counters
        self._subscriber = session.socket_type in _SUBSCRIBERS
        #: A DISH sends nothing but its groups' JOIN and LEAVE commands.
        self._dish = session.socket_type == "DISH"
        self._prepare = prepare
        self.connection = connection
        self.transport: Any = None
        self.ready = False
        #: The handshake completed once (``ready`` goes back to False when the connection ends).
        self.handshaken = False
        self.write_paused = False
        self.closed = False
        self.refused_by_peer = False
        self.failed = False
        self._draining = False
        #: Whether body_buffer() may offer a buffer now (see FrameDecoder.large_pending).
        self.large_pending = False
        # Decoded, waiting for room in the socket's pipe (reading is paused meanwhile).
        self._stalled: list[Queued] = []
        self._reading_paused = False
        self._handshake_ivl = handshake_ivl
        self._handshake_timer: Any = None
        self._close_timer: Any = None
        self._heartbeat: Heartbeat | None = None
        #: The peer's HEARTBEAT_TTL watch: its timer, and the reads counted when it started.
        self._ttl_timer: Any = None
        self._ttl_reads = 0
        #: Reads that brought bytes (the heartbeat's sign of life).
        self.reads = 0
        #: Whether the socket's own thread may drive this engine (the threaded engine's
        #: transports; an asyncio loop runs everything in one thread anyway).
        self.direct = False
        #: The connection's file descriptor (what libzmq's monitor events carry), and its
        #: addresses for them (found when an event first needs them).
        self.fd = -1
        self.addresses: tuple[str, str, str] | None = None
        #: The end of the connection was reported to the monitor, or is ours (a close, not a
        #: failure): connection_lost reports nothing more.
        self._end_told = False

    def _event(self, event: int, value: int) -> None:
        """Tell the socket's monitor, if it has one, about this connection."""
        sink = self.session.socket.monitor_sink
        if sink is not None:
            sink.emit(event, value, *self.session.event_addresses(self))

    def _ended(self, failure: tuple[int, int] | None) -> None:
        """The connection ends for something the peer did (or did not do): the handshake's
        failure when it had not completed (``failure``, None for none), then DISCONNECTED."""
        if self._end_told:
            return
        self._end_told = True
        counters = self._counters
        counters.disconnections += 1
        if failure is not None and not self.ready:
            counters.handshake_failures += 1
        if self.session.socket.monitor_sink is not None:
            if failure is not None and not self.ready:
                self._event(*failure)
            self._event(_DISCONNECTED, self.fd)

    # asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        try:
            self.fd = transport.get_extra_info("socket").fileno()
        except Exception:  # (A transport without one: a test's.)
            pass
        session = self.session
        self._counters.connections += 1
        if session.socket.monitor_sink is not None:
            self._event(_ACCEPTED if session.connecter is None else _CONNECTED, self.fd)
        if self._prepare is not None:
            self._prepare(transport)
        self._flush()
        if self._handshake_ivl > 0:
            self._handshake_timer = self.session.loop.call_later(
                self._handshake_ivl, self._handshake_timed_out
            )

    # Whatever the peer sends, the worst it can do is have its own connection dropped: nothing
    # raised here may reach the I/O thread's loop or, on the fast paths, the application.

    def data_received(self, data: bytes) -> None:
        if self._draining:
            return
        self.reads += 1
        self._counters.bytes_in += len(data)
        connection = self.connection
        try:
            events = connection.receive_data(data)
            self.large_pending = connection.large_pending
            if connection.only_messages:
                if events:
                    self.deliver(events)  # type: ignore[arg-type]
                return
            self._handle(events)
        except ProtocolError as exc:
            self._receive_failed(exc)
        except Exception as exc:
            self._broke("receiving", exc)

    def body_buffer(self) -> memoryview | None:
        """For the transport: where to read the next bytes directly (a large frame's body).
        (Not asyncio's get_buffer: uvloop would take this for a BufferedProtocol.)"""
        if self._draining:
            return None
        try:
            return self.connection.receive_buffer()
        except Exception as exc:  # MemoryError: the peer announced a frame we cannot hold.
            self._broke("receiving", exc)
            return None

    def body_received(self, count: int) -> None:
        self.reads += 1
        self._counters.bytes_in += count
        connection = self.connection
        try:
            events = connection.received_into(count)
            self.large_pending = connection.large_pending
            self._handle(events)  # (Once per large frame: the general way is fine.)
        except ProtocolError as exc:
            self._receive_failed(exc)
        except Exception as exc:
            self._broke("receiving", exc)

    def _broke(self, doing: str, exc: Exception) -> None:
        """Something other than a protocol error failed while serving this connection: memory
        ran out (a peer announced a frame too large to hold), or a bug. Only this connection
        is dropped; a bug is logged once per kind with its traceback."""
        if isinstance(exc, MemoryError):
            reason = f"out of memory {doing}" + (f" ({exc})" if str(exc) else "")
        else:
            report_fault(f"purezmq {doing} ({self.session.socket_type})", exc)
            reason = f"internal error {doing}: {type(exc).__name__}: {exc}"
        if not self.ready:
            code = errno.ENOMEM if isinstance(exc, MemoryError) else errno.EFAULT
            self._ended((_NO_DETAIL, code))
        try:
            self.fail(f"{self.session.describe()}: {reason}")
        except Exception as again:
            report_fault("dropping a connection", again)
            self.abort()

    def _receive_failed(self, exc: ProtocolError) -> None:
        # What the same read brought before the bad bytes is delivered first, as libzmq, which
        # decodes message by message, would have (a protocol layer that says what it decoded
        # before failing puts it in the exception's ``events``).
        before = getattr(exc, "events", None)
        if before:
            try:
                self._handle(before, flush=False)
            except Exception as again:
                report_fault("purezmq delivering before a protocol error", again)
        if not self.ready and not self.failed and not self.closed:
            refused = isinstance(exc, HandshakeRefused)
            tell_peer = isinstance(exc, HandshakeRefused) and exc.tell_peer
            self._ended(handshake_failure(exc, refused, tell_peer))
        if isinstance(exc, HandshakeRefused):
            if not exc.tell_peer:
                # The peer sent ERROR during the handshake: RFC 37 says not to come back with
                # the same credentials, and libzmq's connecters stop.
                self.refused_by_peer = True
            self.fail(f"handshake with {self.session.describe()} failed: {exc.reason}")
        else:
            self.fail(f"protocol error from {self.session.describe()}: {exc}")

    def auth_reply(
        self, status: bytes, text: str, user_id: bytes, metadata: dict[str, bytes]
    ) -> None:
        if self.closed:
            return
        try:
            events = self.connection.authentication_result(status, text, user_id, metadata)
        except ProtocolError as exc:
            if not self.failed:
                self._ended(self._refusal(exc, status))
            self.fail(f"{self.session.describe()} refused by authentication: {status!r} {text}")
            return
        except Exception as exc:
            self._broke("authenticating", exc)
            return
        try:
            self._handle(events)
        except Exception as exc:
            self._broke("completing the handshake", exc)

    @staticmethod
    def _refusal(exc: ProtocolError, status: bytes) -> tuple[int, int] | None:
        """The monitor event for a peer that the ZAP handler refused (its ``status``)."""
        if not status:  # Nobody answered (no handler): libzmq's EFAULT.
            return (_NO_DETAIL, errno.EFAULT)
        code = status.decode("ascii", "replace")
        if code.isdigit() and len(code) == 3 and code[0] in "345" and code[1:] == "00":
            return (int(Event.HANDSHAKE_FAILED_AUTH), int(code))
        return handshake_failure(exc, True, True)

    def _handle(self, events: list[Any], flush: bool = True) -> None:
        inbound: list[Queued] = []
        for event in events:
            if type(event) is bytes or type(event) is list:
                inbound.append(event)
            elif isinstance(event, SubscriptionChange):
                inbound.append([(b"\x01" if event.subscribe else b"\x00") + event.topic])
            elif isinstance(event, GroupChange):
                inbound.append(Membership(event.join, event.group))  # type: ignore[arg-type]
            elif isinstance(event, HandshakeComplete):
                self._handshake_done(event)
            elif isinstance(event, PeerError):
                if inbound:
                    self.deliver(inbound)
                self.fail(f"peer {self.session.describe()} sent ERROR: {event.reason}")
                return
            elif isinstance(event, PeerTtl):
                self._watch_peer_ttl(event.ttl_ms)
            elif isinstance(event, AuthRequest):
                address = self.transport.get_extra_info("peername") if self.transport else None
                host = str(address[0]).encode() if isinstance(address, tuple) else b""
                authenticate(self.session.socket, event, host, self.auth_reply)
        if inbound:
            self.deliver(inbound)
        if flush:
            self._flush()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._end_told and not self.session.closing:
            # The peer left (or the connection broke): during the handshake with the errno
            # libzmq reports then (EPIPE for an end of stream).
            code = getattr(exc, "errno", None) or errno.EPIPE
            self._ended((_NO_DETAIL, code))
        if not self.ready and not self.failed:
            # A client that connects and leaves without a word (a port probe) is not news.
            silent = self.session.connecter is None and self.connection.state.value == "greeting"
            (log.debug if silent else log.warning)(
                "purezmq: handshake with %s failed: connection closed by the peer%s",
                self.session.describe(),
                f" ({exc})" if exc else "",
            )
        self.closed = True
        self.ready = False
        self._cancel_timers()
        self.session.engine_lost(self)

    def _cancel_timers(self) -> None:
        for timer in (self._handshake_timer, self._close_timer, self._ttl_timer):
            if timer is not None:
                timer.cancel()
        self._handshake_timer = self._close_timer = self._ttl_timer = None
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self.session.pump_out()

    # session side ----------------------------------------------------------------------------

    def _handshake_done(self, event: HandshakeComplete) -> None:
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None
        if self.session.socket.monitor_sink is not None:
            self._event(_HANDSHAKE_SUCCEEDED, 0)
        self.ready = True
        self.handshaken = True
        options = self.session.socket.options
        if Heartbeat.wanted(options) and not self.connection.zmtp2:  # (2.0: no PING.)
            self._heartbeat = Heartbeat(self, self.session.loop, options)
            self._heartbeat.start()
        self.session.handshake_complete(self, event)

    def send_ping(self, ttl_deciseconds: int) -> None:
        self.connection.send_ping(ttl_deciseconds)
        self._flush()

    def _watch_peer_ttl(self, ttl_ms: int) -> None:
        """A PING with a TTL: unless something else arrives within it, the peer is gone (as
        libzmq, a timer from the first such PING; any read since counts as life)."""
        if self._ttl_timer is None and not self.closed:
            self._ttl_reads = self.reads
            self._ttl_timer = self.session.loop.call_later(
                ttl_ms / 1000, self._peer_ttl_expired, ttl_ms
            )

    def _peer_ttl_expired(self, ttl_ms: int) -> None:
        self._ttl_timer = None
        if not self.closed and not self.failed and self.reads == self._ttl_reads:
            self.peer_silent(ttl_ms)

    def peer_silent(self, silent_ms: int) -> None:
        """Nothing came from the peer for ``silent_ms`` after a PING: it is gone (HEARTBEAT_*).
        No goodbye can reach it: cut the connection (a connecter reconnects)."""
        log.info("purezmq: %s sent nothing for %d ms: dropped", self.session.describe(), silent_ms)
        self._ended(None)
        self.abort()

    def _handshake_timed_out(self) -> None:
        if not self.ready and not self.closed:
            self._ended((_NO_DETAIL, errno.EAGAIN))
            self.fail(f"handshake with {self.session.describe()} timed out")

    def deliver(self, messages: list[Queued]) -> None:
        """Hand received messages to the socket; stop reading while its pipe is full."""
        if self._stalled:
            self._stalled.extend(messages)
            return
        self._counters.messages_in += len(messages)
        pipe = self.session.peer.inbound
        written = pipe.write_many(messages)
        if written < len(messages):
            self._stalled = messages[written:]
            self._pause_reading()

    def unstall(self) -> None:
        stalled = self._stalled
        if not stalled:
            return
        pipe = self.session.peer.inbound
        # Offer one more than fits (when there are more), so that the pipe marks us blocked
        # and wakes us again. (Slices of a list: a stream faster than its reader passes most
        # of its messages through here.)
        del stalled[: pipe.write_many(stalled[: pipe.room() + 1])]
        if not stalled:
            self._resume_reading()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and not self.closed:
            self._reading_paused = False
            self.transport.resume_reading()

    def send(self, messages: list[Queued]) -> None:
        """Encode and write ``messages`` (dropped when the connection is failing: its peer is
        being dropped, as libzmq drops what is queued for a peer it disconnects)."""
        connection = self.connection
        try:
            if self._subscriber:  # (SUB and XSUB send lists: they do not send_bodies.)
                for message in messages:
                    if isinstance(message, bytes):
                        message = [message]
                    if len(message) == 1 and message[0][:1] in (b"\x00", b"\x01"):
                        connection.send_subscription(message[0][1:], message[0][:1] == b"\x01")
                    else:
                        connection.send_message(message)
            elif self._dish:
                for change in messages:
                    if type(change) is Membership:
                        connection.send_group_change(change.group, change.join)
            else:
                connection.send_messages(messages)
        except Exception as exc:
            if not self.failed:
                self._broke("sending", exc)
            return
        self._flush()

    def send_shared(self, batch: SharedBatch) -> None:
        """Write a batch bound for many connections: its one encoding where this connection
        sends plain frames, else encoded here as ``send`` does."""
        connection = self.connection
        if type(connection) is Connection and connection.sends_plain_frames:
            connection.send_encoded(batch.chunks())
            self._flush()
        else:
            self.send(batch.messages)

    def _flush(self) -> None:
        transport = self.transport
        if transport is not None:
            chunks = self.connection.data_to_send()
            if chunks:
                self._counters.bytes_out += sum(map(len, chunks))
                transport.writelines(chunks)

    @property
    def idle(self) -> bool:
        return self.transport is None or not self.transport.get_write_buffer_size()

    def fail(self, reason: str) -> None:
        """Drop this connection for what its peer did: it is not used any more (no message is
        sent or delivered through it), what is still to be written (an ERROR command) gets
        FAILED_CLOSE_WAIT to reach the peer, then the connection is cut."""
        if self.failed or self.closed:
            return
        self._ended(None)
        self.failed = True
        self.ready = False  # (The fast paths of the socket's own thread look at this.)
        log.warning("purezmq: dropping connection: %s", reason)
        try:
            self._flush()  # An ERROR command may be waiting.
        except Exception as exc:
            report_fault("purezmq flushing a failed connection", exc)
        self.close()
        self._draining = True  # Whatever the peer sends now is ignored.
        if not self.closed and self.transport is not None:
            self._cancel_timers()
            self._close_timer = self.session.loop.call_later(FAILED_CLOSE_WAIT, self.abort)

    def close(self) -> None:
        """Close gracefully: everything written reaches the peer before the connection ends."""
        self._end_told = True  # (Ours: no monitor event, as libzmq's.)
        transport = self.transport
        if transport is None or self.closed or self._draining:
            return
        if not transport.can_write_eof():
            transport.close()  # The I/O thread's transport half-closes by itself.
            return
        # asyncio: shut our side and wait for the peer's end-of-stream (bounded), because a
        # libzmq peer drops what it has not read yet when the connection simply hangs up.
        self._draining = True
        try:
            transport.write_eof()
        except OSError:  # (The peer reset the connection first: ENOTCONN. Nothing to wait for.)
            transport.abort()
            return
        transport.resume_reading()
        self._close_timer = self.session.loop.call_later(CLOSE_WAIT, self.abort)

    def abort(self) -> None:
        self._end_told = True
        if self.transport is not None and not self.closed:
            self.transport.abort()


class Session:
    """One peer of a socket as the I/O side sees it: the pipes' far ends, and the engine."""

    #: The routing id CONNECT_ROUTING_ID gave this connecter's peer (b"": none).
    assigned_id = b""

    def __init__(self, socket: SocketPort, endpoint: str, connecter: Any = None) -> None:
        self.socket = socket
        self.endpoint = endpoint
        self.connecter = connecter
        self.socket_type = socket.socket_type_name
        self.engine: StreamEngine | None = None
        self.closing = False
        self.finished = False
        self._linger_timer: Any = None
        #: The LINGER this session closes with (the socket's close(linger=) or its option).
        self.linger_ms = -1
        self._pump_scheduled = False
        self.peer = self._new_peer()
        self.connected_before = False
        self.listener: Any = None
        if socket.linger_in_term:
            socket.runtime.session_started(self)
        socket.sessions.add(self)
        if connecter is not None and self._attach_early:
            socket.post("attach", self.peer)

    @property
    def loop(self) -> Any:
        return self.socket.io_loop

    @property
    def _attach_early(self) -> bool:
        return self.socket.routing.attach_before_handshake and not self.socket.options.int(
            Opt.IMMEDIATE
        )

    def describe(self) -> str:
        return self.endpoint

    def event_addresses(self, engine: StreamEngine) -> tuple[str, str, str]:
        """What the monitor's events about ``engine``'s connection name, as libzmq: (the
        endpoint of version 1, the local address, the remote address). Version 1 names a
        connection this socket made by the endpoint connected to, one it accepted by its local
        address (tcp) or the listener's endpoint (ipc)."""
        found = engine.addresses
        if found is not None:
            return found
        listener = self.listener
        bound = listener.endpoint if listener is not None else self.endpoint
        local = remote = ""
        transport = engine.transport
        sock = None if transport is None else transport.get_extra_info("socket")
        try:
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                local = tcp_endpoint_text(sock.family, sock.getsockname())
                peer = transport.get_extra_info("peername") or sock.getpeername()
                remote = tcp_endpoint_text(sock.family, peer)
            elif sock is not None and self.connecter is None:
                local = bound
        except (OSError, AttributeError, IndexError, TypeError):
            pass  # (The connection is gone already: what is known is said.)
        if self.connecter is not None:
            found = (self.endpoint, local, self.endpoint)
        else:
            found = (local or bound, local or bound, remote)
        if sock is not None and (local or sock.family == socket.AF_UNIX):
            engine.addresses = found
        return found

    def _new_peer(self) -> Peer:
        options = self.socket.options
        # CONFLATE: the pipe that carries the socket type's messages keeps only the last one.
        conflate = options.conflate
        in_pipe = ConflatePipe if conflate and self.socket_type in CONFLATES_IN else Pipe
        out_pipe = ConflatePipe if conflate and self.socket_type in CONFLATES_OUT else Pipe
        inbound = in_pipe(options.int(Opt.RCVHWM), reader=self.socket)
        outbound_hwm = 0 if self.socket_type in _SUBSCRIBERS else options.int(Opt.SNDHWM)
        outbound = out_pipe(outbound_hwm, reader=self)
        inbound.writer = self
        outbound.writer = self.socket
        peer = Peer(inbound, outbound, self.endpoint)
        peer.owner = self
        peer.make_room = self.write_here
        peer.assigned_id = self.assigned_id
        return peer

    # Pipe listener: called from the socket's thread ------------------------------------------

    def on_readable(self, pipe: Pipe) -> None:
        socket = self.socket
        if socket.direct_send:
            # A reply, or the next request: written at once, since someone is waiting for it.
            if self._run_here(self.pump_out):
                return
            engine = self.engine
            if engine is not None and socket.io_inline():  # (asyncio: the session's loop.)
                self._guarded(engine, self.pump_out)
                return
        socket.schedule_io(self.pump_out)

    def on_writable(self, pipe: Pipe) -> None:
        if not self._run_here(self._unstall):
            self.socket.schedule_io(self._unstall)

    def write_here(self) -> bool:
        """From the socket's thread: hand what is queued to the connection now (waiting for
        the I/O thread if it is busy with this socket: it holds the lock only briefly)."""
        return self.peer.outbound.peek() and self._run_here(self._pump_all, wait=True)

    def _pump_all(self) -> None:
        """This session's queue, then every other session's of the socket with a backlog: the
        lock that was waited for covers them all. (A PUB whose thread finds one subscriber's
        pipe full finds the others' full next; one lock hand-off instead of one each.)"""
        self.pump_out()
        for session in list(self.socket.sessions):
            if session is not self and session.peer.outbound.peek():
                session._run_here(session.pump_out)  # (The lock is re-entrant: ours already.)

    def _run_here(self, work: Any, wait: bool = False) -> bool:
        """The socket's thread's fast path: do the I/O work now instead of waking the I/O
        thread for it, when this session's connection is up and nobody else is driving it."""
        engine = self.engine
        if engine is None or not engine.ready or not engine.direct:
            return False
        socket = self.socket
        lock = socket.io_lock
        if not (lock.acquire(True, _LOCK_WAIT) if wait else lock.acquire(False)):
            return False
        working = socket.working_here
        socket.working_here = True  # Only while holding the lock (see SocketPort).
        try:
            self._guarded(engine, work)
        finally:
            socket.working_here = working
            lock.release()
        return True

    def _guarded(self, engine: StreamEngine, work: Any) -> None:
        """``work()``; a failure never reaches the application's send or receive: the
        connection is dropped instead."""
        try:
            work()
        except Exception as exc:
            self._work_failed(engine, exc)

    def _work_failed(self, engine: StreamEngine, exc: Exception) -> None:
        report_fault("purezmq I/O in the socket's own thread", exc)
        try:
            engine.fail(f"{self.describe()}: internal error: {type(exc).__name__}: {exc}")
        except Exception:
            engine.abort()

    # I/O thread ------------------------------------------------------------------------------

    def new_engine(
        self, handshake_ivl: float, prepare: Any = None, direct: bool = False
    ) -> StreamEngine:
        """A fresh engine for a new connection; the transport calls its connection_made.
        ``direct``: the socket's own thread may drive it (the threaded engine's transports)."""
        options = self.socket.options
        mechanism, as_server = mechanism_for(options)
        settings: dict[str, Any] = {
            "as_server": as_server,
            "identity": options.bytes(Opt.ROUTING_ID),
            "mechanism": mechanism,
            "max_message_size": options.int(Opt.MAXMSGSIZE),
            # METADATA: "X-" properties in READY/INITIATE, readable with Frame.get by the peer.
            "extra_properties": {k.decode("ascii"): v for k, v in options.metadata.items()},
            "compression": options.compression,
        }
        connection: Any
        if self.endpoint.startswith(("ws://", "wss://")):
            client = self._ws_client()
            connection = ZwsConnection(self.socket_type, client=client, **settings)
            if self.endpoint.startswith("wss://"):
                connection = self._over_tls(connection, client)
        else:
            connection = Connection(self.socket_type, **settings)
        engine = StreamEngine(self, connection, handshake_ivl, prepare)
        engine.direct = direct
        if self.engine is not None:
            self.engine.abort()
        self.engine = engine
        return engine

    def _over_tls(self, connection: Any, client: tuple[str, str] | None) -> TlsConnection:
        """wss://: TLS under ZWS; a client checks the server's name (WSS_HOSTNAME, else the
        endpoint's host) against WSS_TRUST_PEM and, with WSS_TRUST_SYSTEM, the system's CAs."""
        options = self.socket.options
        if client is None:
            return TlsConnection(connection, context_for(options, True), True, None)
        host = client[0].rsplit(":", 1)[0].strip("[]")
        hostname = options.bytes(Opt.WSS_HOSTNAME).decode() or host
        return TlsConnection(connection, context_for(options, False), False, hostname)

    def _ws_client(self) -> tuple[str, str] | None:
        """For a ws:// connect, the Host and path of its upgrade request; None when accepted."""
        if self.connecter is None:
            return None
        endpoint = parse_endpoint(self.endpoint)
        return endpoint.tcp_address.rpartition(";")[2], endpoint.path

    def handshake_complete(self, engine: StreamEngine, event: HandshakeComplete) -> None:
        if self.closing and not self.peer.outbound.peek():
            self._terminate()
            return
        peer = self.peer
        metadata = dict(event.properties)
        address = engine.transport.get_extra_info("peername") if engine.transport else None
        if isinstance(address, tuple):
            metadata.setdefault("Peer-Address", str(address[0]).encode())
        if event.user_id:
            metadata["User-Id"] = event.user_id
        for key in list(metadata):
            if key.lower() == "identity" and key != "Identity":
                metadata["Identity"] = metadata.pop(key)
        peer.metadata = metadata
        options = self.socket.options
        if self.socket_type == "ROUTER" and options.int(Opt.PROBE_ROUTER):
            # PROBE_ROUTER: a ROUTER's pipe is per connection and joins the socket at its next
            # call; libzmq's probe leaves at once on a connect, so it is written here.
            engine.send([b""])
        if self.socket_type in _HELLO_TYPES and options.bytes(Opt.HELLO_MSG):
            # HELLO_MSG: the first message on every new connection, ahead of what is queued.
            engine.send([options.bytes(Opt.HELLO_MSG)])
        if self.connected_before:
            self.socket.counters.reconnects += 1
        if self.connected_before and peer.attached_requested:
            if self.socket_type in _PUBLISHERS:
                peer.inbound.write(HICCUP)
            elif self.socket_type in _HICCUP_TYPES and options.bytes(Opt.HICCUP_MSG):
                # HICCUP_MSG: the application hears that its connection was made again.
                peer.inbound.write(options.bytes(Opt.HICCUP_MSG))
            self.socket.post("hiccup", peer)
        elif not peer.attached_requested:
            self.socket.post("attach", peer)
        self.connected_before = True
        self.pump_out()

    def reject(self) -> None:
        """The socket refused this peer (a second PAIR peer, a duplicate routing id)."""
        self.socket.schedule_io(self._reject)

    def _reject(self) -> None:
        log.warning("purezmq: %s socket refused a peer on %s", self.socket_type, self.endpoint)
        if self.engine is not None:
            self.engine.close()
        if self.connecter is None:
            self._terminate()

    def pump_out(self) -> None:
        engine = self.engine
        if engine is None or not engine.ready:
            return
        outbound = self.peer.outbound
        socket = self.socket
        # (Only the I/O thread ever yields: the socket's own thread, writing here, never peeks.)
        may_yield = engine.direct and not socket.working_here
        while not engine.write_paused and not engine.closed:
            if may_yield and not outbound.peek():
                may_yield = False
                if socket.in_send:
                    # The I/O thread emptied the pipe while the socket's thread is in the middle
                    # of a send (it let the GIL go to wake us): it is streaming. Before sleeping
                    # (and making it pay a wake-up and a GIL hand-off every few messages), let
                    # it fill the next batch. (Only then: an application busy computing would
                    # keep the GIL a whole switch interval, and this thread serves every socket.)
                    time.sleep(0)
                continue
            messages = outbound.read_many(_BATCH)
            if not messages:
                break
            socket.counters.messages_out += len(messages)
            engine.send(messages)
        if self.closing:
            self._check_linger_done()

    def send_now(self, batch: SharedBatch) -> bool:
        """A PUB's distributor (holding the I/O lock): hand ``batch`` to the connection at
        once when it is up, free to write and has nothing queued before it."""
        engine = self.engine
        if (
            engine is None
            or not engine.ready
            or engine.write_paused
            or engine.closed
            or self.peer.outbound.peek()
            or type(self.peer.outbound) is ConflatePipe  # (CONFLATE: only what is queued last.)
        ):
            return False
        self.socket.counters.messages_out += len(batch.messages)
        engine.send_shared(batch)
        return True

    def _unstall(self) -> None:
        if self.engine is not None:
            self.engine.unstall()

    def engine_lost(self, engine: StreamEngine) -> None:
        if engine is not self.engine:
            return
        self.engine = None
        if self.connecter is None or (self.closing and not self.peer.outbound.peek()):
            self._terminate()
            return
        if self.closing and self.linger_ms == 0:
            self._terminate()
            return
        # A connecter keeps its pipes across reconnections, except where a new connection means a
        # new peer (ROUTER's routing ids) or where IMMEDIATE asks for pipes only while connected.
        if self.peer.attached_requested and not self._attach_early:
            self._detach_peer()
            self.peer = self._new_peer()
            self.connected_before = False
        if engine.refused_by_peer:
            log.warning("purezmq: %s refused this socket; not reconnecting", self.endpoint)
            self.connecter.stop()
            return
        self.connecter.connection_lost(handshake_failed=not engine.handshaken)

    def close(self, linger_ms: int) -> None:
        """The socket is closing: flush what is queued within the linger time, then end."""
        if self.closing:
            return
        self.closing = True
        self.linger_ms = linger_ms
        if linger_ms == 0:
            self._terminate()
            return
        if linger_ms > 0:
            self._linger_timer = self.loop.call_later(linger_ms / 1000, self._terminate)
        self.pump_out()
        self._check_linger_done()

    def _check_linger_done(self) -> None:
        """Once everything queued was handed to the transport, close it; the transport writes
        what it still buffers first, and its connection_lost ends the session."""
        if self.finished or self.peer.outbound.peek():
            return
        engine = self.engine
        if engine is None or not engine.ready:
            self._terminate(graceful=True)
        else:
            engine.close()

    def undelivered(self) -> tuple[int, int]:
        """(messages still queued for the peer, bytes written but not yet sent)."""
        engine = self.engine
        transport = None if engine is None else engine.transport
        buffered = 0 if transport is None else transport.get_write_buffer_size()
        return len(self.peer.outbound), buffered

    def can_still_deliver(self) -> bool:
        """Whether a peer is there, or being connected to, to take what is queued: not when the
        connecter waits to try again after a failure (or will never try again)."""
        if self.engine is not None:
            return True
        connecter = self.connecter
        return connecter is not None and not (connecter.stopped or connecter.waiting_to_retry)

    def give_up(self) -> None:
        """End now, dropping what is still queued (the program is ending, see ``lingering``)."""
        self._terminate()

    def _terminate(self, graceful: bool = False) -> None:
        if self.finished:
            return
        self.finished = True
        self.closing = True
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        if self.connecter is not None:
            self.connecter.stop()
        engine = self.engine
        self.engine = None
        if engine is not None:
            engine.close() if graceful else engine.abort()
        self._detach_peer()
        if self.listener is not None:
            self.listener.sessions.discard(self)
        self.socket.sessions.discard(self)
        self.socket.runtime.session_finished(self)

    def _detach_peer(self) -> None:
        peer = self.peer
        peer.outbound.drain()
        peer.inbound.close()
        if peer.attached_requested:
            self.socket.post("detach", peer)

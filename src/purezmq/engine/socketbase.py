"""The engine-independent core of a socket: options, routing, peers, endpoints, and waiting.

The I/O thread and inproc partners never touch the routing state: they post commands (a peer to
attach or detach, a pipe that became readable or writable) to the socket's mailbox and set its
signal. The socket's owner thread applies them whenever it sends, receives or polls.
"""

from __future__ import annotations

import errno
import threading
import time
from collections import deque
from typing import Any

from ..constants import Event, SocketType
from ..constants import SocketOption as Opt
from ..error import Again, ContextTerminated, ZMQError
from ..options import SPECS, Options
from ..routing.pipe import Peer, Pipe, Queued
from ..routing.sockets import ROUTING_BY_TYPE, Pub, Routing
from ..transport import address as addr
from ..transport.stream import Connecter, Listener, listening_socket
from .direct import DirectReader
from .distributor import Distributor
from .iothread import LockedLoop
from .metrics import Counters, socket_stats
from .monitor import ALL_V1, ALL_V2, Monitor
from .pgm import open_pgm
from .raw import RawSession, check_raw_transport
from .runtime import Runtime
from .session import Session
from .signaler import Signaler
from .udp import open_udp

#: getsockopt options that the socket, not its options, knows.
_SOCKET_STATE = frozenset({Opt.EVENTS, Opt.FD, Opt.LAST_ENDPOINT, Opt.TOPICS_COUNT, Opt.RCVMORE})


#: The types a monitor's internal socket may have (zmq_socket_monitor_versioned).
_MONITOR_TYPES = (SocketType.PAIR, SocketType.PUB, SocketType.PUSH)


class SocketBase:
    def __init__(self, runtime: Runtime, socket_type: int, register: bool = True) -> None:
        """``register``: whether the context knows it (term() waits for it, destroy() closes
        it); a monitor's internal socket is the monitored socket's, not the application's."""
        try:
            self.socket_type = SocketType(socket_type)
        except ValueError:
            raise ZMQError(errno.EINVAL) from None
        if self.socket_type.name not in ROUTING_BY_TYPE:
            raise ZMQError(
                errno.EINVAL, f"socket type {self.socket_type.name} is not supported yet"
            )
        self.socket_type_name = self.socket_type.name
        self.runtime = runtime
        # Its type's defaults (LINGER is 0 on SUB), then what the context set for its sockets.
        self.options = Options.for_socket(int(self.socket_type), runtime.socket_defaults)
        self.routing: Routing = ROUTING_BY_TYPE[self.socket_type_name](self.options)
        #: A PUB's fan-out in batches (engine/distributor.py), where this engine has one.
        self.distributor: Distributor | None = None
        if self.fans_out_in_batches and type(self.routing) is Pub:
            self.distributor = Distributor(self, self.options.int(Opt.SNDHWM))
            self.routing.outbox = self.distributor.outbox
        self.mailbox: deque[tuple[str, Peer]] = deque()
        self.signal = self.signaler_class()
        self.closed = False
        # What send and receive look at first, in one attribute each: open, context alive,
        # and the socket type sends (receives). Cleared at close and at the context's term.
        self._send_ok = self.routing.sends
        self._recv_ok = self.routing.receives
        # endpoint text -> the listeners / connecters / inproc links made for it.
        self.endpoints: dict[str, list[Any]] = {}
        self.last_endpoint = b""
        # Serialises the I/O thread and this socket's own thread on its sessions (LockedLoop).
        self.io_lock = threading.RLock()
        self._io_loop: LockedLoop | None = None
        #: The stream sessions (tcp, ipc) of this socket, for the fast paths.
        self.sessions: set[Any] = set()
        #: Socket.stats()'s totals (engine/metrics.py).
        self.counters = Counters()
        #: Set by a receive, cleared by a send: a send that follows a receive (a reply, the next
        #: request) is written at once from this thread, since someone is likely waiting for it;
        #: a send that follows a send leaves the writing to the I/O thread, which batches. A
        #: receive that follows a send waits for an answer: it reads in this thread.
        self.direct_send = False
        #: True while this socket's thread hands a message to its routing: the I/O thread,
        #: woken from within that, knows the sender is streaming (see Session.pump_out).
        self.in_send = False
        #: True only while this socket's own thread does I/O work holding the I/O lock: what
        #: it posts to its own mailbox then needs no signal (it looks at the mailbox next).
        self.working_here = False
        self.direct_reader = DirectReader(self)
        #: The peer the last received message came from.
        self.last_peer: Peer | None = None
        #: Where this socket's events go (``monitor``), or None: the only check made, at
        #: connection events, when nobody monitors the socket.
        self.monitor_sink: Monitor | None = None
        if register:
            runtime.socket_opened(self)
        if runtime.terminated:  # Terminated while this socket was being made.
            self.context_terminated()

    signaler_class: type[Signaler] = Signaler
    #: Whether a PUB of this engine gets a Distributor (the threaded engine's I/O thread).
    fans_out_in_batches = True
    listener_class: Any = Listener
    connecter_class: Any = Connecter
    #: Whether Context.term waits for this socket's sessions to flush (LINGER).
    linger_in_term = True

    @property
    def io_loop(self) -> Any:
        """Where this socket's sessions run: the context's I/O thread for blocking sockets,
        each callback holding the socket's I/O lock (see LockedLoop)."""
        loop = self._io_loop
        if loop is None:
            loop = self._io_loop = LockedLoop(self.runtime.io_thread(), self.io_lock)
        return loop

    def open_session(self, endpoint: str, connecter: Any = None) -> Session:
        """A session for a peer of ``endpoint`` (for a listener's or connecter's connection)."""
        if self.socket_type_name == "STREAM":
            return RawSession(self, endpoint, connecter)  # Raw bytes, no ZMTP.
        return Session(self, endpoint, connecter)

    def start_handle(self, handle: Any) -> None:
        """Start a listener or connecter (the asyncio core may wait for its loop first)."""
        handle.start()

    def io_inline(self) -> bool:
        return False  # (The I/O thread runs the sessions; the fast paths take its lock.)

    def schedule_io(self, callback: Any) -> None:
        """Run ``callback`` soon on the I/O loop, from any thread."""
        self.io_loop.call_soon_threadsafe(callback)

    # -- mailbox ------------------------------------------------------------------------------

    def post(self, command: str, peer: Peer) -> None:
        if command == "attach":
            peer.attached_requested = True
        self.mailbox.append((command, peer))
        self.signal.set()

    def on_readable(self, pipe: Pipe) -> None:
        self.mailbox.append(("in", pipe.reader_peer))  # type: ignore[arg-type]
        if not self.working_here:
            self.signal.set()  # (This thread, doing I/O for itself, looks at its mailbox next.)

    def on_writable(self, pipe: Pipe) -> None:
        self.mailbox.append(("out", pipe.writer_peer))  # type: ignore[arg-type]
        if not self.working_here:
            self.signal.set()

    def process_mailbox(self) -> None:
        mailbox = self.mailbox
        routing = self.routing
        while mailbox:
            command, peer = mailbox.popleft()
            if command == "in":
                routing.readable(peer)
            elif command == "out":
                routing.writable(peer)
            elif command == "attach":
                if peer.detached or peer.attached:
                    continue
                accepts = getattr(routing, "accepts", None)
                if accepts is not None and not accepts(peer):
                    peer.detached = True
                    if peer.owner is not None:
                        peer.owner.reject()
                    continue
                peer.attached = True
                routing.attach(peer)
            elif command == "detach":
                self._detach(peer)
            elif command == "hiccup":
                if peer.attached and not peer.detached:
                    routing.hiccup(peer)

    def _detach(self, peer: Peer) -> None:
        """Take a peer out of routing, once; what it already sent can still be read."""
        if peer.detached:
            return
        peer.detached = True
        if peer.attached:
            self.routing.detach(peer)

    def context_terminated(self) -> None:
        """From the thread that terminates the context: blocked and later calls raise ETERM."""
        self._send_ok = self._recv_ok = False
        self.signal.set()

    def process_forked(self) -> None:
        """In the child of a fork(): every later call takes the slow path (check_open)."""
        self._send_ok = self._recv_ok = False

    def check_open(self) -> None:
        if self.closed:
            raise ZMQError(errno.ENOTSOCK)
        if self.runtime.inherited:
            raise self.runtime.inherited_error()
        if self.runtime.terminated:
            raise ContextTerminated()

    # -- options ------------------------------------------------------------------------------

    def setsockopt(self, option: int, value: Any) -> None:
        """zmq_setsockopt: pyzmq's type checks, then libzmq's (the option, this socket type,
        the value); SUBSCRIBE and UNSUBSCRIBE act on the routing at once, the rest is stored."""
        if self.closed:
            raise ZMQError(errno.ENOTSOCK)
        try:
            stored = self.options.check(option, value)
        except ZMQError:
            self.check_open()  # (libzmq says ETERM before it looks at the option.)
            raise
        self.check_open()
        if option == Opt.SUBSCRIBE or option == Opt.UNSUBSCRIBE:
            routing: Any = self.routing
            # (A PUB's or XPUB's with XPUB_MANUAL: for the peer whose subscription was read last.)
            if hasattr(routing, "subscribe"):
                self.process_mailbox()
                if option == Opt.SUBSCRIBE:
                    routing.subscribe(stored)
                else:
                    routing.unsubscribe(stored)
            return
        if self.distributor is not None:
            # What was sent before goes out under the options it was sent with.
            self.distributor.flush_here()
            if option == Opt.SNDHWM:
                self.distributor.outbox.set_hwm(int(stored))
        self.options.set(option, stored)
        retune = getattr(self.routing, "options_changed", None)
        if retune is not None:
            retune()  # (A routing that chooses its methods by its options: PUB, SUB.)

    def getsockopt(self, option: int) -> int | bytes:
        """zmq_getsockopt: EINVAL for an option this socket type does not read (write-only
        ones too). RCVMORE is the API's (it holds the frames of a message being read)."""
        self.check_open()
        spec = SPECS.get(option)
        if spec is None or not spec.readable or not spec.applies_to(self.socket_type):
            raise ZMQError(errno.EINVAL)
        if option in _SOCKET_STATE:
            if option == Opt.EVENTS:
                return self.events()
            if option == Opt.FD:
                return self.fileno()
            if option == Opt.LAST_ENDPOINT:
                return self.last_endpoint
            if option == Opt.TOPICS_COUNT:
                return self._topics_count()
            return 0  # RCVMORE
        return self.options.get(option)

    def _topics_count(self) -> int:
        """TOPICS_COUNT: the distinct topics a SUB/XSUB subscribed to, or a PUB/XPUB's
        subscribers did."""
        self.process_mailbox()  # (Subscriptions that arrived are taken in.)
        routing: Any = self.routing
        return int(routing.topics_count())

    # -- sending and receiving ----------------------------------------------------------------

    def _deadline(self, flags: int, timeout_ms: int) -> float | None:
        if int(flags) & 1 or timeout_ms == 0:  # (int: an IntFlag's & is a Python call.)
            return 0.0
        if timeout_ms < 0:
            return None
        return time.monotonic() + timeout_ms / 1000

    def _wait(self, deadline: float | None) -> None:
        """Sleep until something changes; Again when the deadline has passed."""
        if deadline is None:
            self.signal.wait(None)
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self.signal.wait(remaining):
            raise Again()

    def _write_here(self) -> None:
        """The pipes are full: rather than sleep until the I/O thread has written them out,
        write them out from this thread (when the connections are free)."""
        for session in list(self.sessions):
            session.write_here()

    def _wait_reading(self, deadline: float | None) -> None:
        """Wait for a message; with a single tcp/ipc connection, read it in this thread when
        this socket waits for an answer (it sent since it last received). A socket that only
        receives is better served by the I/O thread reading ahead while it works: there the
        kernel's copies run outside the GIL, in parallel with the application."""
        reader = self.direct_reader
        if self.sessions and not self.direct_send and reader.wait(deadline):
            return
        if reader.transport is not None:
            reader.release()
        self._wait(deadline)

    def send_message(self, message: Queued, flags: int = 0) -> None:
        """Send ``message``: its frames; or its body alone when it has one frame and the
        routing ``sends_bodies``."""
        if not self._send_ok:
            self.check_open()
            raise ZMQError(errno.ENOTSUP)
        if self.mailbox:
            self.process_mailbox()
        routing = self.routing
        self.in_send = True
        try:
            taken = routing.send(message)
        finally:
            self.in_send = False
        if taken:
            self.direct_send = False
            return
        if self.distributor is not None:
            self.distributor.flush_here()  # (The outbox is full: the I/O thread lags.)
            if routing.send(message):
                return
        if self.sessions:
            self._write_here()
            self.process_mailbox()
            if routing.send(message):
                self.direct_send = False
                return
        deadline = self._deadline(flags, self.options.sndtimeo)
        while True:
            self._wait(deadline)
            self.signal.clear()
            if not self._send_ok:
                self.check_open()
            self.process_mailbox()
            if routing.send(message):
                self.direct_send = False
                return

    def wait_writable(self, flags: int, first: bytes | None = None) -> None:
        """Block (or raise Again) until a message could be sent: for the first frame of one
        (``first``, which a routing that looks at it judges: a STREAM's peer id)."""
        routing = self.routing
        judge = None if first is None else getattr(routing, "first_frame", None)
        if self._send_ok and not self.mailbox and judge is None:
            # The usual case, once a message: open, nothing new from the pipes, room now.
            routing.check_send_state()
            if routing.has_out():
                return
        if not routing.sends:
            self.check_open()
            raise ZMQError(errno.ENOTSUP)
        deadline = self._deadline(flags, self.options.sndtimeo)
        while True:
            self.signal.clear()
            self.check_open()
            self.process_mailbox()
            routing.check_send_state()
            if routing.has_out() if judge is None else judge(first):
                return
            self._wait(deadline)

    def recv_message(self, flags: int = 0) -> Queued:
        """The next message; its peer is ``last_peer`` (metadata for Frames). A message of one
        frame read from a connection comes as its body alone (see pipe.Queued)."""
        if not self._recv_ok:
            self.check_open()
            raise ZMQError(errno.ENOTSUP)
        routing = self.routing
        if routing.ready:
            self.direct_send = True
            self.last_peer = routing.ready_peer
            return routing.ready.popleft()
        found = routing.recv()
        if found is not None:
            self.direct_send = True
            message, self.last_peer = found
            return message
        deadline = self._deadline(flags, self.options.rcvtimeo)
        while True:
            self.signal.clear()
            if not self._recv_ok:  # Closed, or the context terminated, while we waited.
                self.check_open()
            # Nothing in the mailbox means no pipe woke since the last look: no need to look.
            if self.mailbox:
                self.process_mailbox()
                found = routing.recv()
                if found is not None:
                    self.direct_send = True
                    message, self.last_peer = found
                    return message
            if self.sessions or self.direct_reader.transport is not None:
                self._wait_reading(deadline)
            else:  # (inproc only: a call less between waking the peer and sleeping.)
                self._wait(deadline)

    def events(self) -> int:
        self.direct_reader.release()  # What comes next must wake a poller: the I/O thread reads.
        self.signal.clear()
        self.process_mailbox()
        if self.closed:
            return 0
        events = 0
        if self.routing.has_in():
            events |= 1  # POLLIN
        if self.routing.sends and self.routing.has_out():
            events |= 2  # POLLOUT
        return events

    def poll(self, timeout_ms: int | None, flags: int) -> int:
        deadline = (
            None if timeout_ms is None or timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        )
        while True:
            self.check_open()
            ready = self.events() & flags
            if ready:
                return ready
            if deadline is None:
                self.signal.wait(None)
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return 0
                self.signal.wait(remaining)

    # -- monitoring ---------------------------------------------------------------------------

    def monitor(
        self,
        endpoint: str | None,
        events: int = int(Event.ALL),
        version: int = 1,
        socket_type: int = int(SocketType.PAIR),
    ) -> None:
        """zmq_socket_monitor (``version`` 1) and zmq_socket_monitor_versioned: publish this
        socket's ``events`` (a mask) on an internal ``socket_type`` socket (PAIR; PUB or PUSH
        too) bound to the inproc ``endpoint``. A monitor already set is stopped first (with
        MONITOR_STOPPED); ``endpoint`` None only stops it."""
        self.check_open()
        if endpoint is None:
            self.stop_monitor()
            return
        events = int(events)
        if version not in (1, 2) or events < 0 or events & ~(ALL_V1 if version == 1 else ALL_V2):
            raise ZMQError(errno.EINVAL)
        parsed = addr.parse_endpoint(endpoint)
        if parsed.transport != "inproc":
            raise ZMQError(errno.EPROTONOSUPPORT)
        if socket_type not in _MONITOR_TYPES:
            raise ZMQError(errno.EINVAL)
        self.stop_monitor()
        internal = SocketBase(self.runtime, socket_type, register=False)
        try:
            internal.bind(endpoint)
        except BaseException:
            internal.close(0)
            raise
        self.monitor_sink = Monitor(internal, events, version)

    def stop_monitor(self) -> None:
        """Stop monitoring, if the socket is monitored: MONITOR_STOPPED is the last event."""
        sink, self.monitor_sink = self.monitor_sink, None
        if sink is not None:
            sink.stop()

    # -- endpoints ----------------------------------------------------------------------------

    def bind(self, endpoint: str) -> str:
        self.check_open()
        parsed = addr.parse_endpoint(endpoint)
        check_raw_transport(self.socket_type_name, parsed.transport)
        if parsed.transport == "inproc":
            self.runtime.inproc.bind(parsed.address, self)
            self.last_endpoint = endpoint.encode()
            return endpoint
        if parsed.transport in addr.DATAGRAM:
            self._open_datagram(endpoint, parsed, binding=True)
            return endpoint
        sink = self.monitor_sink
        sock, actual, path = listening_socket(endpoint, parsed, self.options, sink)
        if sink is not None:
            sink.emit(int(Event.LISTENING), sock.fileno(), actual, actual)
        listener = self.listener_class(self, sock, actual, path)
        self._remember(actual, listener)
        if actual != endpoint:
            self.endpoints.setdefault(endpoint, []).append(listener)
        self.start_handle(listener)
        return actual

    def connect(self, endpoint: str) -> None:
        self.check_open()
        parsed = addr.parse_endpoint(endpoint)
        check_raw_transport(self.socket_type_name, parsed.transport)
        assigned = self._take_connect_routing_id()
        if parsed.transport == "inproc":
            try:
                link = self.runtime.inproc.connect(parsed.address, self)
            except BaseException:
                self._release_routing_id(assigned)
                raise
            link.connecter_peer.assigned_id = assigned
            self._remember(endpoint, link)
            self.process_mailbox()
            return
        if parsed.transport in addr.DATAGRAM:
            self._open_datagram(endpoint, parsed, binding=False)
            return
        try:
            connecter = self.connecter_class(self, parsed)
        except BaseException:
            self._release_routing_id(assigned)
            raise
        if assigned:
            connecter.session.assigned_id = connecter.session.peer.assigned_id = assigned
        self._remember(endpoint, connecter)
        self.start_handle(connecter)
        # libzmq attaches a connecter's pipe inside connect(): a SUB's subscriptions are queued
        # for the peer right away, not at the socket's next call.
        self.process_mailbox()

    def _open_datagram(self, endpoint: str, parsed: addr.Endpoint, binding: bool) -> None:
        """udp, pgm, epgm: an endpoint that is its one peer, no connection to make."""
        if parsed.transport == "udp":
            handle: Any = open_udp(self, endpoint, parsed.address, binding)
        else:  # (bind and connect are the same for pgm, as in libzmq.)
            handle = open_pgm(self, endpoint, parsed.transport, parsed.address)
        self._remember(endpoint, handle)
        handle.start()
        self.process_mailbox()  # (Attached at once, as a connecter's pipe.)

    def _take_connect_routing_id(self) -> bytes:
        """CONNECT_ROUTING_ID, which only the next connect takes: the routing id this socket
        gives that peer. One in use already is EINVAL (libzmq 4.3.5 asserts)."""
        reserve = getattr(self.routing, "reserve", None)
        if reserve is None:
            return b""
        assigned = self.options.bytes(Opt.CONNECT_ROUTING_ID)
        if not assigned:
            return b""
        if not reserve(assigned):
            raise ZMQError(
                errno.EINVAL, f"CONNECT_ROUTING_ID {assigned!r} is the routing id of another peer"
            )
        self.options.values[Opt.CONNECT_ROUTING_ID] = b""
        return assigned

    def _release_routing_id(self, assigned: bytes) -> None:
        if assigned:
            self.routing.release(assigned)  # type: ignore[attr-defined]

    def _remember(self, endpoint: str, handle: Any) -> None:
        self.endpoints.setdefault(endpoint, []).append(handle)
        self.last_endpoint = endpoint.encode()

    def unbind(self, endpoint: str) -> None:
        self.check_open()
        parsed = addr.parse_endpoint(endpoint)
        if parsed.transport == "inproc":
            if not self.runtime.inproc.unbind(parsed.address, self):
                raise ZMQError(errno.ENOENT)
            self._forget(endpoint)
            return
        handles = [h for h in self.endpoints.get(endpoint, []) if h.role == "listener"]
        if not handles:
            raise ZMQError(errno.ENOENT)
        for listener in handles:
            listener.close(self.options.int(Opt.LINGER), sessions_too=True)
        self._forget(endpoint, *handles)

    def disconnect(self, endpoint: str) -> None:
        self.check_open()
        handles = [h for h in self.endpoints.get(endpoint, []) if h.role in ("connecter", "inproc")]
        if not handles:
            raise ZMQError(errno.ENOENT)
        for handle in handles:
            self._close_handle(handle, self.options.int(Opt.LINGER))
            session = getattr(handle, "session", None)
            self._release_routing_id(getattr(session, "assigned_id", b""))
        self._forget(endpoint, *handles)

    def _forget(self, endpoint: str, *handles: Any) -> None:
        self.endpoints.pop(endpoint, None)
        for key in list(self.endpoints):
            rest = [handle for handle in self.endpoints[key] if handle not in handles]
            if rest:
                self.endpoints[key] = rest
            else:
                del self.endpoints[key]

    def _close_handle(self, handle: Any, linger_ms: int) -> None:
        if handle.role == "listener":
            handle.close(linger_ms, sessions_too=True)
        elif handle.role == "connecter":
            # Like libzmq, stop routing to the peer at once; the session flushes what is queued.
            self._detach(handle.session.peer)
            handle.close(linger_ms)
        elif handle.role == "inproc":
            handle.close_from(self)

    # -- closing ------------------------------------------------------------------------------

    def close(self, linger_ms: int | None = None) -> None:
        if self.closed:
            return
        if linger_ms is None:
            linger_ms = self.options.int(Opt.LINGER)
        if self.distributor is not None:
            self.distributor.flush_here()  # Into the pipes, where LINGER applies.
        self.closed = True
        self._send_ok = self._recv_ok = False
        self.direct_reader.release()
        for name in self.runtime.inproc.bound_by(self):
            self.runtime.inproc.unbind(name, self)
        seen: set[int] = set()
        for handles in self.endpoints.values():
            for handle in handles:
                if id(handle) not in seen:
                    seen.add(id(handle))
                    self._close_handle(handle, linger_ms)
        self.endpoints.clear()
        if self.monitor_sink is not None:
            self.stop_monitor()  # (After the listeners' CLOSED events.)
        self.signal.set()  # Wake a thread still polling this socket.
        self.runtime.socket_closed(self)

    def stats(self) -> dict[str, Any]:
        """Totals since the socket was made, and its current peers (engine/metrics.py)."""
        self.check_open()
        return socket_stats(
            self.counters, self.sessions, self.socket_type_name, self.routing.dropped
        )

    def fileno(self) -> int:
        self.direct_reader.release()
        return self.signal.fileno()

    def __repr__(self) -> str:
        return f"<SocketBase {self.socket_type_name}>"

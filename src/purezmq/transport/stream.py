"""Listeners and reconnecting connecters for the stream transports (tcp and ipc).

A listener or connecter knows the socket it serves only as a ``StreamOwner`` and each peer's
session only as a ``StreamSession`` (both implemented by the engine layer): it opens the kernel
sockets, accepts and connects, and hands each connected socket to a session's new engine over a
``SelectorTransport``. It never touches routing or pipes.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import time
from typing import Any, Protocol

from ..constants import Event
from ..constants import SocketOption as Opt
from ..error import ZMQError
from ..options import Options
from . import address as addr
from .policy import accept_allowed, adopted_listener, bind_to_device, filters_accepts
from .selector import SelectorTransport, report_fault
from .socks import Socks5Client, SocksError, SocksHandshake, parse_proxy

log = logging.getLogger("purezmq")

#: After an accept fails for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM), the listener
#: stops watching its socket this long before it tries again (libzmq backs off likewise),
#: instead of being woken at once by the connection still waiting, forever.
ACCEPT_BACKOFF = 0.1
#: At most one warning per listener this often about accepts failing; the rest are counted.
ACCEPT_WARN_EVERY = 10.0
#: Accept errors that concern one connection only (it went away before it was accepted, or a
#: firewall refused it): the next one is tried at once.
_ACCEPT_SKIP = frozenset(
    code
    for code in (
        errno.ECONNABORTED,
        errno.EPROTO,
        errno.EPERM,
        getattr(errno, "ENOSR", None),
        getattr(errno, "ESOCKTNOSUPPORT", None),
        getattr(errno, "EPROTONOSUPPORT", None),
        getattr(errno, "ETIMEDOUT", None),
    )
    if code is not None
)


_CLOSED = int(Event.CLOSED)
_CLOSE_FAILED = int(Event.CLOSE_FAILED)
_BIND_FAILED = int(Event.BIND_FAILED)
_ACCEPT_FAILED = int(Event.ACCEPT_FAILED)
_CONNECT_DELAYED = int(Event.CONNECT_DELAYED)
_CONNECT_RETRIED = int(Event.CONNECT_RETRIED)
_STOP_CONN_REFUSED = 1  # ReconnectStop.CONN_REFUSED
_STOP_HANDSHAKE_FAILED = 2  # ReconnectStop.HANDSHAKE_FAILED


class EventSink(Protocol):
    """Where a socket's monitor events go (its ``monitor_sink``, None when not monitored)."""

    def emit(
        self, event: int, value: int, endpoint: str, local: str = "", remote: str = ""
    ) -> None: ...


def sink_of(owner: Any) -> EventSink | None:
    """The monitor of the socket a listener or connecter serves, if it has one."""
    return getattr(owner, "monitor_sink", None)


def bound_event(owner: Any, event: int, value: int, endpoint: str) -> None:
    """An event of a listening endpoint (local ``endpoint``, no remote one)."""
    sink = getattr(owner, "monitor_sink", None)
    if sink is not None:
        sink.emit(event, value, endpoint, endpoint, "")


def connect_event(owner: Any, event: int, value: int, endpoint: str) -> None:
    """An event of an endpoint being connected to (no connection, so no local address)."""
    sink = getattr(owner, "monitor_sink", None)
    if sink is not None:
        sink.emit(event, value, endpoint, "", endpoint)


class StreamSession(Protocol):
    """One peer's session, as a listener or connecter sees it."""

    listener: Any
    #: Its socket was closed: it only flushes what is queued (LINGER).
    closing: bool

    @property
    def loop(self) -> Any: ...

    def new_engine(self, handshake_ivl: float, prepare: Any = None, direct: bool = False) -> Any:
        """A fresh protocol (an asyncio.Protocol in shape) for a new connection."""

    def close(self, linger_ms: int) -> None: ...


class StreamOwner(Protocol):
    """The socket a listener or connecter serves."""

    options: Options
    closed: bool

    @property
    def io_loop(self) -> Any: ...

    def open_session(self, endpoint: str, connecter: Any = None) -> StreamSession: ...


def listening_socket(
    endpoint: str, parsed: addr.Endpoint, options: Options, monitor: EventSink | None = None
) -> tuple[socket.socket, str, str]:
    """A bound, listening tcp or ipc socket for ``endpoint``: (socket, the endpoint it really
    is, with the port chosen for ``*``; the ipc file's path, or ""). A failure is reported to
    ``monitor`` as libzmq does: CLOSED for the socket made (when one was), then BIND_FAILED
    (its errno, and the address without the transport)."""
    try:
        return _listening_socket(endpoint, parsed, options, monitor)
    except ZMQError as exc:
        if monitor is not None:
            monitor.emit(_BIND_FAILED, exc.errno or 0, parsed.address, parsed.address, "")
        raise


def _closed_unbound(monitor: EventSink | None, sock: socket.socket, endpoint: str) -> None:
    """The socket of a bind that failed is closed (libzmq says so with no endpoint for tcp)."""
    if monitor is not None:
        monitor.emit(_CLOSED, sock.fileno(), endpoint, endpoint, "")
    sock.close()


def _listening_socket(
    endpoint: str, parsed: addr.Endpoint, options: Options, monitor: EventSink | None
) -> tuple[socket.socket, str, str]:
    backlog = max(1, options.int(Opt.BACKLOG))
    adopted = adopted_listener(endpoint, parsed.transport, options)
    if adopted is not None:
        # USE_FD: the caller bound it (systemd's socket activation); its address is the truth.
        if adopted.family == socket.AF_UNIX:
            return adopted, f"ipc://{adopted.getsockname()}", ""
        return adopted, addr.tcp_endpoint_text(adopted.family, adopted.getsockname()), ""
    if parsed.transport == "wss" and not (
        options.bytes(Opt.WSS_CERT_PEM) and options.bytes(Opt.WSS_KEY_PEM)
    ):
        raise addr.endpoint_error(
            errno.EINVAL, endpoint, "a wss:// bind needs WSS_CERT_PEM and WSS_KEY_PEM"
        )
    if parsed.transport in addr.OVER_TCP:
        family, sockaddr = addr.resolve_tcp_bind(
            endpoint, parsed.tcp_address, bool(options.int(Opt.IPV6))
        )
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            set_tos(sock, options.int(Opt.TOS))  # (Its SYN-ACKs too, as libzmq's.)
            bind_to_device(sock, options)
            sock.bind(sockaddr)
            sock.listen(backlog)
        except OSError as exc:
            _closed_unbound(monitor, sock, "")
            raise addr.endpoint_error(exc.errno or errno.EINVAL, endpoint) from None
        actual = addr.tcp_endpoint_text(family, sock.getsockname())
        if parsed.transport != "tcp":
            actual = parsed.transport + actual[3:] + parsed.path
        return sock, actual, ""
    path, shown = addr.ipc_path(endpoint, parsed.address)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if not path.startswith("\0") and os.path.exists(path):
            os.unlink(path)  # A stale socket file from an earlier run, as libzmq does.
        sock.bind(path)
        sock.listen(backlog)
    except OSError as exc:
        _closed_unbound(monitor, sock, endpoint)
        raise addr.ipc_bind_error(exc, endpoint, parsed.address) from None
    return sock, f"ipc://{shown}", path


def set_tos(sock: socket.socket, tos: int) -> None:
    """The IP type of service (DSCP/ECN octet) of a tcp socket's packets: IP_TOS, and for IPv6
    IPV6_TCLASS as well (a dual-stack socket carries IPv4 packets too), as libzmq sets them."""
    if not tos or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    except OSError:
        if sock.family == socket.AF_INET:
            raise
    if sock.family == socket.AF_INET6 and hasattr(socket, "IPV6_TCLASS"):
        try:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tos)
        except OSError:
            pass  # (IPv6 disabled: libzmq ignores it too.)


def tune_socket(sock: socket.socket, options: Options) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        set_tos(sock, options.int(Opt.TOS))
        keepalive = options.int(Opt.TCP_KEEPALIVE)
        if keepalive >= 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, keepalive)
        for option, name in (
            (Opt.TCP_KEEPALIVE_CNT, "TCP_KEEPCNT"),
            (Opt.TCP_KEEPALIVE_IDLE, "TCP_KEEPIDLE"),
            (Opt.TCP_KEEPALIVE_INTVL, "TCP_KEEPINTVL"),
        ):
            value = options.int(option)
            if value > 0 and hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
        max_retransmit_ms = options.int(Opt.TCP_MAXRT)
        if max_retransmit_ms > 0 and hasattr(socket, "TCP_USER_TIMEOUT"):
            # Unacknowledged data older than this ends the connection (keepalive cannot: it
            # only probes idle ones), as libzmq applies TCP_MAXRT.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, max_retransmit_ms)
    for option, level_name in ((Opt.SNDBUF, socket.SO_SNDBUF), (Opt.RCVBUF, socket.SO_RCVBUF)):
        value = options.int(option)
        if value >= 0:
            sock.setsockopt(socket.SOL_SOCKET, level_name, value)


def handshake_ivl(options: Options) -> float:
    return options.int(Opt.HANDSHAKE_IVL) / 1000


def serve(session: StreamSession, sock: socket.socket, options: Options) -> None:
    """Run a ZMTP engine for ``session`` over a connected socket (in the I/O thread)."""
    engine = session.new_engine(handshake_ivl(options), direct=True)
    SelectorTransport(session.loop, sock, engine)


def listener_closing(owner: Any, sock: socket.socket, endpoint: str, path: str) -> None:
    """A listener is being closed (in the thread that closes it, before its socket is): its
    ipc socket file is removed, and the monitor told CLOSED (the listening socket's fd), or
    CLOSE_FAILED (the errno) when the file could not be removed, as libzmq does."""
    failed = 0
    if path and not path.startswith("\0"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # (Removed by someone else: libzmq says CLOSED too.)
        except OSError as exc:
            failed = exc.errno or errno.EINVAL
    if failed:
        bound_event(owner, _CLOSE_FAILED, failed, endpoint)
    else:
        bound_event(owner, _CLOSED, sock.fileno(), endpoint)


def release_listener(sessions: set[StreamSession], linger_ms: int, sessions_too: bool) -> None:
    """After a listening socket is closed: end its connections (``sessions_too``)."""
    if sessions_too:
        for session in list(sessions):
            session.close(linger_ms)


class Listener:
    """A bound tcp or ipc socket; each accepted connection gets its own session."""

    role = "listener"

    def __init__(self, owner: StreamOwner, sock: socket.socket, endpoint: str, path: str = ""):
        self.owner = owner
        self.sock = sock
        self.endpoint = endpoint
        self.path = path
        self.sessions: set[StreamSession] = set()
        self.closed = False
        self._watching = False
        self._resume_timer: Any = None
        #: Accept failures since the last warning, and when that warning was.
        self._failures = 0
        self._warned_at = -ACCEPT_WARN_EVERY
        self._filtered = filters_accepts(owner.options)
        sock.setblocking(False)

    def start(self) -> None:
        self.owner.io_loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        self._resume_timer = None
        if not self.closed and not self._watching:
            self._watching = True
            self.owner.io_loop.add_reader(self.sock, self._accept)

    def _accept(self) -> None:
        for _ in range(64):
            if self.closed:
                return
            try:
                conn, peer_address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                bound_event(self.owner, _ACCEPT_FAILED, exc.errno or 0, self.endpoint)
                if exc.errno in _ACCEPT_SKIP:
                    log.debug("purezmq: accept on %s failed: %s", self.endpoint, exc)
                    continue
                self._accept_failed(exc)
                self._back_off()
                return
            try:
                conn.setblocking(False)
                if self._filtered and not accept_allowed(conn, self.owner.options):
                    # Refused by TCP_ACCEPT_FILTER / IPC_FILTER_*: libzmq's ACCEPT_FAILED.
                    conn.close()
                    bound_event(self.owner, _ACCEPT_FAILED, errno.EAGAIN, self.endpoint)
                    continue
                tune_socket(conn, self.owner.options)
                if self.owner.closed:
                    conn.close()
                    continue
                name = f"{self.endpoint} <- {peer_address or 'peer'}"
                session = self.owner.open_session(name)
                session.listener = self
                self.sessions.add(session)
                serve(session, conn, self.owner.options)
            except OSError as exc:  # (The peer is gone already: ECONNRESET on setsockopt.)
                conn.close()
                log.debug("purezmq: accepted connection on %s lost: %s", self.endpoint, exc)
            except Exception as exc:  # Out of memory, or a bug: this connection only.
                conn.close()
                report_fault(f"accepting a connection on {self.endpoint}", exc)
                if isinstance(exc, MemoryError):
                    self._back_off()
                    return

    def _accept_failed(self, exc: OSError) -> None:
        """Warn about failing accepts at most once per ACCEPT_WARN_EVERY (with a count)."""
        self._failures += 1
        now = time.monotonic()
        if now - self._warned_at < ACCEPT_WARN_EVERY:
            return
        more = f" ({self._failures - 1} more since the last warning)"
        log.warning(
            "purezmq: accept on %s failed: %s%s; trying again in %d ms",
            self.endpoint,
            exc,
            more if self._failures > 1 else "",
            ACCEPT_BACKOFF * 1000,
        )
        self._failures = 0
        self._warned_at = now

    def _back_off(self) -> None:
        """Stop watching the listening socket for ACCEPT_BACKOFF, then try again."""
        loop = self.owner.io_loop
        if self._watching:
            self._watching = False
            loop.remove_reader(self.sock)
        if self._resume_timer is None and not self.closed:
            self._resume_timer = loop.call_later(ACCEPT_BACKOFF, self._start)

    def close(self, linger_ms: int, sessions_too: bool) -> None:
        """Stop listening (from any thread); with ``sessions_too`` end its connections as well."""
        if not self.closed:
            listener_closing(self.owner, self.sock, self.endpoint, self.path)
        self.closed = True
        self.owner.io_loop.call_soon_threadsafe(self._close, linger_ms, sessions_too)

    def _close(self, linger_ms: int, sessions_too: bool) -> None:
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None
        self._watching = False
        self.owner.io_loop.remove_reader(self.sock)
        self.sock.close()
        release_listener(self.sessions, linger_ms, sessions_too)


class ReconnectingConnecter:
    """What every connecter shares: the endpoint, its session, and the reconnect schedule
    (RECONNECT_IVL, doubling up to RECONNECT_IVL_MAX; -1 means never again)."""

    role = "connecter"

    def __init__(self, owner: StreamOwner, endpoint: addr.Endpoint) -> None:
        self.owner = owner
        self.endpoint = endpoint
        options = owner.options
        self.reconnect_ivl = options.int(Opt.RECONNECT_IVL)
        self.reconnect_ivl_max = options.int(Opt.RECONNECT_IVL_MAX)
        self._current_ivl = self.reconnect_ivl
        self.ipv6 = bool(options.int(Opt.IPV6))
        if endpoint.transport in addr.OVER_TCP:
            self.host, self.port, self.source = addr.parse_tcp_connect(
                str(endpoint), endpoint.tcp_address
            )
        else:
            self.path, _ = addr.ipc_path(str(endpoint), endpoint.address)
        #: Where a tcp connect really goes: SOCKS_PROXY's (host, port), or None.
        self.socks: tuple[str, int] | None = None
        if endpoint.transport == "tcp" and options.bytes(Opt.SOCKS_PROXY):
            try:
                self.socks = parse_proxy(options.bytes(Opt.SOCKS_PROXY).decode())
            except (SocksError, UnicodeError) as exc:
                raise addr.endpoint_error(errno.EINVAL, str(endpoint), str(exc)) from None
        self.reconnect_stop = options.int(Opt.RECONNECT_STOP)
        self._timer: Any = None
        self.stopped = False
        #: Between a failed (or lost) connection and the next attempt: nobody is there now.
        self.waiting_to_retry = False
        self.session = owner.open_session(str(endpoint), connecter=self)

    @property
    def loop(self) -> Any:
        return self.owner.io_loop

    def _attempt(self) -> None:
        raise NotImplementedError

    def _connected_ok(self) -> None:
        self._current_ivl = self.reconnect_ivl

    def _retry(self, refused: bool = False) -> None:
        self.waiting_to_retry = True
        if self.stopped or self.reconnect_ivl < 0:
            return
        if refused and self.reconnect_stop & _STOP_CONN_REFUSED:
            log.debug("purezmq: %s refused the connection; not reconnecting", self.endpoint)
            return
        if self._timer is not None:
            # One attempt failing two ways (asyncio: CONNECT_TIMEOUT expiring just as the
            # transport was made, which the cancel then closes): one retry, not two at once.
            return
        delay = self._current_ivl
        if self.reconnect_ivl_max > self.reconnect_ivl:
            self._current_ivl = min(self._current_ivl * 2, self.reconnect_ivl_max)
        self._timer = self.loop.call_later(delay / 1000, self._try_again)
        connect_event(self.owner, _CONNECT_RETRIED, delay, str(self.endpoint))

    def _try_again(self) -> None:
        self.waiting_to_retry = False
        self._attempt()

    def connection_lost(self, handshake_failed: bool = False) -> None:
        """The session's connection ended; try again after the reconnect interval (unless
        RECONNECT_STOP says not to after a failed handshake)."""
        if handshake_failed and self.reconnect_stop & _STOP_HANDSHAKE_FAILED:
            log.debug("purezmq: handshake with %s failed; not reconnecting", self.endpoint)
            self.waiting_to_retry = True
            return
        self._retry()

    def stop(self) -> None:
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class Connecter(ReconnectingConnecter):
    """Connects a session to its endpoint from the I/O thread, again after each failure."""

    def __init__(self, owner: StreamOwner, endpoint: addr.Endpoint) -> None:
        self._sock: socket.socket | None = None
        self._socks: SocksHandshake | None = None
        self._connect_timer: Any = None
        super().__init__(owner, endpoint)

    def start(self) -> None:
        self.loop.call_soon_threadsafe(self._attempt)

    def _addresses(self) -> list[tuple[int, Any]]:
        if self.endpoint.transport == "ipc":
            return [(socket.AF_UNIX, self.path)]
        if self.socks is not None:
            return addr.resolve_tcp_connect(self.socks[0], self.socks[1], self.ipv6)
        return addr.resolve_tcp_connect(self.host, self.port, self.ipv6)

    def _attempt(self) -> None:
        self._timer = None
        if self.stopped:
            return
        try:
            family, sockaddr = self._addresses()[0]
        except (OSError, IndexError, UnicodeError) as exc:
            log.info("purezmq: cannot resolve %s: %s", self.endpoint, exc)
            self._retry()
            return
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # (EMFILE: out of descriptors; try again later.)
            log.debug("purezmq: cannot connect to %s now: %s", self.endpoint, exc)
            self._retry()
            return
        try:
            bind_to_device(sock, self.owner.options)
        except OSError as exc:  # (ENODEV: libzmq retries without a CLOSED event too.)
            log.info("purezmq: cannot connect to %s: BINDTODEVICE: %s", self.endpoint, exc)
            sock.close()
            self._retry()
            return
        try:
            sock.setblocking(False)
            tune_socket(sock, self.owner.options)
            if self.endpoint.transport in addr.OVER_TCP and self.source:
                source_host, _, source_port = self.source.rpartition(":")
                sock.bind((source_host.strip("[]") or "", int(source_port or 0)))
            code = sock.connect_ex(sockaddr)
        except OSError as exc:
            code = exc.errno or errno.ECONNREFUSED
        if code not in (0, errno.EINPROGRESS, errno.EAGAIN):
            self._closed_attempt(sock)
            self._retry(refused=code == errno.ECONNREFUSED)
            return
        if code:
            connect_event(self.owner, _CONNECT_DELAYED, code, str(self.endpoint))
        self._sock = sock
        self.loop.add_writer(sock, self._connected)
        timeout_ms = self.connect_timeout_ms()
        if timeout_ms > 0 and code:
            self._connect_timer = self.loop.call_later(timeout_ms / 1000, self._timed_out, sock)

    def _closed_attempt(self, sock: socket.socket) -> None:
        """Close the socket of an attempt that failed (the monitor hears CLOSED, as libzmq's)."""
        connect_event(self.owner, _CLOSED, sock.fileno(), str(self.endpoint))
        sock.close()

    def connect_timeout_ms(self) -> int:
        """CONNECT_TIMEOUT: how long a tcp connect may take before it is given up and tried
        again after the reconnect interval (0: as long as the kernel takes; ipc: no limit)."""
        if self.endpoint.transport not in addr.OVER_TCP:
            return 0
        return self.owner.options.int(Opt.CONNECT_TIMEOUT)

    def _timed_out(self, sock: socket.socket) -> None:
        self._connect_timer = None
        if self._sock is not sock:
            return
        log.debug("purezmq: connecting to %s timed out", self.endpoint)
        connect_event(self.owner, _CLOSED, sock.fileno(), str(self.endpoint))
        self._abandon()
        self._retry()

    def _abandon(self) -> None:
        """Give the connection attempt in progress up, closing its socket."""
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None
        sock, self._sock = self._sock, None
        if sock is not None:
            self.loop.remove_writer(sock)
            if self._socks is not None:
                self._socks.cancel()
                self._socks = None
            sock.close()

    def _connected(self) -> None:
        sock = self._sock
        if sock is None:
            return
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None
        self.loop.remove_writer(sock)
        self._sock = None
        try:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except OSError as exc:
            code = exc.errno or errno.ECONNREFUSED
        if code or self.stopped:
            if self.stopped:
                sock.close()
            else:
                self._closed_attempt(sock)
            self._retry(refused=code == errno.ECONNREFUSED)
            return
        if self.socks is not None:
            options = self.owner.options
            client = Socks5Client(
                self.host,
                self.port,
                options.bytes(Opt.SOCKS_USERNAME),
                options.bytes(Opt.SOCKS_PASSWORD),
            )
            self._sock = sock
            self._socks = SocksHandshake(
                self.loop, sock, client, handshake_ivl(options), self._socks_done
            )
            return
        self._serve(sock)

    def _socks_done(self, sock: socket.socket, failure: str | None) -> None:
        self._socks = None
        if self._sock is not sock:
            return  # (Abandoned meanwhile: stopped.)
        self._sock = None
        if failure is None:
            self._serve(sock)
            return
        log.info("purezmq: SOCKS proxy for %s: %s", self.endpoint, failure)
        self._closed_attempt(sock)
        self._retry()

    def _serve(self, sock: socket.socket) -> None:
        self._connected_ok()
        try:
            serve(self.session, sock, self.owner.options)
        except Exception as exc:  # Out of memory, or a bug: this attempt fails, try again.
            sock.close()
            report_fault(f"connecting to {self.endpoint}", exc)
            self._retry()

    def stop(self) -> None:
        super().stop()
        self._abandon()

    def close(self, linger_ms: int) -> None:
        self.loop.call_soon_threadsafe(self.session.close, linger_ms)

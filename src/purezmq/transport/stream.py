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
from typing import Any, Protocol

from ..constants import SocketOption as Opt
from ..options import Options
from . import address as addr
from .selector import SelectorTransport

log = logging.getLogger("purezmq")


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
    endpoint: str, parsed: addr.Endpoint, options: Options
) -> tuple[socket.socket, str, str]:
    """A bound, listening tcp or ipc socket for ``endpoint``: (socket, the endpoint it really
    is, with the port chosen for ``*``; the ipc file's path, or "")."""
    backlog = max(1, options.int(Opt.BACKLOG))
    if parsed.transport == "tcp":
        family, sockaddr = addr.resolve_tcp_bind(
            endpoint, parsed.address, bool(options.int(Opt.IPV6))
        )
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(sockaddr)
            sock.listen(backlog)
        except OSError as exc:
            sock.close()
            raise addr.endpoint_error(exc.errno or errno.EINVAL, endpoint) from None
        return sock, addr.tcp_endpoint_text(family, sock.getsockname()), ""
    path, shown = addr.ipc_path(endpoint, parsed.address)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if not path.startswith("\0") and os.path.exists(path):
            os.unlink(path)  # A stale socket file from an earlier run, as libzmq does.
        sock.bind(path)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise addr.ipc_bind_error(exc, endpoint, parsed.address) from None
    return sock, f"ipc://{shown}", path


def tune_socket(sock: socket.socket, options: Options) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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


def release_listener(
    path: str, sessions: set[StreamSession], linger_ms: int, sessions_too: bool
) -> None:
    """After a listening socket is closed: remove its ipc socket file, end its connections."""
    if path and not path.startswith("\0"):
        try:
            os.unlink(path)
        except OSError:
            pass
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
        sock.setblocking(False)

    def start(self) -> None:
        self.owner.io_loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        if not self.closed:
            self.owner.io_loop.add_reader(self.sock, self._accept)

    def _accept(self) -> None:
        for _ in range(64):
            try:
                conn, peer_address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("purezmq: accept on %s failed: %s", self.endpoint, exc)
                return
            conn.setblocking(False)
            tune_socket(conn, self.owner.options)
            if self.owner.closed:
                conn.close()
                continue
            name = f"{self.endpoint} <- {peer_address or 'peer'}"
            session = self.owner.open_session(name)
            session.listener = self
            self.sessions.add(session)
            serve(session, conn, self.owner.options)

    def close(self, linger_ms: int, sessions_too: bool) -> None:
        """Stop listening (from any thread); with ``sessions_too`` end its connections as well."""
        self.closed = True
        self.owner.io_loop.call_soon_threadsafe(self._close, linger_ms, sessions_too)

    def _close(self, linger_ms: int, sessions_too: bool) -> None:
        self.owner.io_loop.remove_reader(self.sock)
        self.sock.close()
        release_listener(self.path, self.sessions, linger_ms, sessions_too)


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
        if endpoint.transport == "tcp":
            self.host, self.port, self.source = addr.parse_tcp_connect(
                str(endpoint), endpoint.address
            )
        else:
            self.path, _ = addr.ipc_path(str(endpoint), endpoint.address)
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

    def _retry(self) -> None:
        self.waiting_to_retry = True
        if self.stopped or self.reconnect_ivl < 0:
            return
        delay = self._current_ivl
        if self.reconnect_ivl_max > self.reconnect_ivl:
            self._current_ivl = min(self._current_ivl * 2, self.reconnect_ivl_max)
        self._timer = self.loop.call_later(delay / 1000, self._try_again)

    def _try_again(self) -> None:
        self.waiting_to_retry = False
        self._attempt()

    def connection_lost(self) -> None:
        """The session's connection ended; try again after the reconnect interval."""
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
        super().__init__(owner, endpoint)

    def start(self) -> None:
        self.loop.call_soon_threadsafe(self._attempt)

    def _addresses(self) -> list[tuple[int, Any]]:
        if self.endpoint.transport == "ipc":
            return [(socket.AF_UNIX, self.path)]
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
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            tune_socket(sock, self.owner.options)
            if self.endpoint.transport == "tcp" and self.source:
                source_host, _, source_port = self.source.rpartition(":")
                sock.bind((source_host.strip("[]") or "", int(source_port or 0)))
            code = sock.connect_ex(sockaddr)
        except OSError as exc:
            code = exc.errno or errno.ECONNREFUSED
        if code not in (0, errno.EINPROGRESS, errno.EAGAIN):
            sock.close()
            self._retry()
            return
        self._sock = sock
        self.loop.add_writer(sock, self._connected)

    def _connected(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self.loop.remove_writer(sock)
        self._sock = None
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code or self.stopped:
            sock.close()
            self._retry()
            return
        self._connected_ok()
        serve(self.session, sock, self.owner.options)

    def stop(self) -> None:
        super().stop()
        if self._sock is not None:
            self.loop.remove_writer(self._sock)
            self._sock.close()
            self._sock = None

    def close(self, linger_ms: int) -> None:
        self.loop.call_soon_threadsafe(self.session.close, linger_ms)

"""Listeners and reconnecting connecters for tcp and ipc on an asyncio event loop.

Only portable loop APIs are used (create_server/create_connection with their unix variants), so
the engine runs on the default loop, on uvloop, and on loops without add_reader.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

from ..constants import Event
from ..constants import SocketOption as Opt
from ..options import Options
from . import address as addr
from .policy import accept_allowed, bind_to_device, filters_accepts
from .socks import Socks5Client, SocksError
from .stream import (
    ReconnectingConnecter,
    StreamOwner,
    StreamSession,
    bound_event,
    connect_event,
    handshake_ivl,
    listener_closing,
    release_listener,
    tune_socket,
)

log = logging.getLogger("purezmq")

_CONNECT_DELAYED = int(Event.CONNECT_DELAYED)
_CLOSED = int(Event.CLOSED)
_ACCEPT_FAILED = int(Event.ACCEPT_FAILED)


class AsyncListener:
    role = "listener"

    def __init__(self, owner: StreamOwner, sock: socket.socket, endpoint: str, path: str = ""):
        self.owner = owner
        self.sock = sock
        self.endpoint = endpoint
        self.path = path
        self.sessions: set[StreamSession] = set()
        self.closed = False
        self._server: asyncio.AbstractServer | None = None
        self._task: asyncio.Task[None] | None = None
        sock.setblocking(False)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.owner.io_loop

    def start(self) -> None:
        self._task = self.loop.create_task(self._serve())

    async def _serve(self) -> None:
        if self.sock.family == socket.AF_UNIX:
            server = await self.loop.create_unix_server(self._new_engine, sock=self.sock)
        else:
            server = await self.loop.create_server(self._new_engine, sock=self.sock)
        if self.closed:
            server.close()
        self._server = server

    def _new_engine(self) -> Any:
        if filters_accepts(self.owner.options):
            return _AcceptGate(self)
        return self._session_engine()

    def _session_engine(self) -> Any:
        session = self.owner.open_session(self.endpoint)
        session.listener = self
        self.sessions.add(session)
        options = self.owner.options
        return session.new_engine(handshake_ivl(options), prepare=_prepare_for(options))

    def close(self, linger_ms: int, sessions_too: bool) -> None:
        if not self.closed:
            listener_closing(self.owner, self.sock, self.endpoint, self.path)
        self.closed = True
        if self._server is not None:
            self._server.close()
        elif self._task is not None and not self._task.done():
            self._task.cancel()
            self.sock.close()
        else:
            self.sock.close()
        release_listener(self.sessions, linger_ms, sessions_too)


class _AcceptGate(asyncio.Protocol):
    """A new connection's first protocol where TCP_ACCEPT_FILTER or IPC_FILTER_* are set: the
    peer is checked before a session is opened for it (refused: closed, and ACCEPT_FAILED as
    libzmq's listener says), then the session's engine takes the transport over."""

    def __init__(self, listener: AsyncListener) -> None:
        self.listener = listener

    def connection_made(self, transport: Any) -> None:
        listener = self.listener
        sock = transport.get_extra_info("socket")
        if sock is None or not accept_allowed(sock, listener.owner.options):
            transport.abort()
            bound_event(listener.owner, _ACCEPT_FAILED, errno.EAGAIN, listener.endpoint)
            return
        engine = listener._session_engine()
        transport.set_protocol(engine)
        engine.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        pass


def _prepare_for(options: Options) -> Any:
    """Set the socket options on an asyncio transport's socket once it is connected."""

    def prepare(transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                tune_socket(sock, options)
            except (OSError, TypeError, AttributeError, ValueError):
                pass

    return prepare


class AsyncConnecter(ReconnectingConnecter):
    """Connects a session with the loop's create_connection, again after each failure."""

    def __init__(self, owner: StreamOwner, endpoint: addr.Endpoint) -> None:
        self._task: asyncio.Task[None] | None = None
        super().__init__(owner, endpoint)

    def start(self) -> None:
        self._attempt()

    def _attempt(self) -> None:
        self._timer = None
        if not self.stopped:
            self._task = self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        session = self.session
        options = self.owner.options
        ivl = handshake_ivl(options)
        prepare = _prepare_for(options)

        def factory() -> Any:
            return session.new_engine(ivl, prepare=prepare)

        try:
            if self.endpoint.transport == "ipc":
                await self.loop.create_unix_connection(factory, self.path)
            elif self.socks is not None or options.bytes(Opt.BINDTODEVICE):
                connect_event(self.owner, _CONNECT_DELAYED, errno.EINPROGRESS, str(self.endpoint))
                connecting = self._connect_own_socket(factory)
                timeout_ms = options.int(Opt.CONNECT_TIMEOUT)
                if timeout_ms > 0:
                    await asyncio.wait_for(connecting, timeout_ms / 1000)
                else:
                    await connecting
            else:
                # (A tcp connect is under way once the loop has made the socket: libzmq's
                # CONNECT_DELAYED, EINPROGRESS.)
                connect_event(self.owner, _CONNECT_DELAYED, errno.EINPROGRESS, str(self.endpoint))
                family = 0 if self.ipv6 or ":" in self.host else socket.AF_INET
                local = None
                if self.source:
                    host, _, port = self.source.rpartition(":")
                    local = (host.strip("[]") or "0.0.0.0", int(port or 0))
                connecting = self.loop.create_connection(
                    factory, self.host, self.port, family=family, local_addr=local
                )
                timeout_ms = options.int(Opt.CONNECT_TIMEOUT)
                if timeout_ms > 0:
                    # (Cancelled at the deadline: the loop closes the socket it was connecting.)
                    await asyncio.wait_for(connecting, timeout_ms / 1000)
                else:
                    await connecting
        except asyncio.CancelledError:
            if not self.stopped and self.session.closing:
                # Not stop(): the loop is ending (asyncio.run cancels every task it has). What
                # is queued may still go out while the closed socket's linger task keeps the
                # loop running: the attempt starts again, in a task the ending loop did not
                # cancel.
                self._attempt()
            raise
        except (OSError, ValueError, UnicodeError, asyncio.TimeoutError, SocksError) as exc:
            log.debug("purezmq: connecting to %s failed: %r", self.endpoint, exc)
            if not isinstance(exc, (socket.gaierror, UnicodeError, ValueError)):
                # The attempt's socket was closed (by the loop: its fd is not known here).
                connect_event(self.owner, _CLOSED, -1, str(self.endpoint))
            self._retry(refused=isinstance(exc, ConnectionRefusedError))
            return
        self._connected_ok()

    async def _connect_own_socket(self, factory: Any) -> None:
        """A tcp connect on a socket made here (BINDTODEVICE set on it first), through the
        SOCKS_PROXY when there is one, then handed to the loop as a transport."""
        options = self.owner.options
        host, port = self.socks if self.socks is not None else (self.host, self.port)
        family = 0 if self.ipv6 or ":" in host else socket.AF_INET
        infos = await self.loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        if not infos:
            raise OSError(errno.EHOSTUNREACH, f"cannot resolve {host}")
        family, kind, proto, _, sockaddr = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            bind_to_device(sock, options)
            if self.source:
                source_host, _, source_port = self.source.rpartition(":")
                sock.bind((source_host.strip("[]") or "", int(source_port or 0)))
            await self.loop.sock_connect(sock, sockaddr)
            if self.socks is not None:
                client = Socks5Client(
                    self.host,
                    self.port,
                    options.bytes(Opt.SOCKS_USERNAME),
                    options.bytes(Opt.SOCKS_PASSWORD),
                )
                handshake = self._socks_handshake(sock, client)
                ivl = handshake_ivl(options)
                await (asyncio.wait_for(handshake, ivl) if ivl > 0 else handshake)
            await self.loop.create_connection(factory, sock=sock)
        except BaseException:
            sock.close()
            raise

    async def _socks_handshake(self, sock: socket.socket, client: Socks5Client) -> None:
        await self.loop.sock_sendall(sock, client.greeting())
        while not client.done:
            data = await self.loop.sock_recv(sock, client.needed())
            if not data:
                raise SocksError("the proxy closed the connection")
            answer = client.receive(data)
            if answer:
                await self.loop.sock_sendall(sock, answer)

    def stop(self) -> None:
        super().stop()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def close(self, linger_ms: int) -> None:
        self.session.close(linger_ms)

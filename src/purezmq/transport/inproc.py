"""inproc://: sockets of one Context joined by a pair of pipes, with no wire encoding at all.

Each end is an ``InprocParty``: a socket core, or the context's ZAP client. The link only wires
pipes and posts attach/detach commands to the parties; it never reads or writes messages.
"""

from __future__ import annotations

import errno
import logging
import threading
from typing import Protocol

from ..constants import SocketOption as Opt
from ..options import Options
from ..protocol.connection import COMPATIBLE_PEERS
from ..routing.pipe import CONFLATES_IN, CONFLATES_OUT, Peer, Pipe, PipeListener, make_conflating
from .address import endpoint_error


class RoutingTraits(Protocol):
    @property
    def attach_before_handshake(self) -> bool: ...


class InprocParty(PipeListener, Protocol):
    """What one end of an inproc link offers: its type and options, a mailbox for attach and
    detach, and the pipe listener calls (it reads the pipe it is given, and writes the other)."""

    socket_type_name: str
    options: Options

    @property
    def routing(self) -> RoutingTraits: ...

    def post(self, command: str, peer: Peer) -> None: ...


log = logging.getLogger("purezmq")


def _pipe_hwm(writer: InprocParty, reader: InprocParty | None) -> int:
    send = writer.options.int(Opt.SNDHWM)
    receive = (
        reader.options.int(Opt.RCVHWM) if reader is not None else writer.options.int(Opt.RCVHWM)
    )
    return 0 if not send or not receive else send + receive


def _conflate(socket: InprocParty, inbound: Pipe, outbound: Pipe) -> None:
    """CONFLATE, on whichever end sets it (libzmq looks at the connecter's alone)."""
    if socket.options.conflate:
        if socket.socket_type_name in CONFLATES_IN:
            make_conflating(inbound)
        if socket.socket_type_name in CONFLATES_OUT:
            make_conflating(outbound)


def _metadata(socket: InprocParty) -> dict[str, bytes]:
    metadata = {"Socket-Type": socket.socket_type_name.encode()}
    if socket.socket_type_name in ("REQ", "DEALER", "ROUTER"):
        metadata["Identity"] = socket.options.bytes(Opt.ROUTING_ID)
    return metadata


class InprocLink:
    """One inproc connection: the connecting socket's peer and (once bound) the binder's."""

    role = "inproc"

    def __init__(self, registry: InprocRegistry, name: str, connecter: InprocParty) -> None:
        self.registry = registry
        self.name = name
        self.connecter = connecter
        self.binder: InprocParty | None = None
        self.to_binder = Pipe(_pipe_hwm(connecter, None))
        self.to_connecter = Pipe(_pipe_hwm(connecter, None))
        _conflate(connecter, self.to_connecter, self.to_binder)
        self.connecter_peer = Peer(self.to_connecter, self.to_binder, f"inproc://{name}")
        self.binder_peer = Peer(self.to_binder, self.to_connecter, f"inproc://{name}")
        self.connecter_peer.owner = self
        self.binder_peer.owner = self
        self.to_connecter.reader = connecter
        self.to_binder.writer = connecter
        self.closed = False

    def join(self, binder: InprocParty) -> None:
        """The name is bound: give the binder its end."""
        connecter = self.connecter
        # (STREAM, which speaks no ZMTP, has no compatible peer at all.)
        if connecter.socket_type_name not in COMPATIBLE_PEERS.get(binder.socket_type_name, ()):
            log.warning(
                "purezmq: inproc://%s: a %s socket cannot connect to a %s socket",
                self.name,
                connecter.socket_type_name,
                binder.socket_type_name,
            )
            self.close_from(connecter)
            return
        self.binder = binder
        self.to_binder.set_hwm(_pipe_hwm(connecter, binder))
        self.to_connecter.set_hwm(_pipe_hwm(binder, connecter))
        _conflate(binder, self.to_binder, self.to_connecter)
        self.to_binder.reader = binder
        self.to_connecter.writer = binder
        self.connecter_peer.metadata = _metadata(binder)
        self.binder_peer.metadata = _metadata(connecter)
        if not connecter.routing.attach_before_handshake:
            connecter.post("attach", self.connecter_peer)
        binder.post("attach", self.binder_peer)

    def reject(self) -> None:
        self.close_from(None)

    def close_from(self, closer: InprocParty | None) -> None:
        """One side closed or disconnected: the other side drains what is queued, then detaches."""
        if self.closed:
            return
        self.closed = True
        self.registry.forget(self)
        for socket, peer, inbound in (
            (self.connecter, self.connecter_peer, self.to_connecter),
            (self.binder, self.binder_peer, self.to_binder),
        ):
            if socket is None:
                continue
            inbound.close()
            if socket is not closer and peer.attached_requested:
                socket.post("detach", peer)
            elif socket is closer:
                peer.detached = True


class InprocRegistry:
    """The inproc names bound in one Context, and connections waiting for a name to be bound."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bound: dict[str, InprocParty] = {}
        self._links: dict[str, list[InprocLink]] = {}

    def bind(self, name: str, socket: InprocParty) -> None:
        with self._lock:
            if name in self._bound:
                raise endpoint_error(errno.EADDRINUSE, f"inproc://{name}")
            self._bound[name] = socket
            waiting = [link for link in self._links.get(name, []) if link.binder is None]
        for link in waiting:
            link.join(socket)

    def unbind(self, name: str, socket: InprocParty) -> bool:
        with self._lock:
            if self._bound.get(name) is not socket:
                return False
            del self._bound[name]
            links = [link for link in self._links.get(name, []) if link.binder is socket]
        for link in links:
            link.close_from(socket)
        return True

    def connect(self, name: str, socket: InprocParty) -> InprocLink:
        link = InprocLink(self, name, socket)
        with self._lock:
            self._links.setdefault(name, []).append(link)
            binder = self._bound.get(name)
        if socket.routing.attach_before_handshake:
            socket.post("attach", link.connecter_peer)
        if binder is not None:
            link.join(binder)
        return link

    def forget(self, link: InprocLink) -> None:
        with self._lock:
            links = self._links.get(link.name)
            if links and link in links:
                links.remove(link)
                if not links:
                    del self._links[link.name]

    def bound_socket(self, name: str) -> InprocParty | None:
        with self._lock:
            return self._bound.get(name)

    def bound_by(self, socket: InprocParty) -> list[str]:
        with self._lock:
            return [name for name, owner in self._bound.items() if owner is socket]

"""DGRAM (libzmq's draft): raw UDP datagrams on a bound udp:// endpoint. A message is two
frames, the far end's address (``ip:port``) and the body: what came in from that address, or
what goes out to it. One endpoint per socket, as libzmq (a second one is not heard).

(This module registers Dgram in ``sockets.ROUTING_BY_TYPE`` when it is imported, which the
package's ``__init__`` does.)
"""

from __future__ import annotations

import errno
import ipaddress

from ..error import ZMQError
from .pipe import Message, Peer
from .sockets import ROUTING_BY_TYPE, RoutingOptions, _FairQueued

#: The largest body a DGRAM sends: what one UDP datagram over IPv4 carries.
MAX_BODY = 65507


def peer_address(frame: bytes) -> tuple[str, int] | None:
    """A DGRAM's address frame, ``ip:port`` (numeric, as libzmq takes it; the NUL at the end
    of libzmq's own address frames allowed): the destination, or None when it is not one."""
    try:
        text = frame.rstrip(b"\0").decode("ascii")
    except UnicodeDecodeError:
        return None
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return None
    return host, int(port)


def address_frame(source: tuple[str, int]) -> bytes:
    """The first frame of a datagram a DGRAM received: ``ip:port`` and a NUL, as libzmq's."""
    return f"{source[0]}:{source[1]}\0".encode("ascii")


class Dgram(_FairQueued):
    socket_type = "DGRAM"
    sends = True
    receives = True
    # (Messages come as [address, body] lists: a batch hands them out as they are.)

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peer: Peer | None = None

    def attach(self, peer: Peer) -> None:
        if self.peer is None:
            self.peer = peer
            super().attach(peer)

    def detach(self, peer: Peer) -> None:
        if peer is self.peer:
            self.peer = None
            super().detach(peer)

    def readable(self, peer: Peer) -> None:
        if peer is self.peer:
            super().readable(peer)

    def send(self, message: Message) -> bool:
        """EINVAL for anything but an address and a body (libzmq's), or an address that is not
        ``ip:port``; EMSGSIZE for a body no datagram carries. With no endpoint yet the socket
        is mute, as a PUSH with no peer: the send waits (libzmq 4.3 asserts)."""
        if isinstance(message, bytes) or len(message) != 2:
            raise ZMQError(errno.EINVAL, "a DGRAM message is an address frame and a body")
        if peer_address(message[0]) is None:
            raise ZMQError(errno.EINVAL, f"a DGRAM address is ip:port, not {message[0]!r}")
        if len(message[1]) > MAX_BODY:
            raise ZMQError(errno.EMSGSIZE)
        if self.peer is None:
            return False
        return self.peer.outbound.write(message)

    def has_out(self) -> bool:
        return self.peer is not None and self.peer.outbound.writable()


ROUTING_BY_TYPE[Dgram.socket_type] = Dgram

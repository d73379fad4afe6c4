"""The thread-safe draft socket types: CLIENT/SERVER (RFC 41), RADIO/DISH (48), SCATTER/GATHER
(49), PEER (51) and CHANNEL (52).

Their messages have one part. A message of several parts from the wire is dropped (as libzmq
drops it), and the API refuses to send one (EINVAL). What a message carries besides its body
travels as a pair:

- SERVER and PEER receive ``(routing_id, body)``, the routing id being the number this socket
  gave the peer's connection, and send ``(routing_id, body)``;
- RADIO sends ``(group, body)`` and DISH receives it: on the wire, a group frame then the body,
  libzmq's format; what DISH sends its radios is ``Membership`` (JOIN and LEAVE commands).

(This module registers the types in ``sockets.ROUTING_BY_TYPE`` when it is imported, which the
package does.)
"""

from __future__ import annotations

import errno
import os
import struct
from typing import Any, NamedTuple

from ..constants import GROUP_MAX_LENGTH
from ..error import ZMQError
from .pipe import Message, Peer
from .sockets import (
    HICCUP,
    ROUTING_BY_TYPE,
    TAKES_EVERYTHING,
    Dealer,
    Pair,
    Pull,
    Push,
    Routing,
    RoutingOptions,
    _FairQueued,
)
from .strategies import FairQueue


class Membership(NamedTuple):
    """What a DISH tells its radios: it joins (or leaves) ``group``."""

    join: bool
    group: bytes


#: What udp:// peers of a RADIO are: they take every group (the DISH at the far end filters).
EVERY_GROUP = TAKES_EVERYTHING


def _single(message: Any) -> bytes | None:
    """The body of a message of one part; None for one of several (dropped)."""
    if type(message) is bytes:
        return message
    return message[0] if len(message) == 1 else None


class _SinglePartIn:
    """Receives only messages of one part: the others are dropped where they are read."""

    batches = False  # (Each message is looked at as it is delivered.)
    fq: FairQueue

    def _fetch(self) -> tuple[Any, Peer] | None:
        while True:
            found = self.fq.recv()
            if found is None:
                return None
            body = _single(found[0])
            if body is not None:
                return body, found[1]


class Client(_SinglePartIn, Dealer):
    """CLIENT: load-balances out and fair-queues in, like a DEALER of single-part messages."""

    socket_type = "CLIENT"


class Scatter(Push):
    socket_type = "SCATTER"


class Gather(_SinglePartIn, Pull):
    socket_type = "GATHER"


class Channel(Pair):
    """CHANNEL: a PAIR of single-part messages."""

    socket_type = "CHANNEL"

    def _fetch(self) -> tuple[Message, Peer] | None:
        while True:
            found = super()._fetch()
            if found is None:
                return None
            body = _single(found[0])
            if body is not None:
                return body, found[1]  # type: ignore[return-value]


class Server(_FairQueued):
    """SERVER: each connection gets a routing id (a non-zero 32-bit number); what comes in is
    ``(routing_id, body)``, and a reply names the routing id it goes to."""

    socket_type = "SERVER"
    sends = True
    batches = False  # (Each message gets its routing id as it is delivered.)

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peers: dict[int, Peer] = {}
        self._next_id = struct.unpack(">I", os.urandom(4))[0]
        #: The routing id given last (PEER's connect_peer returns it).
        self.last_routing_id = 0

    def attach(self, peer: Peer) -> None:
        routing_id = self._next_id
        while routing_id == 0 or routing_id in self.peers:
            routing_id = (routing_id + 1) & 0xFFFFFFFF
        self._next_id = (routing_id + 1) & 0xFFFFFFFF
        peer.state = routing_id
        self.peers[routing_id] = peer
        self.last_routing_id = routing_id
        super().attach(peer)

    def detach(self, peer: Peer) -> None:
        if self.peers.get(peer.state) is peer:
            del self.peers[peer.state]
        super().detach(peer)

    def _fetch(self) -> tuple[Any, Peer] | None:
        while True:
            found = self.fq.recv()
            if found is None:
                return None
            message, peer = found
            if len(message) == 1:
                return (peer.state, message[0]), peer

    def send(self, message: Any) -> bool:
        """``(routing_id, body)``; EHOSTUNREACH when no connection has that routing id, and
        False (the sender waits) when its pipe is full, as libzmq's SERVER."""
        routing_id, body = message
        peer = self.peers.get(routing_id)
        if peer is None:
            raise ZMQError(errno.EHOSTUNREACH)
        return peer.outbound.write(body)

    def has_out(self) -> bool:
        return True


class PeerSocket(Server):
    """PEER: a SERVER that also connects, to peers it then addresses by the routing id that
    ``connect_peer`` returned."""

    socket_type = "PEER"


class Radio(Routing):
    """RADIO: each ``(group, body)`` goes to the dishes that joined the group (exact match);
    a dish whose pipe is full misses it. What dishes send besides JOIN and LEAVE is dropped."""

    socket_type = "RADIO"
    receives = False

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peers: set[Peer] = set()
        self.members: dict[bytes, set[Peer]] = {}
        self._everything: set[Peer] = set()

    def attach(self, peer: Peer) -> None:
        self.peers.add(peer)
        if peer.state == EVERY_GROUP:
            self._everything.add(peer)
        else:
            peer.state = set()
        self.readable(peer)

    def detach(self, peer: Peer) -> None:
        self.peers.discard(peer)
        self._everything.discard(peer)
        self._forget(peer)

    def _forget(self, peer: Peer) -> None:
        groups = peer.state if isinstance(peer.state, set) else ()
        for group in groups:
            members = self.members.get(group)
            if members is not None:
                members.discard(peer)
                if not members:
                    del self.members[group]
        if groups:
            peer.state = set()

    def readable(self, peer: Peer) -> None:
        while (message := peer.inbound.read()) is not None:
            if type(message) is Membership:
                self._membership(message, peer)
            elif message is HICCUP:
                self._forget(peer)  # It joins again.

    def _membership(self, change: Membership, peer: Peer) -> None:
        groups = peer.state
        if not isinstance(groups, set):
            return
        if change.join:
            groups.add(change.group)
            self.members.setdefault(change.group, set()).add(peer)
        elif change.group in groups:
            groups.discard(change.group)
            members = self.members[change.group]
            members.discard(peer)
            if not members:
                del self.members[change.group]

    def send(self, message: Any) -> bool:
        group, body = message
        frames = [group, body]
        peers = (*self.members.get(group, ()), *self._everything)
        if self.options.xpub_nodrop and not all([peer.outbound.writable() for peer in peers]):
            return False  # XPUB_NODROP: the sender waits (EAGAIN) rather than drop.
        for peer in peers:
            if not peer.outbound.write(frames) and not (
                peer.make_room() and peer.outbound.write(frames)
            ):
                self.dropped += 1  # Still full: dropped, as libzmq.
        return True

    def has_out(self) -> bool:
        return True


class Dish(_FairQueued):
    """DISH: joins groups (each radio is told), fair-queues what radios send, keeps what
    belongs to a joined group and hands it out as ``(group, body)``."""

    socket_type = "DISH"
    batches = False  # (Each message is looked at as it is delivered.)

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peers: set[Peer] = set()
        self.groups: set[bytes] = set()

    def attach(self, peer: Peer) -> None:
        self.peers.add(peer)
        self.hiccup(peer)
        super().attach(peer)

    def detach(self, peer: Peer) -> None:
        self.peers.discard(peer)
        super().detach(peer)

    def hiccup(self, peer: Peer) -> None:
        for group in self.groups:
            peer.outbound.write(Membership(True, group))  # type: ignore[arg-type]

    def join(self, group: bytes) -> None:
        """EINVAL for a group too long or joined already (as libzmq's zmq_join)."""
        if len(group) > GROUP_MAX_LENGTH or group in self.groups:
            raise ZMQError(errno.EINVAL)
        self.groups.add(group)
        self._tell(Membership(True, group))

    def leave(self, group: bytes) -> None:
        """EINVAL for a group too long or not joined."""
        if len(group) > GROUP_MAX_LENGTH or group not in self.groups:
            raise ZMQError(errno.EINVAL)
        self.groups.discard(group)
        self._tell(Membership(False, group))

    def _tell(self, change: Membership) -> None:
        for peer in self.peers:
            peer.outbound.write(change)  # type: ignore[arg-type]

    def _fetch(self) -> tuple[Any, Peer] | None:
        groups = self.groups
        while True:
            found = self.fq.recv()
            if found is None:
                return None
            message, peer = found
            if len(message) == 2 and message[0] in groups:
                return (message[0], message[1]), peer


THREAD_SAFE_TYPES = frozenset(
    cls.socket_type for cls in (Server, Client, Radio, Dish, Scatter, Gather, PeerSocket, Channel)
)
for _cls in (Server, Client, Radio, Dish, Scatter, Gather, PeerSocket, Channel):
    ROUTING_BY_TYPE[_cls.socket_type] = _cls

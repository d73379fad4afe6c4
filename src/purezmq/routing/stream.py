"""STREAM: raw connections, each known by a routing id (zmq_socket, "ZMQ_STREAM").

Each peer is one tcp or ipc connection carrying bytes with no ZMTP at all (the engine layer's raw
engine): what it reads comes in as [routing id, data], and [routing id, data] sends data to it;
empty data closes that connection. With STREAM_NOTIFY the engine delivers an empty message when
a connection is made and when it ends, which reads [routing id, b""].

Frames are taken as libzmq takes them, in pairs whatever the message boundaries: a routing id
(with MORE), then data (its MORE ignored). A frame where an id belongs that has no MORE is
dropped, and so is the frame after it. So [id, a, b] sends ``a`` and drops ``b`` and the next
frame sent, as libzmq 4.3.5 does.

(This module registers Stream in ``sockets.ROUTING_BY_TYPE`` when it is imported, which the
package's ``__init__`` does: it builds on sockets.py, which therefore cannot import it.)
"""

from __future__ import annotations

import errno
import os
import struct

from ..constants import SocketOption
from ..error import ZMQError
from .pipe import Message, Peer
from .sockets import ROUTING_BY_TYPE, RoutingOptions, _FairQueued

#: ``Peer.state`` of a connection the application closed (it sent empty data): nothing more of
#: it is read, as libzmq's socket stops reading a pipe it terminated.
CLOSED_HERE = "closed here"


class Stream(_FairQueued):
    socket_type = "STREAM"
    sends = True
    batches = False  # (Each message gets its peer's routing id in front.)
    #: A connect's peer, and so its routing id, exists from the connect on (libzmq makes the
    #: pipe then): what is sent to it before the connection is made waits, and across
    #: reconnections it keeps its id.
    attach_before_handshake = True

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peers: dict[bytes, Peer] = {}
        #: Routing ids given to connects (CONNECT_ROUTING_ID) not attached yet.
        self.reserved: set[bytes] = set()
        self._next_id = struct.unpack(">I", os.urandom(4))[0]
        #: The next frame sent is data (an id frame came before it).
        self._more_out = False
        #: A message that stopped, full, after its first pair: where a retry goes on from.
        self._resume: tuple[Message, int] | None = None

    # CONNECT_ROUTING_ID (SocketBase.connect) -------------------------------------------------

    def reserve(self, routing_id: bytes) -> bool:
        """Keep ``routing_id`` for a connect; False if a peer has it already."""
        if routing_id in self.peers or routing_id in self.reserved:
            return False
        self.reserved.add(routing_id)
        return True

    def release(self, routing_id: bytes) -> None:
        self.reserved.discard(routing_id)

    # Peers -----------------------------------------------------------------------------------

    def attach(self, peer: Peer) -> None:
        routing_id = peer.assigned_id
        self.reserved.discard(routing_id)
        if not routing_id or routing_id in self.peers:
            while True:
                # Generated ids are libzmq's: a zero byte, then a 32-bit counter.
                routing_id = b"\x00" + struct.pack(">I", self._next_id)
                self._next_id = (self._next_id + 1) & 0xFFFFFFFF
                if routing_id not in self.peers and routing_id not in self.reserved:
                    break
            # libzmq: getsockopt(ROUTING_ID) then reads the id generated last (the way its
            # manual gives to learn the id of a connect).
            values = getattr(self.options, "values", None)
            if isinstance(values, dict):
                values[SocketOption.ROUTING_ID] = routing_id
        peer.routing_id = routing_id
        self.peers[routing_id] = peer
        super().attach(peer)

    def detach(self, peer: Peer) -> None:
        if self.peers.get(peer.routing_id) is peer:
            del self.peers[peer.routing_id]
        if peer.state is not CLOSED_HERE:
            super().detach(peer)  # (What it sent before, and its notification, are read.)

    def readable(self, peer: Peer) -> None:
        if peer.state is not CLOSED_HERE:
            super().readable(peer)

    def _close_here(self, peer: Peer) -> None:
        """The application closes this connection: its engine closes it once what was queued
        before is written; its id is unknown from now on, and nothing more of it is read."""
        peer.outbound.write(b"")  # (Room was checked at its id frame.)
        peer.state = CLOSED_HERE
        if self.peers.get(peer.routing_id) is peer:
            del self.peers[peer.routing_id]
        self.fq.remove(peer)

    # Traffic ---------------------------------------------------------------------------------

    def _fetch(self) -> tuple[Message, Peer] | None:
        found = self.fq.recv()
        if found is None:
            return None
        message, peer = found
        return [peer.routing_id, *message], peer

    def first_frame(self, frame: bytes) -> bool:
        """The first frame of a message, sent with MORE (before the rest): libzmq's errors for
        it at once. EHOSTUNREACH for an id no connection has; False while that peer's queue is
        full (the sender waits, or gets EAGAIN)."""
        if self._more_out:
            return True  # (A data frame, after an id frame that had no MORE.)
        peer = self.peers.get(frame)
        if peer is None:
            raise ZMQError(errno.EHOSTUNREACH)
        return peer.outbound.writable()

    def send(self, message: Message) -> bool:
        start = 0
        resume, self._resume = self._resume, None
        if resume is not None and resume[0] is message:
            start = resume[1]
        last = len(message) - 1
        target: Peer | None = None
        for index in range(start, last + 1):
            frame = message[index]
            if not self._more_out:
                self._more_out = True
                if index == last:
                    continue  # An id without MORE: dropped, and the frame after it too.
                peer = self.peers.get(frame)
                if peer is None:
                    self._more_out = False
                    raise ZMQError(errno.EHOSTUNREACH)
                if not peer.outbound.writable():
                    self._more_out = False
                    if index:
                        self._resume = (message, index)  # (The pairs before it went.)
                    return False
                target = peer
                continue
            self._more_out = False
            if target is not None:
                if frame:
                    target.outbound.write(frame)
                else:
                    self._close_here(target)
                target = None
        return True

    def has_out(self) -> bool:
        # As libzmq's: always; whether a message can go depends on the peer it names.
        return True


ROUTING_BY_TYPE[Stream.socket_type] = Stream

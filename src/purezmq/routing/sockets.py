"""Each socket type as a small composition of the routing strategies (RFCs 28-31, zmq_socket).

A routing object is driven by one thread (the socket's owner). ``send`` returns False when the
socket is in its "mute" state and must block; dropping types return True after dropping. ``recv``
returns (message, peer) or None when nothing is ready.
"""

from __future__ import annotations

import errno
import os
import struct
from collections import deque
from typing import Any, ClassVar

from ..constants import Errno
from ..error import ZMQError
from .pipe import Message, Peer, Pipe, Queued
from .strategies import FairQueue, LoadBalancer
from .subscriptions import (
    CANCEL,
    SUBSCRIBE,
    SubscriberIndex,
    Subscriptions,
    is_subscription,
    subscription_frames,
)

_NOTIFY_CONNECT = 1
_NOTIFY_DISCONNECT = 2

#: An in-band marker a session writes into a publisher's inbound pipe when the peer reconnected:
#: whatever it subscribed to before is gone, and it will subscribe again.
HICCUP: Message = []

#: A peer's ``state`` before it is attached when it stands for a multicast transport (pgm,
#: epgm, udp): no subscriptions travel up it, it takes every message (the receivers filter).
TAKES_EVERYTHING = "takes everything"


class RoutingOptions:
    """The options routing reads; the socket keeps them current."""

    router_mandatory = False
    router_handover = False
    #: ROUTER_NOTIFY: NOTIFY_CONNECT (1) and/or NOTIFY_DISCONNECT (2).
    router_notify = 0
    probe_router = False
    #: DISCONNECT_MSG: what a ROUTER receives from a peer that went away (b"": nothing).
    disconnect_msg = b""
    req_relaxed = False
    req_correlate = False
    xpub_verbose = False
    #: XPUB_VERBOSER: duplicate unsubscriptions passed up too (XPUB_VERBOSE is set with it).
    xpub_verboser = False
    #: XPUB_NODROP: at a subscriber's high-water mark a send waits (EAGAIN) instead of dropping.
    xpub_nodrop = False
    #: XPUB_MANUAL (also set by XPUB_MANUAL_LAST_VALUE): the application applies subscriptions.
    xpub_manual = False
    xpub_manual_last_value = False
    #: XPUB_WELCOME_MSG: sent to each new subscriber (b"": none).
    xpub_welcome_msg = b""
    only_first_subscribe = False
    invert_matching = False
    xsub_verbose_unsubscribe = False
    conflate = False


class Routing:
    socket_type: ClassVar[str] = ""
    receives: ClassVar[bool] = True
    sends: ClassVar[bool] = True
    #: Whether ``send`` takes a message of one frame as its body alone (pipe.Queued): the
    #: kinds that pass messages on without looking inside them.
    sends_bodies: ClassVar[bool] = False
    #: Whether connect-side pipes join the socket at connect time (libzmq without IMMEDIATE).
    attach_before_handshake: ClassVar[bool] = True
    #: Messages dropped by design (a full subscriber, an unroutable ROUTER message...): what
    #: Socket.stats() reports. Counted on the dropping path only.
    dropped = 0

    def __init__(self, options: RoutingOptions) -> None:
        self.options = options
        self._prefetched: tuple[Message, Peer] | None = None
        #: Messages ready for recv as they are, all from ``ready_peer`` (see _FairQueued);
        #: a message of one frame from a connection is its body alone (pipe.Queued).
        self.ready: deque[Queued] = deque()
        self.ready_peer: Peer | None = None

    # Peer life cycle ---------------------------------------------------------------------------

    def attach(self, peer: Peer) -> None:
        raise NotImplementedError

    def detach(self, peer: Peer) -> None:
        raise NotImplementedError

    def readable(self, peer: Peer) -> None:
        """The peer's inbound pipe has messages again."""

    def writable(self, peer: Peer) -> None:
        """The peer's outbound pipe has room again."""

    def hiccup(self, peer: Peer) -> None:
        """The peer's connection was re-established under the same pipes."""

    # Traffic -----------------------------------------------------------------------------------

    def send(self, message: Any) -> object:
        """Something true when the message was taken (sent or dropped by design); something
        false when the socket is mute and the sender must wait. ``message`` is the list of its
        frames; a kind that ``sends_bodies`` also takes a message of one frame as its body."""
        raise ZMQError(errno.ENOTSUP)

    def check_send_state(self) -> None:
        """Raise EFSM when the pattern forbids sending now (REQ awaiting, REP not replying)."""

    def recv(self) -> tuple[Queued, Peer] | None:
        """The next message and its peer; a kind that batches (see _FairQueued) may hand a
        message of one frame out as its body alone."""
        if self._prefetched is not None:
            found = self._prefetched
            self._prefetched = None
            return found
        return self._fetch()

    def _fetch(self) -> tuple[Message, Peer] | None:
        raise ZMQError(errno.ENOTSUP)

    def has_in(self) -> bool:
        if not self.receives:
            return False
        if self._prefetched is None:
            self._prefetched = self._fetch()
        return self._prefetched is not None

    def has_out(self) -> bool:
        return False


#: How many messages a receive may take from one peer's pipe at once (see _FairQueued.recv).
READY_BATCH = 64


class _FairQueued(Routing):
    """Receives by fair-queuing, sends nothing (PULL)."""

    sends = False
    #: Whether recv may take a batch of messages from the pipe of a peer that is the only one
    #: with messages: kinds that deliver each message as it came. (REQ, REP and ROUTER look at
    #: each message's envelope as they deliver it.)
    batches: ClassVar[bool] = True

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.fq = FairQueue()
        # ``ready`` holds a batch taken from one peer's pipe, not yet delivered: the common
        # case (one busy peer) costs a deque pop per message instead of a walk through
        # fair-queue and pipe. With several peers a batch is a single message, so fair-queuing
        # stays exact. The socket's core pops it directly (what recv does first, a call less).

    def recv(self) -> tuple[Queued, Peer] | None:
        ready = self.ready
        if ready:
            return ready.popleft(), self.ready_peer  # type: ignore[return-value]
        if self._prefetched is not None or not self.batches:
            return Routing.recv(self)
        batch = self._take_batch()
        if batch is None:
            return None
        messages, peer = batch
        ready.extend(messages)
        self.ready_peer = peer
        return ready.popleft(), peer

    def _take_batch(self) -> tuple[list[Queued], Peer] | None:
        return self.fq.recv_many(READY_BATCH)

    def has_in(self) -> bool:
        return bool(self.ready) or super().has_in()

    def attach(self, peer: Peer) -> None:
        self.fq.activate(peer)

    def detach(self, peer: Peer) -> None:
        if not peer.inbound.peek():
            self.fq.remove(peer)

    def readable(self, peer: Peer) -> None:
        if not peer.detached or peer.inbound.peek():
            self.fq.activate(peer)

    def _fetch(self) -> tuple[Message, Peer] | None:
        return self.fq.recv()


class Pull(_FairQueued):
    socket_type = "PULL"


class Push(Routing):
    socket_type = "PUSH"
    receives = False
    sends_bodies = True

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.lb = LoadBalancer()
        # PUSH and DEALER send straight through the load-balancer, or straight into the pipe
        # when one peer only can take messages: a call or two less per message.
        self._sends_through_lb = type(self).send is Push.send
        self._choose_sender()

    def _choose_sender(self) -> None:
        if self._sends_through_lb:
            self.send = self.lb.sender()  # type: ignore[method-assign, assignment]

    def attach(self, peer: Peer) -> None:
        self.lb.activate(peer)
        self._choose_sender()

    def detach(self, peer: Peer) -> None:
        self.lb.remove(peer)
        self._choose_sender()

    def writable(self, peer: Peer) -> None:
        self.lb.activate(peer)
        self._choose_sender()

    def send(self, message: Queued) -> object:
        return self.lb.send(message)

    def has_out(self) -> bool:
        return self.lb.can_send()


class Dealer(_FairQueued, Push):
    socket_type = "DEALER"
    sends = True
    receives = True

    def attach(self, peer: Peer) -> None:
        _FairQueued.attach(self, peer)
        Push.attach(self, peer)
        if self.options.probe_router:
            # PROBE_ROUTER: an empty message first, once per pipe (a connecter's outlives its
            # reconnections), so that a ROUTER learns our routing id at once.
            peer.outbound.write([b""])

    def detach(self, peer: Peer) -> None:
        _FairQueued.detach(self, peer)
        Push.detach(self, peer)


class Pair(Routing):
    """Exclusive pair: one peer at a time; later ones are refused while it lasts."""

    socket_type = "PAIR"
    sends_bodies = True

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peer: Peer | None = None
        # A peer that went away with messages still queued: they are delivered first.
        self._departed: Peer | None = None

    def accepts(self, peer: Peer) -> bool:
        return self.peer is None or self.peer is peer

    def attach(self, peer: Peer) -> None:
        if self.peer is None:
            self.peer = peer

    def detach(self, peer: Peer) -> None:
        if self.peer is peer:
            self.peer = None
            if peer.inbound.peek():
                self._departed = peer

    def send(self, message: Queued) -> bool:
        return self.peer is not None and self.peer.outbound.write(message)

    def _fetch(self) -> tuple[Message, Peer] | None:
        departed = self._departed
        if departed is not None:
            message = departed.inbound.read()
            if message is not None:
                return message, departed
            self._departed = None
        peer = self.peer
        if peer is None:
            return None
        message = peer.inbound.read()
        return None if message is None else (message, peer)

    def has_out(self) -> bool:
        return self.peer is not None and self.peer.outbound.writable()


class Req(Dealer):
    """REQ: a strict send/recv alternation over a DEALER, with the empty delimiter envelope."""

    socket_type = "REQ"
    batches = False
    sends_bodies = False  # (It puts an envelope in front.)

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.awaiting_reply = False
        self._reply_peer: Peer | None = None
        self._request_id = struct.unpack(">I", os.urandom(4))[0]

    def check_send_state(self) -> None:
        if self.awaiting_reply and not self.options.req_relaxed:
            raise ZMQError(Errno.EFSM)

    def send(self, message: Any) -> bool:
        self.check_send_state()
        envelope = [b""]
        if self.options.req_correlate:
            self._request_id = (self._request_id + 1) & 0xFFFFFFFF
            envelope = [struct.pack(">I", self._request_id), b""]
        peer = self.lb.send(envelope + message)
        if peer is None:
            return False
        self._prefetched = None
        self._reply_peer = peer
        self.awaiting_reply = True
        return True

    def recv(self) -> tuple[Queued, Peer] | None:
        if not self.awaiting_reply:
            raise ZMQError(Errno.EFSM)
        found = Routing.recv(self)  # (It does not batch: no ready messages to look at.)
        if found is not None:
            self.awaiting_reply = False
        return found

    def _fetch(self) -> tuple[Message, Peer] | None:
        if not self.awaiting_reply:
            return None
        while True:
            found = self.fq.recv()
            if found is None:
                return None
            message, peer = found
            if peer is not self._reply_peer:
                continue
            if self.options.req_correlate:
                if len(message) < 3 or message[0] != struct.pack(">I", self._request_id):
                    continue
                message = message[1:]
            if len(message) < 2 or message[0] != b"":
                continue
            return message[1:], peer

    def has_out(self) -> bool:
        return (not self.awaiting_reply or self.options.req_relaxed) and self.lb.can_send()


class Rep(_FairQueued):
    """REP: receive a request with its envelope, send the reply back along the same path."""

    socket_type = "REP"
    sends = True
    batches = False

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.sending_reply = False
        self._envelope: Message = []
        self._reply_peer: Peer | None = None

    def recv(self) -> tuple[Queued, Peer] | None:
        if self.sending_reply:
            raise ZMQError(Errno.EFSM)
        found = Routing.recv(self)  # (It does not batch: no ready messages to look at.)
        if found is not None:
            self.sending_reply = True
        return found

    def _fetch(self) -> tuple[Message, Peer] | None:
        if self.sending_reply:
            return None
        while True:
            found = self.fq.recv()
            if found is None:
                return None
            message, peer = found
            try:
                split = message.index(b"") + 1
            except ValueError:
                continue  # No delimiter: not a request, dropped as libzmq does.
            if split == len(message):
                continue  # Nothing after the delimiter: no request either (libzmq drops it).
            self._envelope = message[:split]
            self._reply_peer = peer
            return message[split:], peer

    def check_send_state(self) -> None:
        if not self.sending_reply:
            raise ZMQError(Errno.EFSM)

    def send(self, message: Message) -> bool:
        self.check_send_state()
        peer = self._reply_peer
        if peer is None or peer.detached or not peer.outbound.write(self._envelope + message):
            self.dropped += 1  # (Its requester went away, or is full: dropped, as libzmq.)
        self.sending_reply = False
        self._reply_peer = None
        self._envelope = []
        return True

    def has_out(self) -> bool:
        return self.sending_reply


class Router(_FairQueued):
    """ROUTER: every message in carries its peer's routing id first; out, the id picks the peer."""

    socket_type = "ROUTER"
    sends = True
    batches = False
    attach_before_handshake = False

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peers: dict[bytes, Peer] = {}
        #: Routing ids given to connects (CONNECT_ROUTING_ID), theirs while they last.
        self.reserved: set[bytes] = set()
        #: Messages of the socket's own making (ROUTER_NOTIFY, DISCONNECT_MSG): a connection's
        #: go before anything else, so before that peer's first message; a disconnection's after
        #: what the peer sent before it left (when nothing else is waiting).
        self._connects: deque[tuple[Message, Peer]] = deque()
        self._leavings: deque[tuple[Message, Peer]] = deque()
        #: Peers whose routing id a newcomer took over (ROUTER_HANDOVER): never read again.
        self._cut_off: set[Peer] = set()
        #: A round of the fair queue read at once, each message with its routing id first,
        #: handed out one by one (see recv).
        self._round: deque[tuple[Message, Peer]] = deque()
        self._next_id = struct.unpack(">I", os.urandom(4))[0]

    def reserve(self, routing_id: bytes) -> bool:
        """Keep ``routing_id`` for a connect (CONNECT_ROUTING_ID); False if it is in use."""
        if routing_id in self.peers or routing_id in self.reserved:
            return False
        self.reserved.add(routing_id)
        return True

    def release(self, routing_id: bytes) -> None:
        self.reserved.discard(routing_id)

    def attach(self, peer: Peer) -> None:
        routing_id = peer.assigned_id or peer.metadata.get("Identity", b"")
        if routing_id in self.peers:
            if not self.options.router_handover:
                # A second peer with a routing id in use: as libzmq, it is not heard (its
                # connection stays, not to be dropped and reconnected over and over).
                self._cut_off.add(peer)
                return
            self._hand_over(self.peers.pop(routing_id))
        while not routing_id or routing_id in self.peers:
            # Generated ids start with a zero byte, as in libzmq; skip any a peer announced.
            routing_id = b"\x00" + struct.pack(">I", self._next_id)
            self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        peer.routing_id = routing_id
        self.peers[routing_id] = peer
        super().attach(peer)
        if self.options.router_notify & _NOTIFY_CONNECT:
            self._connects.append(([routing_id, b""], peer))

    def _hand_over(self, old: Peer) -> None:
        """ROUTER_HANDOVER: a new connection takes ``old``'s routing id. As in libzmq, the old
        connection is not closed: it is cut off from the socket (what it sends is not read),
        so that a peer reconnecting with the same id does not push the new one out in turn.
        (``detached``: the socket core will not take it out of routing a second time.)"""
        old.detached = True
        self.fq.remove(old)
        self._cut_off.add(old)

    def readable(self, peer: Peer) -> None:
        if peer not in self._cut_off:
            super().readable(peer)

    def detach(self, peer: Peer) -> None:
        self._cut_off.discard(peer)
        if self.peers.get(peer.routing_id) is peer:
            del self.peers[peer.routing_id]
            options = self.options
            if options.router_notify & _NOTIFY_DISCONNECT:
                self._leavings.append(([peer.routing_id, b""], peer))
            if options.disconnect_msg:
                self._leavings.append(([peer.routing_id, options.disconnect_msg], peer))
        super().detach(peer)

    def recv(self) -> tuple[Queued, Peer] | None:
        """The next message: a fetch through the fair queue costs five calls, so a whole round
        of it is read at once (one message from each peer in turn, as one by one) and handed
        out from here."""
        round_ = self._round
        if round_:
            return round_.popleft()
        if self._prefetched is not None or self._connects:
            return Routing.recv(self)
        taken = self.fq.recv_round(READY_BATCH)
        if not taken:
            return Routing.recv(self)  # (What is left: a departure, or nothing.)
        round_.extend(
            (
                [peer.routing_id, message]
                if type(message) is bytes
                else [peer.routing_id, *message],
                peer,
            )
            for message, peer in taken
        )
        return round_.popleft()

    def has_in(self) -> bool:
        return bool(self._round) or super().has_in()

    def _fetch(self) -> tuple[Message, Peer] | None:
        if self._connects:
            return self._connects.popleft()
        found = self.fq.recv()
        if found is None:
            return self._leavings.popleft() if self._leavings else None
        message, peer = found
        return [peer.routing_id, *message], peer

    def send(self, message: Message) -> bool:
        peer = self.peers.get(message[0])
        if peer is None or len(message) < 2:
            if self.options.router_mandatory and peer is None:
                raise ZMQError(errno.EHOSTUNREACH)
            self.dropped += 1
            return True
        if peer.outbound.write(message[1:]):
            return True
        if self.options.router_mandatory:
            return False
        self.dropped += 1
        return True

    def has_out(self) -> bool:
        return True


class Pub(Routing):
    """PUB: each message goes to every peer subscribed to a prefix of it; full peers miss it.

    INVERT_MATCHING, XPUB_NODROP and XPUB_MANUAL_LAST_VALUE change whom a message goes to: when
    one is set, ``send`` is another method (options_changed), so the usual case pays nothing."""

    socket_type = "PUB"
    sends_bodies = True
    receives = False
    #: Whether the application reads what the peers send (XPUB): (un)subscriptions, other data.
    reports: ClassVar[bool] = False

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peers: set[Peer] = set()
        self.index = SubscriberIndex()
        #: What the application reads: (message, its peer, the peer XPUB_MANUAL's SUBSCRIBE
        #: then applies to: None for the unsubscriptions of a peer that left).
        self._pending: deque[tuple[Message, Peer, Peer | None]] = deque()
        #: XPUB_MANUAL: what each peer asked for (``index`` holds what the application applied),
        #: reported as unsubscriptions when it leaves; and the peer that SUBSCRIBE applies to.
        self.requested = SubscriberIndex()
        self.manual_peer: Peer | None = None
        self.options_changed()

    def options_changed(self) -> None:
        options = self.options
        self._invert = options.invert_matching
        self._nodrop = options.xpub_nodrop
        self._last_value = options.xpub_manual and options.xpub_manual_last_value
        if self._invert or self._nodrop or self._last_value:
            self.send = self._send_chosen  # type: ignore[method-assign]
        else:
            self.__dict__.pop("send", None)

    def topics_count(self) -> int:
        return len(self.index)

    def attach(self, peer: Peer) -> None:
        self.peers.add(peer)
        if peer.state == TAKES_EVERYTHING:
            self.index.add(b"", peer)
        self.hiccup(peer)
        self.readable(peer)

    def hiccup(self, peer: Peer) -> None:
        """A new peer, or one connected again: XPUB_WELCOME_MSG is the first it gets."""
        if self.options.xpub_welcome_msg:
            peer.outbound.write(self.options.xpub_welcome_msg)

    def detach(self, peer: Peer) -> None:
        self.peers.discard(peer)
        self._forget(peer)

    def _forget(self, peer: Peer) -> None:
        """The peer left, or reconnected (it subscribes again): its subscriptions go, reported
        as libzmq's XPUB reports them (XPUB_VERBOSER: every one; XPUB_MANUAL: every one it asked
        for, and SUBSCRIBE applies to nobody until the next is read)."""
        if self.options.xpub_manual:
            topics = self.requested.remove_peer(peer, every=True)
            self.index.remove_peer(peer)
            if topics or self.manual_peer is peer:
                self.manual_peer = None
        else:
            topics = self.index.remove_peer(peer, every=self.options.xpub_verboser)
        if self.reports:
            self._pending.extend(([CANCEL + topic], peer, None) for topic in topics)

    def readable(self, peer: Peer) -> None:
        # Subscriptions flow in from the peers; take them in as soon as they arrive.
        pending = self._pending
        while (message := peer.inbound.read()) is not None:
            if len(message) == 1:
                data = message[0]
                if is_subscription(data):
                    if self._subscription(data, peer):
                        pending.append((message, peer, peer))
                elif self.reports:
                    pending.append((message, peer, peer))
            elif message is HICCUP:
                self._forget(peer)
            else:
                self._frames(message, peer)

    def _subscription(self, data: bytes, peer: Peer) -> bool:
        """Take in an (un)subscription; whether the application is told of it."""
        topic = data[1:]
        subscribe = data[:1] == SUBSCRIBE
        options = self.options
        if options.xpub_manual:
            if subscribe:
                self.requested.add(topic, peer)
            else:
                self.requested.remove(topic, peer)
            return self.reports
        if subscribe:
            first = self.index.add(topic, peer)
            return self.reports and (first or options.xpub_verbose)
        # Reported unless others are still subscribed (one unknown to libzmq's trie too).
        known = self.index.has(topic, peer)
        last = self.index.remove(topic, peer)
        return self.reports and (last or not known or options.xpub_verboser)

    def _frames(self, message: Message, peer: Peer) -> None:
        """A message of several frames, frame by frame as libzmq reads it: each (un)subscription
        is taken in, and told as a message of its own that ends the message being told; the
        other frames are data, which keep their place (and for PUB are dropped)."""
        told: list[bytes] = []
        last = len(message) - 1
        for i, (frame, subscription) in enumerate(
            subscription_frames(message, self.options.only_first_subscribe)
        ):
            if subscription:
                if self._subscription(frame, peer):
                    self._pending.append(([*told, frame], peer, peer))
                    told = []
            elif self.reports:
                told.append(frame)
                if i == last:
                    self._pending.append((told, peer, peer))
                    told = []
        if told:  # (A message libzmq would join to the next one: ended here instead.)
            self._pending.append((told, peer, peer))

    def subscribe(self, topic: bytes) -> None:
        """XPUB_MANUAL: SUBSCRIBE subscribes the peer whose (un)subscription was read last."""
        peer = self.manual_peer
        if peer is not None and peer in self.peers:
            self.index.add(topic, peer)

    def unsubscribe(self, topic: bytes) -> None:
        peer = self.manual_peer
        if peer is not None:
            self.index.remove(topic, peer)

    #: Set by an engine that fans out for this socket (engine/distributor.py): then a send
    #: queues the message once, with its subscribers, instead of writing every one's pipe.
    outbox: Pipe | None = None

    def send(self, message: Queued) -> bool:
        topic = message if isinstance(message, bytes) else message[0]
        outbox = self.outbox
        if outbox is not None:
            subscribers = self.index.subscribers(topic)
            return not subscribers or outbox.write((message, subscribers))  # type: ignore[arg-type]
        for peer in self.index.match(topic):
            if not peer.outbound.write(message) and not (
                peer.make_room() and peer.outbound.write(message)
            ):
                self.dropped += 1  # Still full: dropped, as libzmq.
        return True

    def _send_chosen(self, message: Queued) -> bool:
        """``send`` with INVERT_MATCHING, XPUB_NODROP or XPUB_MANUAL_LAST_VALUE."""
        peers = self.index.match(message if isinstance(message, bytes) else message[0])
        last = self.manual_peer if self._last_value else None
        if last is not None:
            # The first message after a subscription was read goes to that subscriber alone
            # (the last value, which the others have had).
            peers = {last} & peers
        if self._invert:
            peers = self.peers - peers
        if self._nodrop and not all([peer.outbound.writable() for peer in peers]):
            return False  # Mute: the sender waits (EAGAIN), the socket's thread makes room.
        for peer in peers:
            if not peer.outbound.write(message) and not (
                peer.make_room() and peer.outbound.write(message)
            ):
                self.dropped += 1
        if last is not None:
            self.manual_peer = None
        return True

    def has_out(self) -> bool:
        return True


class XPub(Pub):
    """XPUB: a PUB whose (un)subscriptions can be read as messages b'\\x01topic'/b'\\x00topic'."""

    socket_type = "XPUB"
    receives = True
    reports = True

    def recv(self) -> tuple[Queued, Peer] | None:
        if not self._pending:
            return None
        message, peer, sender = self._pending.popleft()
        if self.options.xpub_manual:
            self.manual_peer = sender  # (When read, not when polled: as libzmq.)
        return message, peer

    def has_in(self) -> bool:
        return bool(self._pending)


class Sub(_FairQueued):
    """SUB: forwards its subscriptions to every publisher, keeps only matching messages (with
    INVERT_MATCHING, only the others: the filter is chosen when the option is set)."""

    socket_type = "SUB"
    filters = True

    def __init__(self, options: RoutingOptions) -> None:
        super().__init__(options)
        self.peers: set[Peer] = set()
        self.subscriptions = Subscriptions()
        self.options_changed()

    def options_changed(self) -> None:
        subscriptions = self.subscriptions
        if self.options.invert_matching:
            self._matches, self._wanted = subscriptions.mismatches, subscriptions.unwanted
        else:
            self._matches, self._wanted = subscriptions.matches, subscriptions.wanted

    def topics_count(self) -> int:
        return len(self.subscriptions)

    def attach(self, peer: Peer) -> None:
        self.peers.add(peer)
        self.hiccup(peer)
        super().attach(peer)

    def detach(self, peer: Peer) -> None:
        self.peers.discard(peer)
        super().detach(peer)

    def hiccup(self, peer: Peer) -> None:
        for topic in self.subscriptions:
            peer.outbound.write([SUBSCRIBE + topic])

    def subscribe(self, topic: bytes) -> None:
        self.subscriptions.add(topic)
        self._to_all([SUBSCRIBE + topic])
        if self.options.invert_matching:
            self._refilter()

    def unsubscribe(self, topic: bytes) -> None:
        if self.subscriptions.remove(topic):
            self._to_all([CANCEL + topic])
            self._refilter()

    def _refilter(self) -> None:
        if self.ready and self.filters:  # Taken before the change, not yet delivered.
            kept = self._wanted(list(self.ready))
            self.ready.clear()
            self.ready.extend(kept)

    def _to_all(self, message: Message) -> None:
        for peer in self.peers:
            peer.outbound.write(message)

    def _fetch(self) -> tuple[Message, Peer] | None:
        while True:
            found = self.fq.recv()
            if found is None or not self.filters or self._matches(found[0][0]):
                return found

    def _take_batch(self) -> tuple[list[Queued], Peer] | None:
        while True:
            found = self.fq.recv_many(READY_BATCH)
            if found is None or not self.filters:
                return found
            kept = self._wanted(found[0])
            if kept:
                return kept, found[1]


class XSub(Sub):
    """XSUB: subscriptions are sent as messages; other messages go upstream to every publisher.
    It does not filter what it receives (the publishers do)."""

    socket_type = "XSUB"
    sends = True
    filters = False

    def send(self, message: Message) -> bool:
        if len(message) == 1:
            data = message[0]
            if data[:1] == SUBSCRIBE:
                self.subscribe(data[1:])
            elif data[:1] == CANCEL:
                self._cancel(data)
            else:
                self._to_all(message)
            return True
        # Frame by frame, as libzmq: each (un)subscription is taken in; the frames go on as one
        # message, less the unsubscriptions not passed on.
        sent = [
            frame
            for frame, subscription in subscription_frames(
                message, self.options.only_first_subscribe
            )
            if not subscription or self._taken(frame)
        ]
        if sent:
            self._to_all(sent)
        return True

    def _taken(self, frame: bytes) -> bool:
        """Take in an (un)subscription frame; whether it is passed on: a subscription always
        (the publisher counts duplicates), an unsubscription when it was the last of its topic
        (with XSUB_VERBOSE_UNSUBSCRIBE, always)."""
        if frame[:1] == SUBSCRIBE:
            self.subscriptions.add(frame[1:])
            return True
        return self.subscriptions.remove(frame[1:]) or self.options.xsub_verbose_unsubscribe

    def _cancel(self, frame: bytes) -> None:
        if self._taken(frame):
            self._to_all([frame])

    def has_out(self) -> bool:
        return True


ROUTING_BY_TYPE: dict[str, type[Routing]] = {
    cls.socket_type: cls
    for cls in (Pair, Pub, Sub, Req, Rep, Dealer, Router, Pull, Push, XPub, XSub)
}

"""The shared routing strategies: load-balancing out, fair-queuing in."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from .pipe import Message, Peer, Queued


class FairQueue:
    """Round-robin over the peers that have messages waiting: one message from each in turn."""

    def __init__(self) -> None:
        self._active: deque[Peer] = deque()
        self._members: set[Peer] = set()

    def activate(self, peer: Peer) -> None:
        if peer not in self._members:
            self._members.add(peer)
            self._active.append(peer)

    def remove(self, peer: Peer) -> None:
        if peer in self._members:
            self._members.discard(peer)
            self._active.remove(peer)

    def recv(self) -> tuple[Message, Peer] | None:
        active = self._active
        while active:
            peer = active[0]
            message = peer.inbound.read()
            if message is None:
                active.popleft()
                self._members.discard(peer)
                continue
            active.rotate(-1)
            return message, peer
        return None

    def recv_many(self, limit: int) -> tuple[list[Queued], Peer] | None:
        """Up to ``limit`` messages from the next peer in turn: one when several peers have
        messages (round-robin stays exact), up to ``limit`` when only one has."""
        active = self._active
        if len(active) > 1:
            limit = 1
        while active:
            peer = active[0]
            messages = peer.inbound.take_batch(limit)
            if not messages:
                active.popleft()
                self._members.discard(peer)
                continue
            active.rotate(-1)
            return messages, peer
        return None

    def recv_round(self, limit: int) -> list[tuple[Queued, Peer]]:
        """A whole round at once: the next message of each peer with messages, in turn, as
        that many ``recv`` calls would give them (so that a receiver pays the round's calls
        once, not once a message); up to ``limit`` messages when one peer only has any."""
        active = self._active
        if len(active) == 1:
            found = self.recv_many(limit)
            return [] if found is None else [(message, found[1]) for message in found[0]]
        taken: list[tuple[Queued, Peer]] = []
        for _ in range(len(active)):
            peer = active.popleft()
            message = peer.inbound.read()
            if message is None:
                self._members.discard(peer)
            else:
                active.append(peer)
                taken.append((message, peer))
        return taken


class LoadBalancer:
    """Round-robin over the peers whose pipes have room; full peers wait to be reactivated."""

    def __init__(self) -> None:
        # Each active peer with its pipe's write, looked up once: the send loop then costs a
        # call per message, not two attribute lookups and a call.
        self._active: deque[tuple[Peer, Callable[[Queued], bool]]] = deque()
        self._members: dict[Peer, tuple[Peer, Callable[[Queued], bool]]] = {}

    def __bool__(self) -> bool:
        return bool(self._active)

    def activate(self, peer: Peer) -> None:
        if peer not in self._members and not peer.detached:
            entry = (peer, peer.outbound.write)
            self._members[peer] = entry
            self._active.append(entry)

    def remove(self, peer: Peer) -> None:
        entry = self._members.pop(peer, None)
        if entry is not None:
            self._active.remove(entry)

    def sender(self) -> Callable[[Message], object]:
        """What sending a message comes down to now: with a single active peer, a write to its
        pipe (true when taken); otherwise ``send``. Ask again after the peers change."""
        if len(self._active) == 1:
            return self._active[0][1]
        return self.send

    def send(self, message: Queued) -> Peer | None:
        """The peer that took the message, or None when every pipe is full (or none exists)."""
        active = self._active
        while active:
            peer, write = active[0]
            if write(message):
                active.rotate(-1)
                return peer
            del self._members[active.popleft()[0]]
        return None

    def can_send(self) -> bool:
        active = self._active
        while active:
            if active[0][0].outbound.writable():
                return True
            del self._members[active.popleft()[0]]
        return False

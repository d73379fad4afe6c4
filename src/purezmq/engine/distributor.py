"""A PUB's fan-out, a batch at a time: the I/O side of ``routing.sockets.Pub``'s outbox.

Without it a PUB's send writes the message into every subscriber's pipe, and each subscriber's
session then reads its pipe and encodes what it found: work per delivery, in Python, in one
process. With it the send matches the message against the subscriptions (in the socket's thread,
where the subscription index lives) and queues it once, with a snapshot of its subscribers, on
the outbox; this distributor, in the I/O thread, takes a batch and hands it to each subscriber's
connection in one call when that connection is free and has nothing queued before it, or into
its pipe (where the high-water mark still drops per subscriber, as libzmq's PUB does) when it
is busy. A batch is encoded once for all the plain (unencrypted, uncompressed) connections it
goes to: per delivery that leaves a share of one write.
"""

from __future__ import annotations

from typing import Any

from ..protocol.frames import SharedBatch
from ..routing.pipe import Peer, Pipe, Queued
from .session import Session

#: Outbox entries taken per round: a batch to each subscriber.
_BATCH = 512


class Distributor:
    """Reads a PUB socket's outbox (a pipe of (message, subscribers) entries), fans it out."""

    def __init__(self, socket: Any, hwm: int) -> None:
        self.socket = socket
        self.outbox = Pipe(hwm, reader=self)

    # The outbox's reader: on_readable from the socket's thread (a send). (It has no writer to
    # wake: a sender that finds it full empties it itself, see flush_here.)

    def on_readable(self, pipe: Pipe) -> None:
        self.socket.schedule_io(self.pump)

    def on_writable(self, pipe: Pipe) -> None:  # (PipeListener's; never called here.)
        pass

    def flush_here(self) -> None:
        """From the socket's thread: distribute what is queued now (the outbox is full, the
        options change, the socket closes). Waits for the I/O thread if it is at it."""
        socket = self.socket
        with socket.io_lock:
            working = socket.working_here
            socket.working_here = True
            try:
                self.pump()
            finally:
                socket.working_here = working

    def pump(self) -> None:
        """Distribute the outbox (holding the socket's I/O lock). (No yield to let the sender
        fill a batch, as a session's pump makes: a sender that fills the outbox distributes
        it itself, and one waiting for this lock while we yielded would stall.)"""
        outbox = self.outbox
        while entries := outbox.read_many(_BATCH):
            self._fan_out(entries)

    def _fan_out(self, entries: list[Any]) -> None:
        """Runs of entries with the same subscribers go out together."""
        start, count = 0, len(entries)
        while start < count:
            subscribers = entries[start][1]
            end = start + 1
            while end < count and entries[end][1] is subscribers:
                end += 1
            self._deliver([message for message, _ in entries[start:end]], subscribers)
            start = end

    def _deliver(self, messages: list[Queued], subscribers: tuple[Peer, ...]) -> None:
        routing = self.socket.routing
        batch = SharedBatch(messages)  # (Encoded once, for all the plain connections.)
        for peer in subscribers:
            if peer.detached:
                continue
            owner = peer.owner  # (A Session for tcp/ipc; inproc peers read the pipe itself.)
            if isinstance(owner, Session) and owner.send_now(batch):
                continue
            taken = peer.outbound.write_many(messages)
            if taken < len(messages):
                routing.dropped += len(messages) - taken  # Full: dropped, as libzmq.

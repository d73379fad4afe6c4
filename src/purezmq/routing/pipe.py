"""Pipes: bounded queues of whole messages between a socket and one peer.

A ``Pipe`` carries messages one way, from one writer to one reader that may live in different
threads. Each side sleeps on its own terms: a reader that finds the pipe empty is marked asleep and
is woken (``on_readable``) by the next write; a writer that finds the pipe full is woken
(``on_writable``) once the reader has drained it to the low-water mark. Everything else is done
without any notification, so a busy pipe costs one uncontended lock per message.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Protocol

Message = list[bytes]


class PipeListener(Protocol):
    def on_readable(self, pipe: Pipe) -> None: ...

    def on_writable(self, pipe: Pipe) -> None: ...


def low_water_mark(hwm: int) -> int:
    """When a writer blocked at the high-water mark is woken again (as libzmq computes it)."""
    max_delta = 1024
    return hwm - max_delta if hwm > 2 * max_delta else (hwm + 1) // 2


class Pipe:
    __slots__ = (
        "_queue",
        "_lock",
        "hwm",
        "_lwm",
        "reader",
        "writer",
        "_reader_asleep",
        "_writer_blocked",
        "closed",
        "reader_peer",
        "writer_peer",
    )

    def __init__(self, hwm: int, reader: PipeListener | None = None) -> None:
        self._queue: deque[Message] = deque()
        self._lock = threading.Lock()
        self.hwm = hwm
        self._lwm = low_water_mark(hwm)
        self.reader = reader
        self.writer: PipeListener | None = None
        self._reader_asleep = True
        self._writer_blocked = False
        self.closed = False
        # The Peer objects of the sockets at each end, so that a socket listener knows whose
        # pipe woke it (a session end has none).
        self.reader_peer: Peer | None = None
        self.writer_peer: Peer | None = None

    def __len__(self) -> int:
        return len(self._queue)

    def set_hwm(self, hwm: int) -> None:
        self.hwm = hwm
        self._lwm = low_water_mark(hwm)

    def writable(self) -> bool:
        """Whether a write would succeed now; marks the writer blocked when it would not."""
        with self._lock:
            if self.hwm and len(self._queue) >= self.hwm:
                self._writer_blocked = True
                return False
            return True

    def write(self, message: Message) -> bool:
        """Queue a message; False (and nothing queued) when the pipe is at its high-water mark."""
        with self._lock:
            queue = self._queue
            if self.hwm and len(queue) >= self.hwm:
                self._writer_blocked = True
                return False
            queue.append(message)
            if not self._reader_asleep:
                return True
            self._reader_asleep = False
        if self.reader is not None:
            self.reader.on_readable(self)
        return True

    def write_many(self, messages: list[Message]) -> int:
        """Queue as many messages as fit; return how many were queued."""
        with self._lock:
            queue = self._queue
            room = len(messages) if not self.hwm else max(0, self.hwm - len(queue))
            count = min(room, len(messages))
            if count < len(messages):
                self._writer_blocked = True
            if not count:
                return 0
            queue.extend(messages[:count] if count < len(messages) else messages)
            wake = self._reader_asleep
            self._reader_asleep = False
        if wake and self.reader is not None:
            self.reader.on_readable(self)
        return count

    def read(self) -> Message | None:
        """The next message, or None (and the reader marked asleep) when there is none."""
        with self._lock:
            queue = self._queue
            if not queue:
                self._reader_asleep = True
                return None
            message = queue.popleft()
            if not self._writer_blocked or len(queue) > self._lwm:
                return message
            self._writer_blocked = False
        if self.writer is not None:
            self.writer.on_writable(self)
        return message

    def read_many(self, limit: int) -> list[Message]:
        with self._lock:
            queue = self._queue
            if not queue:
                self._reader_asleep = True
                return []
            count = min(limit, len(queue))
            messages = [queue.popleft() for _ in range(count)]
            wake = self._writer_blocked and len(queue) <= self._lwm
            if wake:
                self._writer_blocked = False
        if wake and self.writer is not None:
            self.writer.on_writable(self)
        return messages

    def peek(self) -> bool:
        """Whether a message is waiting (without changing who sleeps)."""
        return bool(self._queue)

    def close(self) -> None:
        """The writer is done: the reader drains what is left, then sees ``closed``."""
        with self._lock:
            self.closed = True
            wake = self._reader_asleep
            self._reader_asleep = False
        if wake and self.reader is not None:
            self.reader.on_readable(self)

    def drain(self) -> list[Message]:
        with self._lock:
            messages = list(self._queue)
            self._queue.clear()
            return messages


class Peer:
    """The socket's end of a connection to one peer: a pipe in each direction plus what we know."""

    __slots__ = (
        "inbound",
        "outbound",
        "routing_id",
        "metadata",
        "endpoint",
        "attached",
        "attached_requested",
        "detached",
        "state",
        "owner",
        "__weakref__",
    )

    def __init__(self, inbound: Pipe, outbound: Pipe, endpoint: str = "") -> None:
        self.inbound = inbound
        self.outbound = outbound
        self.routing_id = b""
        self.metadata: dict[str, bytes] = {}
        self.endpoint = endpoint
        self.attached = False
        self.attached_requested = False
        self.detached = False
        # Per-socket-type bookkeeping (subscriptions of a PUB peer, for example).
        self.state: Any = None
        # Whoever serves the other end: a session of the I/O thread, or an inproc partner.
        self.owner: Any = None
        inbound.reader_peer = self
        outbound.writer_peer = self

    def __repr__(self) -> str:
        return f"<Peer {self.endpoint or '?'} id={self.routing_id!r}>"

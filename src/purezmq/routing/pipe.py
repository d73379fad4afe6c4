"""Pipes: bounded queues of whole messages between a socket and one peer.

A ``Pipe`` carries messages one way, from one writer to one reader that may live in different
threads. Each side sleeps on its own terms: a reader that finds the pipe empty is marked asleep and
is woken (``on_readable``) by the next write; a writer that finds the pipe full is woken
(``on_writable``) once the reader has drained it to the low-water mark.

There is no lock. ``deque.append`` and ``deque.popleft`` are atomic in CPython, and each side
publishes its sleep flag *before* it looks at the queue a last time, so a change made by the other
side after that look always sees the flag: no wake-up is lost. The price is an occasional spurious
wake-up, which every listener tolerates. (A lock here was the main cost of a busy pipe: under the
GIL, a thread preempted while holding it stalls the other in a futex convoy.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol, Union

Message = list[bytes]
#: A message as a pipe may carry it. A message of one frame may come as its body alone, not in
#: a list of its own: from a connection (see protocol.frames.Received), and from the kinds of
#: socket that send messages without looking inside (Routing.sends_bodies). ``read`` hands out
#: lists only; ``take_batch`` (for a receive that delivers messages as they are) and
#: ``read_many`` (for a session writing them out) whatever was queued.
Queued = Union[bytes, Message]  # noqa: UP007


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
        "hwm",
        "_lwm",
        "reader",
        "writer",
        "_reader_asleep",
        "_writer_blocked",
        "_held",
        "closed",
        "reader_peer",
        "writer_peer",
    )

    def __init__(self, hwm: int, reader: PipeListener | None = None) -> None:
        self._queue: deque[Queued] = deque()
        self.hwm = hwm
        self._lwm = low_water_mark(hwm)
        self.reader = reader
        self.writer: PipeListener | None = None
        self._reader_asleep = True
        self._writer_blocked = False
        #: How many messages the reader took in its last batch (take_batch): they count against
        #: the high-water mark until the reader comes back for more, as if still queued.
        self._held = 0
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

    # -- the writer's side --------------------------------------------------------------------

    def _full(self, incoming: int = 1) -> bool:
        """Whether ``incoming`` more messages would pass the high-water mark; when so the writer
        is marked blocked (then the queue looked at again, in case the reader just drained)."""
        hwm = self.hwm
        if not hwm or len(self._queue) + self._held + incoming <= hwm:
            return False
        self._writer_blocked = True
        if len(self._queue) + self._held + incoming <= hwm:
            self._writer_blocked = False
            return False
        return True

    def _wake_reader(self) -> None:
        if self._reader_asleep:
            self._reader_asleep = False
            if self.reader is not None:
                self.reader.on_readable(self)

    def room(self) -> int:
        """How many messages fit now (a large number when there is no high-water mark)."""
        return max(0, self.hwm - len(self._queue) - self._held) if self.hwm else 1 << 30

    def writable(self) -> bool:
        """Whether a write would succeed now; marks the writer blocked when it would not."""
        return not self._full()

    def write(self, message: Queued) -> bool:
        """Queue a message; False (and nothing queued) when the pipe is at its high-water mark."""
        if self.hwm and len(self._queue) + self._held >= self.hwm and self._full():
            return False
        self._queue.append(message)
        if self._reader_asleep:
            self._wake_reader()
        return True

    def write_many(self, messages: Sequence[Queued]) -> int:
        """Queue as many messages as fit; return how many were queued."""
        count = len(messages)
        hwm = self.hwm
        if hwm and len(self._queue) + self._held + count > hwm:
            self._full(count)
            count = min(count, self.room())  # The reader may have made room since.
            if not count:
                return 0
        self._queue.extend(messages if count == len(messages) else messages[:count])
        if self._reader_asleep:
            self._wake_reader()
        return count

    def close(self) -> None:
        """The writer is done: the reader drains what is left, then sees ``closed``."""
        self.closed = True
        self._wake_reader()

    # -- the reader's side --------------------------------------------------------------------

    def _sleep(self) -> bool:
        """Mark the reader asleep, then look once more: True when the queue really is empty."""
        self._reader_asleep = True
        if self._queue:
            self._reader_asleep = False
            return False
        return True

    def _after_read(self) -> None:
        if self._writer_blocked and len(self._queue) + self._held <= self._lwm:
            self._writer_blocked = False
            if self.writer is not None:
                self.writer.on_writable(self)

    def _release_batch(self) -> None:
        """The last batch is all handed out: room for the writer again. Called before the
        reader may mark itself asleep: the writer, woken, may write at once from this very
        thread (a session's unstall), and that write must find the reader awake, not post a
        wake-up nobody waits for."""
        self._held = 0
        if self._writer_blocked:
            self._after_read()

    def read(self) -> Message | None:
        """The next message, or None (and the reader marked asleep) when there is none."""
        if self._held:
            self._release_batch()
        queue = self._queue
        if not queue and self._sleep():
            return None  # (Tested, not caught: a raised IndexError costs ~1 µs on every wait.)
        message = queue.popleft()
        if self._writer_blocked:
            self._after_read()
        return [message] if isinstance(message, bytes) else message

    def read_many(self, limit: int) -> list[Queued]:
        """Up to ``limit`` messages, as written: for a socket's outbound pipe (a kind that
        sends_bodies writes a message of one frame as its body alone)."""
        queue = self._queue
        if not queue and self._sleep():
            return []
        if len(queue) == 1:
            messages = [queue.popleft()]  # (One message, a request or a reply: no loop.)
        else:
            popleft = queue.popleft
            messages = [popleft() for _ in range(min(limit, len(queue)))]
        if self._writer_blocked:
            self._after_read()
        return messages

    def take_batch(self, limit: int) -> list[Queued]:
        """Up to ``limit`` messages for a reader that hands them out one by one: they go on
        counting against the high-water mark until its next take_batch (or read), so the
        writer is not let further ahead of the application than the mark allows."""
        if self._held:
            self._release_batch()
        queue = self._queue
        if not queue and self._sleep():
            return []
        count = min(limit, len(queue))
        self._held = count  # Counted before they leave the queue: the writer never sees room early.
        popleft = queue.popleft
        messages = [popleft() for _ in range(count)]
        if self._writer_blocked:
            self._after_read()
        return messages

    def peek(self) -> bool:
        """Whether a message is waiting (without changing who sleeps)."""
        return bool(self._queue)

    def drain(self) -> list[Queued]:
        queue = self._queue
        messages: list[Queued] = []
        while queue:
            messages.append(queue.popleft())
        return messages


class ConflatePipe(Pipe):
    """A pipe that keeps only the last message written (CONFLATE): no high-water mark, and of a
    message of several frames only its last frame, as libzmq keeps only one part ("CONFLATE
    does not support multi-part messages"). A deque of one place drops the older message as
    it takes the new one, atomically: the reader never finds it empty after seeing it not."""

    __slots__ = ()

    def __init__(self, hwm: int = 0, reader: PipeListener | None = None) -> None:
        super().__init__(0, reader)
        self._queue = deque(maxlen=1)

    def set_hwm(self, hwm: int) -> None:
        """Ignored: CONFLATE ignores SNDHWM and RCVHWM."""

    def write(self, message: Queued) -> bool:
        if not isinstance(message, bytes) and len(message) > 1:
            message = [message[-1]]
        self._queue.append(message)
        if self._reader_asleep:
            self._wake_reader()
        return True

    def write_many(self, messages: Sequence[Queued]) -> int:
        if messages:
            self.write(messages[-1])
        return len(messages)


def make_conflating(pipe: Pipe) -> None:
    """Turn a pipe not yet used into a ConflatePipe (an inproc pipe, once both ends are known)."""
    if not isinstance(pipe, ConflatePipe):
        pipe.__class__ = ConflatePipe
        pipe._queue = deque(pipe._queue, maxlen=1)
        pipe.hwm = pipe._lwm = 0


#: The socket types libzmq applies CONFLATE to, and which way their messages flow: into the
#: socket (PULL, SUB, DEALER) or out of it (PUSH, PUB, DEALER). The other way of a SUB and a
#: PUB carries subscriptions, which are not conflated (libzmq's SUB would forget all but its
#: last subscription when it connects).
CONFLATES_IN = frozenset({"PULL", "SUB", "DEALER"})
CONFLATES_OUT = frozenset({"PUSH", "PUB", "DEALER"})


def _cannot() -> bool:
    return False


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
        "make_room",
        "assigned_id",
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
        #: Asks the far end to take queued messages now (a session writes them out from the
        #: socket's thread); True if it did. A publisher tries it before dropping a message.
        self.make_room: Callable[[], bool] = _cannot
        #: The routing id CONNECT_ROUTING_ID gave this connection (b"": none).
        self.assigned_id = b""
        inbound.reader_peer = self
        outbound.writer_peer = self

    def __repr__(self) -> str:
        return f"<Peer {self.endpoint or '?'} id={self.routing_id!r}>"

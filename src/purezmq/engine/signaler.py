"""A wake-up flag that a thread can wait on, and that can also be watched as a file descriptor."""

from __future__ import annotations

import errno
import socket
import threading

from ..error import ZMQError


class ThreadMisuseError(ZMQError):
    """A socket was used by a second thread while a first one was blocked in it."""

    def __init__(self) -> None:
        super().__init__(
            errno.EFAULT,
            "this socket is already in use by another thread, blocked in a call on it: ZeroMQ "
            "sockets are not thread-safe; give each thread its own socket (inproc connects "
            "them cheaply)",
        )


class Signaler:
    """Set by whoever changes a socket's state; waited on (or polled) by its owner.

    The owner clears it *before* looking at the state, so a change made after the look always
    leaves it set: no wake-up is lost. The file descriptor (created on demand, for poll and for
    the FD option) is readable exactly while the flag is set.

    Only the owner waits, so a wait is a closed gate (a plain lock) that ``set`` opens: about
    half the cost of a ``threading.Condition`` hand-off, which matters for inproc latency. The
    wait and the wake take no other lock: a sleeping owner leaves a token in ``_sleeper``, and
    whoever takes it (``list.pop`` is atomic) is the one that opens the gate, or, for the owner
    itself, the proof that nobody will. Every lock taken on the way to sleep is time in which
    the thread just woken finds the GIL still held and sleeps a second time. The price: a
    setter that found the flag clear may open the gate late, for a wait after the owner has
    already seen its change. Like a condition variable's, a wait can return True with nothing
    new; the owner looks again and waits again, as every caller does anyway.
    """

    def __init__(self) -> None:
        self._gate = threading.Lock()
        self._gate.acquire()
        self._sleeper: list[bool] = []
        self._set = False
        # Keeps the flag and the file descriptor's readability in step, once there is one.
        self._mutex = threading.Lock()
        self._pair: tuple[socket.socket, socket.socket] | None = None

    def set(self) -> None:
        if self._set:
            return  # (Seen set before the owner's clear: the owner's next look sees our change.)
        self._set = True  # Before looking for a sleeper or a descriptor (see wait and fileno).
        if self._sleeper:
            try:
                self._sleeper.pop()
            except IndexError:
                pass  # Taken by another setter, or by the owner giving up its wait.
            else:
                self._gate.release()
        if self._pair is not None:
            self._notify_descriptor()

    def _notify_descriptor(self) -> None:
        with self._mutex:
            if self._set and self._pair is not None:  # (Not if the owner cleared it meanwhile.)
                try:
                    self._pair[1].send(b"\x00")
                except OSError:
                    pass

    def clear(self) -> None:
        if not self._set:
            return  # (A set racing with this is simply seen at the owner's next look.)
        if self._pair is None:
            self._set = False
            return
        with self._mutex:
            self._set = False
            if self._pair is not None:
                try:  # (Setters racing each other may each have written a byte.)
                    while len(self._pair[0].recv(64)) == 64:
                        pass
                except OSError:
                    pass

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None) -> bool:
        sleeper = self._sleeper
        sleeper.append(True)
        if len(sleeper) > 1:
            self._second_sleeper()
        if self._set:  # Set before the token was seen: take it back, unless a setter did.
            try:
                sleeper.pop()
            except IndexError:
                self._gate.acquire()  # That setter opens the gate: close it again.
            return True
        if self._gate.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return True
        try:
            sleeper.pop()  # Timed out, and nobody took the token to open the gate.
        except IndexError:
            self._gate.acquire()  # set() took it just as we timed out: close the gate again.
            return True
        return self._set

    def _second_sleeper(self) -> None:
        """Another thread already sleeps here: the socket is used by two threads at once, which
        ZeroMQ forbids (libzmq aborts or corrupts its state). One wake-up would wake only one
        of them and leave the other asleep for good: refuse this call instead, with a clear
        error, before it has done anything."""
        try:
            self._sleeper.pop()
        except IndexError:
            self._gate.acquire()  # (A setter took our token and opens the gate: close it.)
        raise ThreadMisuseError()

    def readable_end(self) -> socket.socket:
        """The socket whose readability is the flag (made on demand): what an event loop that
        waits on socket objects (anyio, trio) waits on."""
        self.fileno()
        assert self._pair is not None
        return self._pair[0]

    def fileno(self) -> int:
        with self._mutex:
            if self._pair is None:
                reader, writer = socket.socketpair()
                reader.setblocking(False)
                writer.setblocking(False)
                self._pair = (reader, writer)
                if self._set:  # (Published before this look: a set after it writes itself.)
                    writer.send(b"\x00")
            return self._pair[0].fileno()

    def close(self) -> None:
        with self._mutex:
            if self._pair is not None:
                for end in self._pair:
                    end.close()
                self._pair = None

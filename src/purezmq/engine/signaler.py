"""A wake-up flag that a thread can wait on, and that can also be watched as a file descriptor."""

from __future__ import annotations

import socket
import threading


class Signaler:
    """Set by whoever changes a socket's state; waited on (or polled) by its owner.

    The owner clears it *before* looking at the state, so a change made after the look always
    leaves it set: no wake-up is lost. The file descriptor (created on demand, for poll and for
    the FD option) is readable exactly while the flag is set.

    Only the owner waits, so a wait is a closed gate (a plain lock) that ``set`` opens: about
    half the cost of a ``threading.Condition`` hand-off, which matters for inproc latency.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._gate = threading.Lock()
        self._gate.acquire()
        self._sleeping = False
        self._set = False
        self._pair: tuple[socket.socket, socket.socket] | None = None

    def set(self) -> None:
        if self._set:
            return  # (Seen set before the owner's clear: the owner's next look sees our change.)
        with self._mutex:
            if self._set:
                return
            self._set = True
            waking = self._sleeping
            self._sleeping = False
            if self._pair is not None:
                try:
                    self._pair[1].send(b"\x00")
                except OSError:
                    pass
        if waking:
            self._gate.release()

    def clear(self) -> None:
        if not self._set:
            return  # (A set racing with this is simply seen at the owner's next look.)
        with self._mutex:
            if not self._set:
                return
            self._set = False
            if self._pair is not None:
                try:
                    self._pair[0].recv(64)
                except OSError:
                    pass

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None) -> bool:
        with self._mutex:
            if self._set:
                return True
            self._sleeping = True
        if self._gate.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return True
        with self._mutex:
            if self._sleeping:  # Timed out, and nobody opened the gate.
                self._sleeping = False
                return self._set
        self._gate.acquire()  # set() opened it just as we timed out: close it again.
        return True

    def fileno(self) -> int:
        with self._mutex:
            if self._pair is None:
                reader, writer = socket.socketpair()
                reader.setblocking(False)
                writer.setblocking(False)
                self._pair = (reader, writer)
                if self._set:
                    writer.send(b"\x00")
            return self._pair[0].fileno()

    def close(self) -> None:
        with self._mutex:
            if self._pair is not None:
                for end in self._pair:
                    end.close()
                self._pair = None

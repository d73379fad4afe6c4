"""A wake-up flag that a thread can wait on, and that can also be watched as a file descriptor."""

from __future__ import annotations

import socket
import threading


class Signaler:
    """Set by whoever changes a socket's state; waited on (or polled) by its owner.

    The owner clears it *before* looking at the state, so a change made after the look always
    leaves it set: no wake-up is lost. The file descriptor (created on demand, for poll and for
    the FD option) is readable exactly while the flag is set.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._set = False
        self._pair: tuple[socket.socket, socket.socket] | None = None

    def set(self) -> None:
        with self._cond:
            if self._set:
                return
            self._set = True
            self._cond.notify_all()
            if self._pair is not None:
                try:
                    self._pair[1].send(b"\x00")
                except OSError:
                    pass

    def clear(self) -> None:
        if not self._set:
            return  # (A set racing with this is simply seen at the owner's next look.)
        with self._cond:
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
        with self._cond:
            if self._set:
                return True
            return self._cond.wait_for(lambda: self._set, timeout)

    def fileno(self) -> int:
        with self._cond:
            if self._pair is None:
                reader, writer = socket.socketpair()
                reader.setblocking(False)
                writer.setblocking(False)
                self._pair = (reader, writer)
                if self._set:
                    writer.send(b"\x00")
            return self._pair[0].fileno()

    def close(self) -> None:
        with self._cond:
            if self._pair is not None:
                for end in self._pair:
                    end.close()
                self._pair = None

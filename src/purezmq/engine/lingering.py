"""What a program that ends still owes its peers: the closing sessions' last messages.

libzmq's rule is LINGER: a message that send() accepted is still delivered after close(), for
as long as LINGER allows (-1: no limit, 0: dropped, N: at most N ms), and ``zmq_ctx_term``
waits for that. A script that simply ends never calls term(); with pyzmq its messages still
go out because libzmq's native I/O thread keeps writing while the interpreter shuts down, and it
still exits when a peer is missing. purezmq's I/O runs in Python, so it finishes the work at
exit itself (``Runtime.flush_at_exit``, and an asyncio socket's closing task), by these rules:

- a session closed with LINGER N >= 0 ends when its own linger timer says so, as at term();
- with LINGER -1 it is waited for while it can still deliver: it is connected, or a connection
  attempt is under way (a connecter waiting to retry after a failure has nobody to deliver to:
  given up, as pyzmq's exit would not wait for it either), and as long as its peer keeps taking
  messages: nothing taken for STALL_LIMIT seconds, and what is left is given up with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

log = logging.getLogger("purezmq")

#: With LINGER -1, how long at exit a peer may take nothing before its messages are given up.
STALL_LIMIT = 10.0


class ClosingSession(Protocol):
    finished: bool
    linger_ms: int
    endpoint: str

    def undelivered(self) -> tuple[int, int]: ...

    def can_still_deliver(self) -> bool: ...

    def give_up(self) -> None: ...


class ExitFlush:
    """Decides, one look at a time (in the thread that runs the sessions), which of the
    sessions still flushing at exit are worth waiting for."""

    def __init__(self, now: float, stall_limit: float = STALL_LIMIT) -> None:
        self.stall_limit = stall_limit
        self._last_progress = now
        self._last_state: tuple[int, int, int] | None = None

    def look(self, sessions: Sequence[ClosingSession], now: float) -> bool:
        """Give up what cannot be delivered any more; whether every session is over."""
        waiting = []
        for session in sessions:
            if session.finished or session.linger_ms >= 0:
                continue  # (A bounded LINGER ends by its own timer.)
            if not session.can_still_deliver():
                log.debug("purezmq: at exit, nobody at %s to deliver to", session.endpoint)
                session.give_up()
                continue
            waiting.append(session)
        queued = buffered = 0
        for session in waiting:
            messages, pending_bytes = session.undelivered()
            queued += messages
            buffered += pending_bytes
        state = (len(waiting), queued, buffered)
        if state != self._last_state:
            self._last_state = state
            self._last_progress = now
        elif waiting and now - self._last_progress >= self.stall_limit:
            log.warning(
                "purezmq: at exit, %d message(s) not delivered to %s: nothing was taken for "
                "%.0f s (set LINGER to bound the wait, or call close(linger=0))",
                queued,
                ", ".join(sorted({session.endpoint for session in waiting})),
                self.stall_limit,
            )
            for session in waiting:
                session.give_up()
            waiting = []
        return not waiting and all(session.finished for session in sessions)

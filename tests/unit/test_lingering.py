"""The rules of the at-exit flush (engine/lingering.py), against fake sessions and a fake clock."""

from __future__ import annotations

import logging

import pytest

from purezmq.engine.lingering import STALL_LIMIT, ExitFlush


class FakeSession:
    def __init__(
        self, endpoint: str = "tcp://peer:1", linger_ms: int = -1, reachable: bool = True
    ) -> None:
        self.endpoint = endpoint
        self.linger_ms = linger_ms
        self.reachable = reachable
        self.finished = False
        self.queued = 5
        self.buffered = 0
        self.given_up = False

    def undelivered(self) -> tuple[int, int]:
        return self.queued, self.buffered

    def can_still_deliver(self) -> bool:
        return self.reachable

    def give_up(self) -> None:
        self.given_up = True
        self.finished = True


def test_nothing_to_flush_is_done_at_once() -> None:
    assert ExitFlush(0.0).look([], 0.0)


def test_a_session_that_cannot_deliver_is_given_up_at_once() -> None:
    session = FakeSession(reachable=False)
    assert ExitFlush(0.0).look([session], 0.0)
    assert session.given_up


def test_a_session_that_keeps_delivering_is_waited_for_past_the_stall_limit() -> None:
    session = FakeSession()
    flush = ExitFlush(0.0)
    now = 0.0
    while session.queued:
        assert not flush.look([session], now)
        now += STALL_LIMIT / 2  # Slow, but it takes a message every time.
        session.queued -= 1
    session.finished = True
    assert flush.look([session], now)
    assert not session.given_up and now > STALL_LIMIT


def test_a_stalled_peer_is_given_up_after_the_limit_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stalled, moving = FakeSession("tcp://stalled:1"), FakeSession("tcp://moving:2")
    flush = ExitFlush(0.0, stall_limit=1.0)
    assert not flush.look([stalled, moving], 0.0)
    assert not flush.look([stalled, moving], 0.9)
    with caplog.at_level(logging.WARNING, logger="purezmq"):
        assert flush.look([stalled, moving], 1.0)  # Nothing changed for a whole second.
    assert stalled.given_up and moving.given_up
    assert "10 message(s) not delivered" in caplog.text
    assert "tcp://moving:2" in caplog.text and "tcp://stalled:1" in caplog.text


def test_bytes_leaving_the_write_buffer_count_as_progress() -> None:
    session = FakeSession()
    session.queued, session.buffered = 0, 1000
    flush = ExitFlush(0.0, stall_limit=1.0)
    assert not flush.look([session], 0.0)
    session.buffered = 10
    assert not flush.look([session], 1.5)
    assert not session.given_up


def test_a_bounded_linger_is_left_to_its_own_timer() -> None:
    """LINGER N >= 0: the session's timer ends it, as at term(); the exit rules never cut it
    short, even when nobody is there to deliver to."""
    session = FakeSession(linger_ms=5000, reachable=False)
    flush = ExitFlush(0.0, stall_limit=1.0)
    assert not flush.look([session], 0.0)
    assert not flush.look([session], 100.0)
    assert not session.given_up
    session.finished = True  # Its linger timer fired.
    assert flush.look([session], 100.0)

"""The web demo's job bookkeeping (``JobBook``) and job kinds, without sockets or a browser.

The clock is explicit: every call takes ``now``.
"""

from __future__ import annotations

import json

import pytest

from purezmq.apps.dispatch import JobBook
from purezmq.apps.tasks import JobInputError, check_job, run_job

TIMEOUT = 5.0


def hello(book: JobBook, worker: str, now: float) -> None:
    assert book.handle({"type": "hello", "worker": worker, "pid": 1, "host": "h"}, now)


def msg(kind: str, worker: str, job_id: str, attempt: int, **extra: object) -> dict:
    return {"type": kind, "worker": worker, "job": job_id, "attempt": attempt, **extra}


def run(kind: str, params: dict) -> dict:
    steps = run_job(kind, params)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


@pytest.fixture
def book() -> JobBook:
    return JobBook(timeout=TIMEOUT, prefetch=1, id_prefix="t")


def test_jobs_wait_for_a_live_worker_and_respect_prefetch(book: JobBook) -> None:
    a, _ = book.submit("primes", {"below": 100}, 0.0)
    b, _ = book.submit("primes", {"below": 200}, 0.0)
    assert book.next_dispatch(0.0) is None  # nobody to take it: it stays in the server's queue
    hello(book, "w1", 0.1)
    assert book.next_dispatch(0.1) is a
    assert json.loads(a.message()) == {
        "type": "job",
        "id": a.id,
        "attempt": 1,
        "kind": "primes",
        "params": {"below": 100},
    }
    assert book.next_dispatch(0.1) is None  # prefetch 1 per live worker
    hello(book, "w2", 0.2)
    assert book.next_dispatch(0.2) is b
    assert book.stats(0.2)["queued"] == 2 and book.stats(0.2)["workers"] == 2


def test_running_job_without_progress_is_redispatched_and_completes_once(book: JobBook) -> None:
    hello(book, "w1", 0.0)
    hello(book, "w2", 0.0)
    job, cached = book.submit("matrix", {"n": 3, "seed": 1}, 0.0)
    assert cached is None
    assert book.next_dispatch(0.0) is job
    book.handle(msg("claim", "w1", job.id, 1), 0.1)
    book.handle(msg("progress", "w1", job.id, 1, progress=0.25), 1.0)
    assert (job.state, job.worker, job.progress) == ("running", "w1", 0.25)

    # w2 keeps beating, w1 goes quiet: nothing happens until the timeout has passed...
    hello(book, "w2", 5.5)
    assert book.check_timeouts(1.0 + TIMEOUT) == []
    # ...then the job goes back to the front of the queue, as attempt 2.
    other, _ = book.submit("primes", {"below": 50}, 5.9)
    assert book.check_timeouts(1.0 + TIMEOUT + 0.1) == [job]
    assert (job.state, job.redispatches, job.progress) == ("queued", 1, 0.0)
    assert "re-dispatched" in job.notes[0] and "no progress" in job.notes[0]
    assert book.next_dispatch(6.2) is job  # ahead of the job queued before it
    assert job.attempt == 2

    # The lost attempt's worker was only slow: its progress is stale now, and ignored...
    book.handle(msg("progress", "w1", job.id, 1, progress=0.9), 6.3)
    assert (job.state, job.progress) == ("dispatched", 0.0)
    book.handle(msg("claim", "w2", job.id, 2), 6.4)
    book.handle(msg("progress", "w2", job.id, 2, progress=0.1), 6.5)
    assert (job.state, job.worker) == ("running", "w2")
    # ...but its result is as good as any: the first result completes the job...
    book.handle(msg("result", "w1", job.id, 1, result={"n": 3}), 7.0)
    assert (job.state, job.result, job.worker) == ("done", {"n": 3}, "w1")
    # ...and the second is a duplicate, dropped.
    book.drain_changes()
    book.handle(msg("result", "w2", job.id, 2, result={"n": 3, "other": True}), 8.0)
    assert job.result == {"n": 3} and job.finished == 7.0
    assert book.drain_changes() == []  # nothing to tell the browsers
    stats = book.stats(8.0)
    assert (stats["done"], stats["duplicates"], stats["redispatched"]) == (1, 1, 1)
    assert stats["running"] == 0 and stats["queued"] == 1  # ``other``

    # The same input again: answered with the cached result.
    again, cached = book.submit("matrix", {"n": 3, "seed": 1}, 9.0)
    assert cached == {"n": 3} and again.id != job.id


def test_claimed_job_waits_while_its_worker_lives(book: JobBook) -> None:
    book.prefetch = 2
    hello(book, "w1", 0.0)
    first, _ = book.submit("primes", {"below": 10}, 0.0)
    second, _ = book.submit("primes", {"below": 20}, 0.0)
    assert book.next_dispatch(0.0) is first and book.next_dispatch(0.0) is second
    book.handle(msg("claim", "w1", first.id, 1), 0.1)
    book.handle(msg("claim", "w1", second.id, 1), 0.1)
    for t in range(1, 12):  # w1 works on ``first`` for 11 s, reporting progress every second
        book.handle(msg("progress", "w1", first.id, 1, progress=t / 12), float(t))
        assert book.check_timeouts(t + 0.5) == []
    assert second.state == "claimed"  # waiting behind ``first`` at a live worker: not lost
    assert book.check_timeouts(11.0 + TIMEOUT + 0.1) == [first, second]  # w1 went silent


def test_unclaimed_job_is_redispatched(book: JobBook) -> None:
    hello(book, "w1", 0.0)
    job, _ = book.submit("primes", {"below": 10}, 0.0)
    assert book.next_dispatch(0.0) is job
    book.sent(job, 0.5)
    hello(book, "w1", 5.0)
    assert book.check_timeouts(5.4) == []
    assert book.check_timeouts(5.6) == [job]
    assert "not picked up" in job.notes[-1]


def test_bye_redispatches_at_once_and_unknown_messages_are_ignored(book: JobBook) -> None:
    hello(book, "w1", 0.0)
    job, _ = book.submit("primes", {"below": 10}, 0.0)
    book.next_dispatch(0.0)
    book.handle(msg("progress", "w1", job.id, 1, progress=0.5), 0.2)
    assert book.handle({"type": "bye", "worker": "w1"}, 0.3)
    assert job.state == "queued" and job.redispatches == 1 and "left" in job.notes[-1]
    assert book.stats(0.3)["workers"] == 0
    assert not book.handle("junk", 0.4)
    assert not book.handle({"type": "progress"}, 0.4)  # no worker named
    assert book.handle(msg("result", "w9", "nope-1", 1, result={}), 0.4)
    assert book.unknown == 1 and book.stats(0.4)["done"] == 0


def test_jobs_per_second_and_forgetting_finished_jobs() -> None:
    book = JobBook(timeout=TIMEOUT, prefetch=100, keep_finished=3, rate_window=5.0)
    hello(book, "w", 0.0)
    ids = []
    for i in range(10):
        job, _ = book.submit("primes", {"below": 10 + i}, 0.0)
        book.next_dispatch(0.0)
        ids.append(job.id)
    for i, job_id in enumerate(ids):
        book.handle(msg("result", "w", job_id, 1, result={"i": i}), 1.0 + i * 0.1)
    assert book.stats(2.0)["jobs_per_second"] == 2.0  # 10 in the last 5 s
    assert book.stats(2.0)["done"] == 10
    assert list(book.jobs) == ids[-3:]


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ([1, 2], 400, "JSON object"),
        ({}, 400, "missing 'kind'"),
        ({"kind": "sort"}, 400, "unknown job kind 'sort'"),
        ({"kind": "matrix", "n": 301}, 413, "too large"),
        ({"kind": "matrix", "n": "x"}, 400, "integer"),
        ({"kind": "matrix", "n": 0}, 400, "at least 1"),
        ({"kind": "matrix", "matrix": [[1, 2], [3]]}, 400, "square"),
        ({"kind": "matrix", "matrix": [[1, "a"], [3, 4]]}, 400, "non-number"),
        ({"kind": "primes"}, 400, "missing parameter 'below'"),
        ({"kind": "primes", "below": 10**9}, 413, "too large"),
        ({"kind": "primes", "below": 10, "colour": "red"}, 400, "unknown parameter 'colour'"),
        ({"kind": "words", "text": "   "}, 400, "empty"),
        ({"kind": "words", "text": "a" * 1_000_001}, 413, "too large"),
        ({"kind": "words", "text": b"\xff\xfe"}, 400, "UTF-8"),
    ],
)
def test_bad_job_input(payload: object, status: int, words: str) -> None:
    with pytest.raises(JobInputError) as info:
        check_job(payload)
    assert info.value.status == status
    assert words in info.value.message


def test_the_work() -> None:
    kind, params = check_job({"kind": "matrix", "matrix": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]})
    assert run(kind, params)["square"] == [[30, 36, 42], [66, 81, 96], [102, 126, 150]]
    assert run(*check_job({"kind": "primes", "below": "100"})) == {
        "below": 100,
        "count": 25,
        "largest": 97,
        "last": [73, 79, 83, 89, 97],
    }
    result = run(*check_job({"kind": "words", "text": "The cat, the hat.\nThe end", "top": 2}))
    assert result["words"] == 6 and result["unique"] == 4 and result["lines"] == 2
    assert result["top"] == [["the", 3], ["cat", 1]]
    steps = list(run_job(*check_job({"kind": "matrix", "n": 40})))
    assert len(steps) == 40 and steps[-1] == 1.0 and steps == sorted(steps)

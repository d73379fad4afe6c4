"""Job bookkeeping for the web demo, without any I/O: ``JobBook``.

The server owns one ``JobBook``. It submits jobs, asks it which job to PUSH next, feeds it every
message the workers send back, and calls ``check_timeouts`` now and then; the book says which jobs
changed so the server can tell the browsers. Every method takes ``now`` (a ``time.monotonic()``
value), so tests drive the clock themselves.

A job's life::

    queued --PUSH--> dispatched --claim--> claimed --progress--> running --result--> done
                                                                         --error---> failed

Workers send JSON messages over the result channel (``type`` is one of ``hello``, ``heartbeat``,
``claim``, ``progress``, ``result``, ``error``, ``bye``; each names its ``worker``). A worker
*claims* a job as soon as it has taken it off its socket, and reports *progress* while running it,
so the book knows which worker has which job. Nothing is lost:

* a dispatched job nobody claims within ``timeout`` seconds (it went to a worker that died with it
  still in its socket) is re-dispatched;
* a claimed job whose worker has been silent for ``timeout`` seconds is re-dispatched;
* a running job with no progress for ``timeout`` seconds is re-dispatched;
* a worker that says ``bye`` has its unfinished jobs re-dispatched at once.

A re-dispatched job goes to the front of the queue with its attempt number raised. Claims and
progress from an older attempt are ignored; a result from any attempt completes the job, and only
the first one does: later results for it are counted as duplicates and dropped.

Jobs are only PUSHed while fewer than ``prefetch`` per live worker are out, so the queue stays in
the server (where it is counted and where re-dispatched jobs can jump it) rather than in sockets.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from .tasks import cache_key, describe

__all__ = ["ACTIVE", "Job", "JobBook", "Worker"]

#: States of a job that is out at the workers.
ACTIVE = ("dispatched", "claimed", "running")
STATES = ("queued", *ACTIVE, "done", "failed")


@dataclass
class Job:
    id: str
    kind: str
    params: dict[str, Any]
    key: str
    label: str
    created: float
    state: str = "queued"
    attempt: int = 0  # attempts dispatched so far; the current one is ``attempt``
    redispatches: int = 0
    worker: str | None = None
    progress: float = 0.0
    last_activity: float = 0.0
    started: float | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def message(self) -> bytes:
        """The message PUSHed to the workers for the current attempt."""
        return json.dumps(
            {
                "type": "job",
                "id": self.id,
                "attempt": self.attempt,
                "kind": self.kind,
                "params": self.params,
            },
            separators=(",", ":"),
        ).encode("utf-8")

    def snapshot(self, now: float) -> dict[str, Any]:
        """What the browser and ``GET /jobs/<id>`` see."""
        end = self.finished if self.finished is not None else now
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "state": self.state,
            "progress": round(self.progress, 4),
            "attempt": self.attempt,
            "redispatched": self.redispatches,
            "notes": list(self.notes),
            "worker": self.worker,
            "elapsed": round(end - self.created, 3),
            "run_time": None if self.started is None else round(end - self.started, 3),
            "result": self.result,
            "error": self.error,
        }


@dataclass
class Worker:
    id: str
    first_seen: float
    last_seen: float
    host: str | None = None
    pid: int | None = None
    jobs_done: int = 0
    job: str | None = None  # the job it is running, from its progress messages
    gone: bool = False

    def snapshot(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "job": self.job,
            "jobs_done": self.jobs_done,
            "last_seen": round(now - self.last_seen, 3),
        }


class JobBook:
    """Jobs and workers as the server knows them (see the module docstring)."""

    def __init__(
        self,
        timeout: float = 5.0,
        prefetch: int = 2,
        keep_finished: int = 10_000,
        rate_window: float = 5.0,
        id_prefix: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self.timeout = float(timeout)
        self.prefetch = int(prefetch)
        self.keep_finished = int(keep_finished)
        self.rate_window = float(rate_window)
        # Job ids are unique across server runs, so a result from a job of an earlier run (a
        # remote worker that outlived the server) can never complete a job of this one.
        self._prefix = id_prefix if id_prefix is not None else secrets.token_hex(3)
        self._ids = itertools.count(1)
        self.jobs: dict[str, Job] = {}
        self.workers: dict[str, Worker] = {}
        self._queue: deque[str] = deque()
        self._active: dict[str, Job] = {}
        self._finished: deque[str] = deque()
        self._counts: Counter[str] = Counter()
        self._cache: dict[str, Any] = {}
        self._completions: deque[float] = deque()
        self._changed: dict[str, Job] = {}
        self.submitted = 0
        self.redispatched = 0
        self.duplicates = 0
        self.stale = 0  # claims/progress from an attempt that was given up
        self.unknown = 0  # messages about jobs this book does not know

    # -- jobs in --------------------------------------------------------------------------------

    def submit(self, kind: str, params: dict[str, Any], now: float) -> tuple[Job, Any]:
        """Queue a checked job; returns it and the last result for the same input (or None)."""
        key = cache_key(kind, params)
        job = Job(
            id=f"{self._prefix}-{next(self._ids)}",
            kind=kind,
            params=params,
            key=key,
            label=describe(kind, params),
            created=now,
            last_activity=now,
        )
        self.jobs[job.id] = job
        self._queue.append(job.id)
        self._counts["queued"] += 1
        self.submitted += 1
        self._changed[job.id] = job
        return job, self._cache.get(key)

    def cached(self, kind: str, params: dict[str, Any]) -> Any:
        return self._cache.get(cache_key(kind, params))

    # -- jobs out -------------------------------------------------------------------------------

    def capacity(self, now: float) -> int:
        """How many more jobs may be PUSHed now."""
        return len(self.live_workers(now)) * self.prefetch - len(self._active)

    def next_dispatch(self, now: float) -> Job | None:
        """The next job to PUSH, marked dispatched, or None (queue empty or no capacity)."""
        if self.capacity(now) <= 0:
            return None
        while self._queue:
            job = self.jobs.get(self._queue.popleft())
            if job is None or job.state != "queued":
                continue  # finished while it waited for a re-dispatch
            job.attempt += 1
            job.worker = None
            job.last_activity = now
            self._set_state(job, "dispatched")
            self._active[job.id] = job
            return job
        return None

    def sent(self, job: Job, now: float) -> None:
        """The PUSH of ``job`` completed: its claim timeout starts now."""
        if job.state == "dispatched":
            job.last_activity = now

    # -- messages from workers ------------------------------------------------------------------

    def handle(self, msg: Any, now: float) -> bool:
        """Take one decoded worker message; False if it was malformed and ignored."""
        if not isinstance(msg, dict):
            return False
        kind = msg.get("type")
        wid = msg.get("worker")
        if not isinstance(wid, str) or not wid:
            return False
        worker = self._touch(wid, msg, now)
        if kind in ("hello", "heartbeat"):
            return True
        if kind == "bye":
            worker.gone = True
            for lost in [j for j in self._active.values() if j.worker == wid]:
                self._requeue(lost, now, f"worker {wid} left")
            return True
        job_id = msg.get("job")
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        if kind in ("claim", "progress"):
            if job is None:
                self.unknown += 1
                return True
            if job.state not in ACTIVE or msg.get("attempt") != job.attempt:
                self.stale += 1
                return True
            job.worker = wid
            job.last_activity = now
            if kind == "claim":
                if job.state == "dispatched":
                    self._set_state(job, "claimed")
            else:
                if job.state != "running":
                    self._set_state(job, "running")
                    job.started = now
                pct = msg.get("progress", 0.0)
                if isinstance(pct, (int, float)) and not isinstance(pct, bool):
                    job.progress = min(1.0, max(0.0, float(pct)))
                worker.job = job.id
            self._changed[job.id] = job
            return True
        if kind in ("result", "error"):
            if worker.job == job_id:
                worker.job = None
            if job is None:
                self.unknown += 1
                return True
            if job.state in ("done", "failed"):
                self.duplicates += 1  # a second worker finished it too: it completes once
                return True
            self._finish(job, worker, msg, now)
            return True
        return False

    def _touch(self, wid: str, msg: dict[str, Any], now: float) -> Worker:
        worker = self.workers.get(wid)
        if worker is None:
            worker = self.workers[wid] = Worker(id=wid, first_seen=now, last_seen=now)
        worker.last_seen = now
        worker.gone = msg.get("type") == "bye"
        if isinstance(msg.get("host"), str):
            worker.host = msg["host"]
        if isinstance(msg.get("pid"), int):
            worker.pid = msg["pid"]
        return worker

    def _finish(self, job: Job, worker: Worker, msg: dict[str, Any], now: float) -> None:
        self._active.pop(job.id, None)
        job.params = {}  # never sent again: let a posted text go
        job.worker = worker.id
        job.finished = now
        if job.started is None:
            job.started = now
        if msg["type"] == "result":
            job.result = msg.get("result")
            job.progress = 1.0
            self._cache[job.key] = job.result
            self._set_state(job, "done")
        else:
            job.error = str(msg.get("error") or "the worker failed")
            self._set_state(job, "failed")
        worker.jobs_done += 1
        self._completions.append(now)
        self._finished.append(job.id)
        self._changed[job.id] = job
        while len(self._finished) > self.keep_finished:
            old = self._finished.popleft()
            self.jobs.pop(old, None)
            self._changed.pop(old, None)

    # -- timeouts -------------------------------------------------------------------------------

    def check_timeouts(self, now: float) -> list[Job]:
        """Re-dispatch every job given up on (see the module docstring); returns them."""
        requeued = []
        for job in list(self._active.values()):
            idle = now - job.last_activity
            if job.state == "dispatched" and idle > self.timeout:
                reason = f"not picked up by any worker within {self.timeout:g} s"
            elif job.state == "claimed":
                worker = self.workers.get(job.worker or "")
                if worker is not None and now - worker.last_seen <= self.timeout:
                    continue
                reason = f"worker {job.worker} silent for {self.timeout:g} s"
            elif job.state == "running" and idle > self.timeout:
                reason = f"no progress for {self.timeout:g} s from worker {job.worker}"
            else:
                continue
            self._requeue(job, now, reason)
            requeued.append(job)
        return requeued

    def _requeue(self, job: Job, now: float, reason: str) -> None:
        self._active.pop(job.id, None)
        worker = self.workers.get(job.worker or "")
        if worker is not None and worker.job == job.id:
            worker.job = None
        job.redispatches += 1
        job.notes.append(f"re-dispatched (attempt {job.attempt} lost: {reason})")
        job.progress = 0.0
        job.worker = None
        job.last_activity = now
        self._set_state(job, "queued")
        self._queue.appendleft(job.id)
        self.redispatched += 1
        self._changed[job.id] = job

    # -- views ----------------------------------------------------------------------------------

    def _set_state(self, job: Job, state: str) -> None:
        self._counts[job.state] -= 1
        self._counts[state] += 1
        job.state = state

    def live_workers(self, now: float) -> list[Worker]:
        return [
            w for w in self.workers.values() if not w.gone and now - w.last_seen <= self.timeout
        ]

    def forget_workers(self, now: float, after: float = 60.0) -> None:
        """Drop workers silent for ``after`` seconds from the list."""
        for wid in [w.id for w in self.workers.values() if now - w.last_seen > after]:
            del self.workers[wid]

    def unfinished(self) -> int:
        """Jobs submitted and not done or failed yet."""
        return sum(self._counts[state] for state in ("queued", *ACTIVE))

    def drain_changes(self) -> list[Job]:
        """The jobs changed since the last call, oldest change first."""
        changed = list(self._changed.values())
        self._changed.clear()
        return changed

    def jobs_per_second(self, now: float) -> float:
        while self._completions and now - self._completions[0] > self.rate_window:
            self._completions.popleft()
        return len(self._completions) / self.rate_window

    def stats(self, now: float) -> dict[str, Any]:
        counts = self._counts
        live = self.live_workers(now)
        return {
            "workers": len(live),
            "worker_list": [w.snapshot(now) for w in live],
            "queued": counts["queued"] + counts["dispatched"] + counts["claimed"],
            "running": counts["running"],
            "done": counts["done"],
            "failed": counts["failed"],
            "states": {state: counts[state] for state in STATES},
            "submitted": self.submitted,
            "redispatched": self.redispatched,
            "duplicates": self.duplicates,
            "jobs_per_second": round(self.jobs_per_second(now), 2),
            "timeout": self.timeout,
        }

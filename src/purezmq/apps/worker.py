"""The web demo's worker: ``purezmq worker tcp://server:5560 tcp://server:5561``.

A worker PULLs jobs from the server's job endpoint and PUSHes everything it has to say to the
server's result endpoint, as one JSON object per message, each naming the worker:

* ``hello`` when it starts, then a ``heartbeat`` whenever it has sent nothing for ``heartbeat``
  seconds (also while it computes), ``bye`` when it stops;
* ``claim`` for each job as soon as it is taken off the socket (a worker keeps taking jobs off its
  socket while it computes, between two steps of the work, so that the server always knows where
  a job is);
* ``progress`` when it starts a job and then every ``progress_step`` of the work (5 %), at most
  every 50 ms for small jobs and at least once a heartbeat interval for slow ones;
* ``result`` (or ``error``) when the job is done.

The work itself is ``purezmq.apps.tasks``; the worker is single-threaded and uses the blocking
purezmq API only. The web server starts its own workers with ``run_worker`` in processes started
with the multiprocessing ``spawn`` method; ``main`` is the command line for workers on other
machines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import purezmq as zmq

from .tasks import JobInputError, check_job, run_job

__all__ = ["main", "results_endpoint_for", "run_worker"]

_MIN_PROGRESS_INTERVAL = 0.05


def results_endpoint_for(jobs_endpoint: str) -> str:
    """``tcp://host:5560`` -> ``tcp://host:5561``: the result endpoint next to a job endpoint."""
    scheme, sep, rest = jobs_endpoint.partition("://")
    host, colon, port = rest.rpartition(":")
    if scheme != "tcp" or not sep or not colon or not port.isdigit():
        raise ValueError(
            f"cannot guess the result endpoint from {jobs_endpoint!r}: give it as well "
            "(purezmq worker JOBS_ENDPOINT RESULTS_ENDPOINT)"
        )
    return f"tcp://{host}:{int(port) + 1}"


class _Stop(BaseException):
    """SIGTERM: leave the loop (not an Exception, so no job reports it as its error)."""


def _raise_stop(signum: int, frame: Any) -> None:
    raise _Stop()


class _Worker:
    def __init__(
        self,
        ctx: zmq.Context,
        jobs_endpoint: str,
        results_endpoint: str,
        worker_id: str,
        heartbeat: float,
        progress_step: float,
    ) -> None:
        self.id = worker_id
        self.heartbeat = heartbeat
        self.progress_step = progress_step
        self.jobs = ctx.socket(zmq.PULL)
        self.jobs.setsockopt(zmq.LINGER, 0)
        self.jobs.connect(jobs_endpoint)
        self.out = ctx.socket(zmq.PUSH)
        self.out.setsockopt(zmq.LINGER, 2000)  # flush the last messages, never hang forever
        self.out.setsockopt(zmq.SNDTIMEO, 10_000)
        self.out.connect(results_endpoint)
        self.backlog: deque[dict[str, Any]] = deque()
        self.last_sent = 0.0
        self.jobs_done = 0
        self.current: str | None = None
        self.host = socket.gethostname()

    def send(self, msg: dict[str, Any], wait: bool = False) -> bool:
        """Send one message; without ``wait`` a message that cannot go at once is dropped."""
        msg["worker"] = self.id
        data = json.dumps(msg, separators=(",", ":")).encode("utf-8")
        try:
            self.out.send(data, 0 if wait else zmq.NOBLOCK)
        except zmq.Again:
            return False  # the server will notice the silence and re-dispatch
        self.last_sent = time.monotonic()
        return True

    def hello(self, kind: str = "hello") -> None:
        self.send(
            {
                "type": kind,
                "host": self.host,
                "pid": os.getpid(),
                "job": self.current,
                "backlog": len(self.backlog),
                "jobs_done": self.jobs_done,
            }
        )

    def take_jobs(self) -> None:
        """Move every job waiting on the socket to the backlog, claiming each."""
        while True:
            try:
                raw = self.jobs.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                job = json.loads(raw)
                if not isinstance(job, dict) or job.get("type") != "job":
                    raise ValueError("not a job")
                job_id, attempt = job["id"], job["attempt"]
            except (ValueError, KeyError, TypeError):
                continue  # not ours: nothing to claim
            self.backlog.append(job)
            self.send({"type": "claim", "job": job_id, "attempt": attempt})

    def run_one(self, job: dict[str, Any]) -> None:
        job_id, attempt = job["id"], job["attempt"]
        self.current = job_id
        started = time.monotonic()
        self.send({"type": "progress", "job": job_id, "attempt": attempt, "progress": 0.0})
        last_report = started
        next_step = self.progress_step
        try:
            kind, params = check_job({"kind": job.get("kind"), **(job.get("params") or {})})
            steps = run_job(kind, params)
            while True:
                try:
                    fraction = next(steps)
                except StopIteration as done:
                    result = done.value
                    break
                self.take_jobs()
                now = time.monotonic()
                crossed = fraction >= next_step and now - last_report >= _MIN_PROGRESS_INTERVAL
                if crossed or now - self.last_sent >= self.heartbeat:
                    self.send(
                        {
                            "type": "progress",
                            "job": job_id,
                            "attempt": attempt,
                            "progress": fraction,
                        }
                    )
                    last_report = now
                    while next_step <= fraction:
                        next_step += self.progress_step
        except Exception as exc:  # noqa: BLE001 - reported to the server as the job's error
            message = exc.message if isinstance(exc, JobInputError) else repr(exc)
            self.send({"type": "error", "job": job_id, "attempt": attempt, "error": message}, True)
        else:
            self.send(
                {
                    "type": "result",
                    "job": job_id,
                    "attempt": attempt,
                    "result": result,
                    "seconds": round(time.monotonic() - started, 3),
                },
                wait=True,
            )
        finally:
            self.current = None
            self.jobs_done += 1

    def serve(self, watch_parent: bool, max_jobs: int | None) -> None:
        parent = multiprocessing.parent_process() if watch_parent else None
        self.hello()
        while max_jobs is None or self.jobs_done < max_jobs:
            if self.backlog:
                self.run_one(self.backlog.popleft())
                continue
            if self.jobs.poll(int(self.heartbeat * 1000)):
                self.take_jobs()
            if time.monotonic() - self.last_sent >= self.heartbeat:
                self.hello("heartbeat")
            if parent is not None and not parent.is_alive():
                return  # orphaned: the server that started us is gone

    def close(self) -> None:
        self.send({"type": "bye", "backlog": len(self.backlog)})
        self.jobs.close()
        self.out.close()


def run_worker(
    jobs_endpoint: str,
    results_endpoint: str,
    *,
    worker_id: str | None = None,
    heartbeat: float = 1.0,
    progress_step: float = 0.05,
    watch_parent: bool = False,
    max_jobs: int | None = None,
) -> int:
    """Serve jobs until stopped (SIGTERM, SIGINT, or ``max_jobs`` done); returns 0.

    ``watch_parent`` (for workers started by the web server) also stops the worker when the process
    that started it is gone.
    """
    worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_stop)
    ctx = zmq.Context()
    worker = _Worker(ctx, jobs_endpoint, results_endpoint, worker_id, heartbeat, progress_step)
    try:
        worker.serve(watch_parent, max_jobs)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        worker.close()
        ctx.term()
    return 0


def _run_spawned(
    jobs_endpoint: str, results_endpoint: str, worker_id: str, heartbeat: float
) -> None:
    """Target of the worker processes the web server starts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the server's
    run_worker(
        jobs_endpoint, results_endpoint, worker_id=worker_id, heartbeat=heartbeat, watch_parent=True
    )


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="purezmq worker",
        description="A worker for 'purezmq demo web' on this or another machine: it PULLs jobs "
        "from the server's job endpoint and PUSHes progress and results to its result endpoint.",
    )
    parser.add_argument("jobs_endpoint", metavar="JOBS_ENDPOINT", help="e.g. tcp://server:5560")
    parser.add_argument(
        "results_endpoint",
        metavar="RESULTS_ENDPOINT",
        nargs="?",
        help="e.g. tcp://server:5561 (default: the job endpoint's port + 1)",
    )
    parser.add_argument("--id", dest="worker_id", help="worker name (default: HOSTNAME-PID)")
    parser.add_argument(
        "--heartbeat", type=_positive, default=1.0, help="seconds between heartbeats (default: 1)"
    )
    parser.add_argument(
        "--max-jobs", type=int, default=None, help="exit after this many jobs (default: never)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``purezmq worker JOBS_ENDPOINT [RESULTS_ENDPOINT]``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        results = args.results_endpoint
        if results is None:
            try:
                results = results_endpoint_for(args.jobs_endpoint)
            except ValueError as exc:
                parser.error(str(exc))
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    worker_id = args.worker_id or f"{socket.gethostname()}-{os.getpid()}"
    print(
        f"purezmq worker {worker_id}: jobs from {args.jobs_endpoint}, results to {results} "
        "(Ctrl-C to stop)",
        flush=True,
    )
    try:
        return run_worker(
            args.jobs_endpoint,
            results,
            worker_id=worker_id,
            heartbeat=args.heartbeat,
            max_jobs=args.max_jobs,
        )
    except zmq.ZMQError as exc:
        print(f"purezmq worker: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

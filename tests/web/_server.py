"""Run the web demo (``python -m purezmq.apps.web``) as a real process on loopback, for the tests.

Every wait has a deadline. The server binds port 0 for HTTP and both purezmq endpoints and prints
where it listens; ``WebServer`` reads that, waits for its workers, and stops it with SIGTERM (then
SIGKILL) however the test ends.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

START_DEADLINE = 30.0


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def http(
    method: str, url: str, body: bytes | None = None, ctype: str | None = None, timeout=10.0
) -> tuple[int, Any]:
    """``(status, decoded JSON body)`` of one request, 4xx and 5xx included."""
    request = urllib.request.Request(url, data=body, method=method)
    if ctype:
        request.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def post_json(url: str, payload: Any) -> tuple[int, Any]:
    return http("POST", url + "jobs", json.dumps(payload).encode(), "application/json")


class WebServer:
    """``with WebServer(tmp_path, workers=2) as server: server.url, server.stats() ...``"""

    def __init__(self, log_dir: Path, workers: int = 2, timeout: float = 2.0, *extra: str) -> None:
        self.workers = workers
        self.args = [
            sys.executable,
            "-m",
            "purezmq.apps.web",
            "--port=0",
            "--jobs-port=0",
            "--results-port=0",
            f"--workers={workers}",
            f"--timeout={timeout}",
            "--heartbeat=0.5",
            *extra,
        ]
        self.stderr_path = log_dir / "web-server.stderr"
        self.url = ""
        self.jobs_endpoint = ""
        self.results_endpoint = ""
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> WebServer:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()
        try:
            deadline = time.monotonic() + START_DEADLINE
            while not (self.url and self.jobs_endpoint and self.results_endpoint):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"the web server did not start:\n{self.log()}")
                try:
                    line = lines.get(timeout=min(left, 0.5))
                except queue.Empty:
                    continue
                if m := re.search(r"(http://\S+/)", line):
                    self.url = m.group(1)
                elif m := re.search(r"jobs endpoint:\s*(\S+)", line):
                    self.jobs_endpoint = m.group(1)
                elif m := re.search(r"results endpoint:\s*(\S+)", line):
                    self.results_endpoint = m.group(1)
            if self.workers:
                wait_for(
                    lambda: self.stats()["workers"] >= self.workers,
                    START_DEADLINE,
                    f"{self.workers} workers to say hello",
                )
        except BaseException:
            self.__exit__()
            raise
        return self

    def _read(self, lines: queue.Queue[str]) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.put(line)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._stderr.close()

    def log(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stats(self) -> dict[str, Any]:
        return http("GET", self.url + "stats")[1]

    def job(self, job_id: str) -> dict[str, Any]:
        return http("GET", self.url + f"jobs/{job_id}")[1]

    def worker_pid(self, worker_id: str) -> int:
        for worker in self.stats()["worker_list"]:
            if worker["id"] == worker_id:
                return int(worker["pid"])
        raise AssertionError(f"no live worker {worker_id!r}")

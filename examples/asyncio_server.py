"""An asyncio web-style server that hands heavy work to worker processes over purezmq.

    python examples/asyncio_server.py --port 8080 --workers 3
    curl -s -X POST localhost:8080/square -d '{"numbers": [1, 2, 3]}'   # 202 {"id": "1", ...}
    curl -s -X POST localhost:8080/primes -d '{"below": 1000000}'       # 202 {"id": "2", ...}
    curl -s localhost:8080/result/1      # 200 {"status": "done", "result": [1, 4, 9], ...}
                                         # (202 while pending, 404 for an unknown id)

    python examples/asyncio_server.py --selftest    # server + workers on a free port, a few
                                                    # jobs through plain http.client, exit 0 if OK

The HTTP side is plain ``asyncio.start_server`` speaking just enough HTTP/1.1 (one request per
connection). A POST answers at once with the job id (202); the job goes to the workers over a
purezmq.asyncio PUSH socket, and a collector task reads the results from a PULL socket. Both run
inside the event loop (purezmq.asyncio needs no helper thread), so nothing here blocks the loop.
The workers are processes started with multiprocessing ("spawn"); they use the blocking purezmq
API: PULL a job, compute, PUSH the result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import itertools
import json
import math
import multiprocessing
import os
import signal
import sys
import time
from typing import Any

import purezmq
import purezmq.asyncio

MAX_BODY = 1 << 20
MAX_NUMBERS = 100_000
MAX_PRIME_LIMIT = 20_000_000
REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
}


# --------------------------------------------------------------------------------------------------
# the heavy part, run by the workers


def count_primes_below(n: int) -> int:
    if n < 3:
        return 0
    sieve = bytearray([1]) * n
    sieve[0] = sieve[1] = 0
    for i in range(2, math.isqrt(n - 1) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytes(len(range(i * i, n, i)))
    return sum(sieve)


def run_job(job: dict[str, Any]) -> Any:
    if job["kind"] == "square":
        return [x * x for x in job["numbers"]]
    if job["kind"] == "primes":
        return count_primes_below(job["below"])
    raise ValueError(f"unknown job kind {job['kind']!r}")


def worker_main(jobs_endpoint: str, results_endpoint: str, parent_pid: int) -> None:
    """A worker process: PULL jobs, PUSH results, until told to stop or the server is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's business
    ctx = purezmq.Context()
    jobs = ctx.socket(purezmq.PULL)
    results = ctx.socket(purezmq.PUSH)
    jobs.connect(jobs_endpoint)
    results.connect(results_endpoint)
    try:
        while True:
            if not jobs.poll(500):
                if os.getppid() != parent_pid:
                    return  # the server died without telling us
                continue
            job = jobs.recv_json()
            if job.get("stop"):
                return
            if job.get("ping"):
                results.send_json({"pong": os.getpid()})
                continue
            reply: dict[str, Any] = {"id": job["id"], "worker": os.getpid()}
            try:
                reply["result"] = run_job(job)
            except Exception as exc:  # a bad job must not kill the worker
                reply["error"] = f"{type(exc).__name__}: {exc}"
            results.send_json(reply)
    finally:
        jobs.close(linger=0)
        results.close(linger=2000)  # results already sent get up to 2 s to leave
        ctx.term()


# --------------------------------------------------------------------------------------------------
# the server


class HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_job(kind: str, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise HTTPError(400, "the body must be JSON") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "the body must be a JSON object")
    if kind == "square":
        numbers = data.get("numbers")
        if (
            not isinstance(numbers, list)
            or len(numbers) > MAX_NUMBERS
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers)
        ):
            raise HTTPError(400, f'expected {{"numbers": [up to {MAX_NUMBERS} numbers]}}')
        return {"kind": kind, "numbers": numbers}
    below = data.get("below")
    if not isinstance(below, int) or isinstance(below, bool) or not 0 <= below <= MAX_PRIME_LIMIT:
        raise HTTPError(400, f'expected {{"below": an integer in 0..{MAX_PRIME_LIMIT}}}')
    return {"kind": kind, "below": below}


class JobServer:
    def __init__(self, workers: int) -> None:
        self.n_workers = workers
        self.pending: set[str] = set()
        self.done: dict[str, dict[str, Any]] = {}  # an example: results are kept forever
        self._ids = itertools.count(1)
        self.processes: list[Any] = []

    async def start(self, host: str, port: int) -> int:
        """Bind the sockets, start the workers and the HTTP server; returns the HTTP port."""
        self.ctx = purezmq.asyncio.Context()
        self.jobs = self.ctx.socket(purezmq.PUSH)
        self.results = self.ctx.socket(purezmq.PULL)
        jobs_endpoint = f"tcp://127.0.0.1:{self.jobs.bind_to_random_port('tcp://127.0.0.1')}"
        results_endpoint = f"tcp://127.0.0.1:{self.results.bind_to_random_port('tcp://127.0.0.1')}"
        spawn = multiprocessing.get_context("spawn")
        for _ in range(self.n_workers):
            process = spawn.Process(
                target=worker_main,
                args=(jobs_endpoint, results_endpoint, os.getpid()),
                daemon=True,
            )
            process.start()
            self.processes.append(process)
        await self._wait_for_workers()
        self.collector = asyncio.ensure_future(self._collect())
        self.server = await asyncio.start_server(self._handle, host, port)
        return self.server.sockets[0].getsockname()[1]

    async def _wait_for_workers(self, timeout: float = 20.0) -> None:
        """Ping until every worker answered: a PUSH deals only to connected peers, so jobs posted
        before a worker has connected would all go to the ones that have."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        ready: set[int] = set()
        while len(ready) < self.n_workers:
            if loop.time() > deadline:
                print(f"warning: {len(ready)} of {self.n_workers} workers answered", flush=True)
                return
            await self.jobs.send_json({"ping": True})
            if await self.results.poll(50):
                while await self.results.poll(0):
                    ready.add((await self.results.recv_json())["pong"])

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        # A stop message goes to one connected worker; a worker that stopped is no longer dealt
        # to, so repeat until every one has exited (then make sure of the rest).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while any(p.is_alive() for p in self.processes) and loop.time() < deadline:
            with contextlib.suppress(purezmq.Again):
                await self.jobs.send_json({"stop": True}, purezmq.NOBLOCK)
            await asyncio.sleep(0.02)

        def reap() -> None:
            for process in self.processes:
                if process.is_alive():
                    process.terminate()
                process.join(5)

        await asyncio.to_thread(reap)
        self.collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.collector
        self.ctx.destroy(linger=0)

    async def _collect(self) -> None:
        while True:
            reply = await self.results.recv_json()
            if "pong" in reply:
                continue  # an answer to a surplus ping of _wait_for_workers
            job_id = reply["id"]
            self.pending.discard(job_id)
            self.done[job_id] = reply

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                status, payload = await asyncio.wait_for(self._request(reader), 10)
            except HTTPError as exc:
                status, payload = exc.status, {"error": str(exc)}
            body = json.dumps(payload).encode() + b"\n"
            head = (
                f"HTTP/1.1 {status} {REASONS.get(status, '')}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass  # a client that went away or never finished its request
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[int, Any]:
        request_line = (await reader.readline()).decode("latin-1").split()
        if len(request_line) != 3 or not request_line[2].startswith("HTTP/"):
            raise HTTPError(400, "malformed request line")
        method, target = request_line[0].upper(), request_line[1]
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            if len(headers) > 100:
                raise HTTPError(400, "too many headers")
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise HTTPError(400, "bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise HTTPError(413, f"the body may have at most {MAX_BODY} bytes")
        body = await reader.readexactly(length) if length else b""
        return await self._route(method, target.split("?", 1)[0], body)

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if path in ("/square", "/primes"):
            if method != "POST":
                raise HTTPError(405, "use POST")
            job = parse_job(path[1:], body)
            job_id = str(next(self._ids))
            job["id"] = job_id
            self.pending.add(job_id)
            await self.jobs.send_json(job)  # waits only if the workers are far behind (SNDHWM)
            return 202, {"id": job_id, "status": "pending", "result": f"/result/{job_id}"}
        if path.startswith("/result/"):
            if method != "GET":
                raise HTTPError(405, "use GET")
            job_id = path[len("/result/") :]
            if job_id in self.done:
                reply = self.done[job_id]
                if "error" in reply:
                    return 200, {"id": job_id, "status": "failed", "error": reply["error"]}
                return 200, {
                    "id": job_id,
                    "status": "done",
                    "result": reply["result"],
                    "worker": reply["worker"],
                }
            if job_id in self.pending:
                return 202, {"id": job_id, "status": "pending"}
            raise HTTPError(404, f"no job {job_id!r}")
        raise HTTPError(404, f"nothing at {path}")


# --------------------------------------------------------------------------------------------------
# running it, and the self-check


async def serve(host: str, port: int, workers: int) -> None:
    server = JobServer(workers)
    actual = await server.start(host, port)
    print(f"listening on http://{host}:{actual} with {workers} worker(s)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("stopping", flush=True)
        await server.stop()


SELFTEST_JOBS: list[tuple[str, dict[str, Any], Any]] = [
    ("/square", {"numbers": [1, 2, 3]}, [1, 4, 9]),
    ("/square", {"numbers": list(range(10))}, [x * x for x in range(10)]),
    ("/square", {"numbers": [-1.5, 0, 2]}, [2.25, 0, 4]),
    ("/square", {"numbers": []}, []),
    ("/primes", {"below": 100}, 25),
    ("/primes", {"below": 1_000_000}, 78498),
]


def http_request(port: int, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = None if payload is None else json.dumps(payload).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def selftest_client(port: int, deadline_s: float = 30.0) -> None:
    """POST the jobs, check the error cases, then poll every result (blocking: run in a thread)."""
    ids = []
    for path, payload, _ in SELFTEST_JOBS:
        status, reply = http_request(port, "POST", path, payload)
        assert status == 202 and reply["status"] == "pending", (status, reply)
        ids.append(reply["id"])
    assert len(set(ids)) == len(ids), ids
    for method, path, payload, expected in [
        ("GET", "/result/no-such-job", None, 404),
        ("POST", "/square", {"numbers": "one, two"}, 400),
        ("POST", "/primes", {"below": -1}, 400),
        ("GET", "/square", None, 405),
        ("GET", "/elsewhere", None, 404),
    ]:
        status, reply = http_request(port, method, path, payload)
        assert status == expected, (method, path, status, reply)

    deadline = time.monotonic() + deadline_s
    workers = set()
    for job_id, (path, payload, expected) in zip(ids, SELFTEST_JOBS, strict=True):
        while True:
            status, reply = http_request(port, "GET", f"/result/{job_id}")
            if status == 200:
                break
            assert status == 202 and reply["status"] == "pending", (status, reply)
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still pending after {deadline_s} s")
            time.sleep(0.02)  # the client polls: that is this API's contract
        assert reply["status"] == "done" and reply["result"] == expected, (payload, reply)
        workers.add(reply["worker"])
        print(
            f"job {job_id}: POST {path} {json.dumps(payload)} -> {json.dumps(reply['result'])}"
            f" (worker {reply['worker']})",
            flush=True,
        )
    print(f"{len(ids)} jobs done by {len(workers)} worker process(es)", flush=True)


async def selftest(host: str, port: int, workers: int) -> int:
    server = JobServer(workers)
    actual = await server.start(host, port)
    print(f"selftest: server on http://{host}:{actual} with {workers} worker(s)", flush=True)
    try:
        await asyncio.to_thread(selftest_client, actual)
    except AssertionError as exc:
        print(f"selftest FAILED: {exc!r}", flush=True)
        return 1
    finally:
        await server.stop()
    print("selftest OK", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="default 8080; 0 picks a free port (--selftest: a free port unless given)",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--selftest", action="store_true", help="run a self-check and exit")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.selftest:
        return asyncio.run(selftest(args.host, args.port or 0, args.workers))
    asyncio.run(serve(args.host, 8080 if args.port is None else args.port, args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())

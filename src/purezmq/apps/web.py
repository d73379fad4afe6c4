"""The web demo: heavy work off the request (``purezmq demo web``).

An aiohttp server with one page. ``POST /jobs`` checks the job, queues it and answers 202 at once
(with the job's id and the last result for the same input, if any); the job is PUSHed over
purezmq to a pool of worker processes (``purezmq.apps.worker``), which PUSH claims, progress and
results back to a PULL socket of the server. The server relays them to the browsers over a
WebSocket, with a dashboard (workers, queued/running/done, jobs per second). Jobs of a worker that
dies are re-dispatched after ``timeout`` seconds without progress; a job completes once even if two
workers finish it (``purezmq.apps.dispatch``).

The server is one asyncio event loop: aiohttp, the purezmq asyncio sockets (served by that loop)
and a few tasks (receive, dispatch, timeouts, publish). Nothing in it blocks the loop.

HTTP API::

    GET  /                 the page
    POST /jobs             {"kind": "matrix", "n": 300, "seed": 1}   -> 202 {"id", "cached", ...}
                           {"kind": "primes", "below": 1000000}
                           {"kind": "words", "text": "...", "top": 10}  (or a form, an upload)
    GET  /jobs             the most recent jobs
    GET  /jobs/{id}        one job
    GET  /stats            the dashboard's numbers
    GET  /ws               WebSocket: {"type": "hello"|"jobs"|"stats", ...}
    GET  /zws.js           a ZeroMQ socket for the browser (ZWS 2.0 over WebSocket)
    GET  /metrics          the server's sockets in Prometheus' text format (Socket.stats())

Besides, a PUB socket bound on ws://<zmq-host>:<feed-port>/feed publishes the dashboard's
numbers as ZeroMQ messages [b"stats", json]: the page subscribes to it straight from the
browser with zws.js, no server code between (and any ZeroMQ SUB can, over ws://).

Errors are JSON ``{"error": "..."}`` with a 4xx status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing
import signal
import socket
import sys
import time
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import purezmq as zmq
import purezmq.asyncio as zmq_asyncio

from .dispatch import JobBook
from .tasks import KINDS, TEXT_MAX_BYTES, JobInputError, check_job

try:
    from aiohttp import WSMsgType, web
except ImportError:  # pragma: no cover - the "web" extra is missing
    web = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

__all__ = ["Config", "WebApp", "build_parser", "main"]

log = logging.getLogger("purezmq.apps.web")

MAX_BODY = TEXT_MAX_BYTES + 256 * 1024  # room for a form's or JSON's overhead around the text
RECENT = 100  # jobs shown to a browser that connects


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 4
    zmq_host: str = "127.0.0.1"
    jobs_port: int = 5560
    results_port: int = 5561
    feed_port: int = 0  # the ws:// PUB feed (0: any free port)
    timeout: float = 5.0
    heartbeat: float = 1.0
    prefetch: int = 2
    respawn: bool = True
    max_queue: int = 100_000
    access_log: bool = False


def _endpoint_of(sock: Any) -> str:
    endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
    return endpoint.decode() if isinstance(endpoint, bytes) else str(endpoint)


def _error(status: int, message: str, **headers: str) -> Any:
    return web.json_response({"error": message}, status=status, headers=headers or None)


class WebApp:
    """The server: ``await start()``, then ``url``, ``jobs_endpoint``, ``results_endpoint``."""

    def __init__(self, config: Config) -> None:
        if web is None:
            raise RuntimeError("the web demo needs aiohttp: pip install 'purezmq[web]'")
        self.config = config
        self.book = JobBook(timeout=config.timeout, prefetch=config.prefetch)
        self.clients: set[Any] = set()
        self.procs: dict[str, BaseProcess] = {}
        self.restarts = 0
        self.url = ""
        self.jobs_endpoint = ""
        self.results_endpoint = ""
        self._worker_ids = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._ctx: Any = None
        self._runner: Any = None
        static = resources.files(__package__).joinpath("static")
        self._page = static.joinpath("index.html").read_bytes()
        self._zws_js = static.joinpath("zws.js").read_bytes()

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        cfg = self.config
        self._ctx = zmq_asyncio.Context()
        self.jobs = self._ctx.socket(zmq.PUSH)
        self.jobs.setsockopt(zmq.LINGER, 0)
        self.jobs.setsockopt(zmq.SNDTIMEO, 1000)  # no worker attached: the timeout re-dispatches
        self.results = self._ctx.socket(zmq.PULL)
        self.results.setsockopt(zmq.LINGER, 0)
        self.jobs.bind(f"tcp://{cfg.zmq_host}:{cfg.jobs_port or '*'}")
        self.results.bind(f"tcp://{cfg.zmq_host}:{cfg.results_port or '*'}")
        self.jobs_endpoint = _endpoint_of(self.jobs)
        self.results_endpoint = _endpoint_of(self.results)
        self.feed = self._ctx.socket(zmq.PUB)
        self.feed.setsockopt(zmq.LINGER, 0)
        self.feed.bind(f"ws://{cfg.zmq_host}:{cfg.feed_port or '*'}/feed")
        self.feed_endpoint = _endpoint_of(self.feed)

        self._runner = web.AppRunner(self.make_app(), access_log=log if cfg.access_log else None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, cfg.host, cfg.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        host = f"[{host}]" if ":" in host else host
        self.url = f"http://{host}:{port}/"

        loop = asyncio.get_running_loop()
        for coro in (self._receive(), self._dispatch(), self._tick(), self._publish()):
            self._tasks.append(loop.create_task(coro))
        for _ in range(cfg.workers):
            self._spawn()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for ws in list(self.clients):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        procs = list(self.procs.values())
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: the worker says bye and exits

        def reap() -> None:
            deadline = time.monotonic() + 5.0
            for proc in procs:
                proc.join(max(0.1, deadline - time.monotonic()))
                if proc.is_alive():
                    proc.kill()
                    proc.join(1.0)

        await asyncio.to_thread(reap)
        if self._ctx is not None:
            self._ctx.destroy(linger=0)

    def _local_endpoint(self, endpoint: str) -> str:
        """Where a worker on this machine connects to reach ``endpoint``."""
        scheme, _, rest = endpoint.partition("://")
        host, _, port = rest.rpartition(":")
        if host in ("0.0.0.0", "*", "[::]", "::"):
            host = "127.0.0.1" if host in ("0.0.0.0", "*") else "[::1]"
        return f"{scheme}://{host}:{port}"

    @staticmethod
    def advertised_endpoint(endpoint: str) -> str:
        """Where other machines connect to reach ``endpoint`` (a wildcard: this host's name)."""
        scheme, _, rest = endpoint.partition("://")
        host, _, port = rest.rpartition(":")
        if host in ("0.0.0.0", "*", "[::]", "::"):
            host = socket.gethostname()
        return f"{scheme}://{host}:{port}"

    def _spawn(self) -> None:
        self._worker_ids += 1
        worker_id = f"{socket.gethostname()}-local-{self._worker_ids}"
        from .worker import _run_spawned

        proc = multiprocessing.get_context("spawn").Process(
            target=_run_spawned,
            args=(
                self._local_endpoint(self.jobs_endpoint),
                self._local_endpoint(self.results_endpoint),
                worker_id,
                self.config.heartbeat,
            ),
            name=f"purezmq-web-{worker_id}",
            daemon=True,
        )
        proc.start()
        self.procs[worker_id] = proc

    # -- tasks ----------------------------------------------------------------------------------

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            raw = await self.results.recv()
            try:
                msg = json.loads(raw)
            except ValueError:
                log.warning("ignored a malformed message from a worker: %r", raw[:80])
                continue
            if not self.book.handle(msg, loop.time()):
                log.warning("ignored an unexpected message from a worker: %r", raw[:80])
            self._wake.set()

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while (job := self.book.next_dispatch(loop.time())) is not None:
                try:
                    await self.jobs.send(job.message())
                except zmq.Again:
                    continue  # nobody to take it: the claim timeout re-dispatches it
                self.book.sent(job, loop.time())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        interval = min(0.25, self.config.timeout / 4)
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for job in self.book.check_timeouts(now):
                log.info("job %s %s", job.id, job.notes[-1])
            self.book.forget_workers(now)
            self._wake.set()  # capacity changes as workers come and go
            for worker_id, proc in list(self.procs.items()):
                if proc.exitcode is not None:
                    del self.procs[worker_id]
                    if self.config.respawn:
                        log.info(
                            "worker %s exited (%s); starting another", worker_id, proc.exitcode
                        )
                        self.restarts += 1
                        self._spawn()

    async def _publish(self) -> None:
        loop = asyncio.get_running_loop()
        last_stats = 0.0
        while True:
            await asyncio.sleep(0.1)
            now = loop.time()
            changed = self.book.drain_changes()
            messages: list[dict[str, Any]] = []
            if changed:
                messages.append({"type": "jobs", "jobs": [j.snapshot(now) for j in changed]})
            if now - last_stats >= 0.5:
                stats = self.stats(now)
                messages.append({"type": "stats", "stats": stats})
                last_stats = now
                # The same numbers as ZeroMQ messages, for SUBs on ws:// (browsers with zws.js).
                await self.feed.send_multipart([b"stats", json.dumps(stats).encode()])
            if messages and self.clients:
                await self._broadcast([json.dumps(m, separators=(",", ":")) for m in messages])

    async def _broadcast(self, texts: list[str]) -> None:
        async def send(ws: Any) -> None:
            try:
                for text in texts:
                    await asyncio.wait_for(ws.send_str(text), 2.0)
            except Exception:  # noqa: BLE001 - a gone or stuck browser is dropped
                self.clients.discard(ws)
                with contextlib.suppress(Exception):
                    await ws.close()

        await asyncio.gather(*(send(ws) for ws in list(self.clients)))

    def stats(self, now: float) -> dict[str, Any]:
        stats = self.book.stats(now)
        stats["local_processes"] = {wid: p.pid for wid, p in self.procs.items()}
        stats["restarts"] = self.restarts
        stats["endpoints"] = {
            "jobs": self.jobs_endpoint,
            "results": self.results_endpoint,
            "feed": self.feed_endpoint,
        }
        return stats

    # -- HTTP -----------------------------------------------------------------------------------

    def make_app(self) -> Any:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[_json_errors])
        app.router.add_get("/", self.page)
        app.router.add_post("/jobs", self.post_job)
        app.router.add_get("/jobs", self.list_jobs)
        app.router.add_get("/jobs/{id}", self.get_job)
        app.router.add_get("/stats", self.get_stats)
        app.router.add_get("/ws", self.websocket)
        app.router.add_get("/zws.js", self.zws_js)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def metrics(self, request: Any) -> Any:
        assert self._ctx is not None
        return web.Response(
            text=self._ctx.metrics_text(), content_type="text/plain", charset="utf-8"
        )

    async def zws_js(self, request: Any) -> Any:
        return web.Response(body=self._zws_js, content_type="text/javascript", charset="utf-8")

    async def page(self, request: Any) -> Any:
        return web.Response(body=self._page, content_type="text/html", charset="utf-8")

    async def post_job(self, request: Any) -> Any:
        ctype = request.content_type
        if ctype in ("application/json", "text/plain", "application/octet-stream"):
            raw = await request.read()
            try:
                payload = json.loads(raw)
            except UnicodeDecodeError:
                return _error(400, "malformed JSON: the body is not UTF-8")
            except ValueError as exc:
                return _error(400, f"malformed JSON: {exc}")
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            payload = await _form_payload(request)
        else:
            return _error(415, f"send the job as JSON (application/json) or a form, not {ctype}")
        try:
            kind, params = check_job(payload)
        except JobInputError as exc:
            return _error(exc.status, exc.message)
        if self.book.unfinished() >= self.config.max_queue:
            return _error(503, "too many jobs waiting; try again later", **{"Retry-After": "5"})
        now = asyncio.get_running_loop().time()
        job, cached = self.book.submit(kind, params, now)
        self._wake.set()
        body = {
            "id": job.id,
            "kind": kind,
            "label": job.label,
            "state": job.state,
            "cached": cached,
            "url": f"/jobs/{job.id}",
        }
        return web.json_response(body, status=202)

    async def list_jobs(self, request: Any) -> Any:
        now = asyncio.get_running_loop().time()
        recent = list(self.book.jobs.values())[-RECENT:]
        return web.json_response({"jobs": [j.snapshot(now) for j in recent]})

    async def get_job(self, request: Any) -> Any:
        job = self.book.jobs.get(request.match_info["id"])
        if job is None:
            return _error(404, f"no job {request.match_info['id']!r} (unknown or forgotten)")
        return web.json_response(job.snapshot(asyncio.get_running_loop().time()))

    async def get_stats(self, request: Any) -> Any:
        return web.json_response(self.stats(asyncio.get_running_loop().time()))

    async def websocket(self, request: Any) -> Any:
        ws = web.WebSocketResponse(heartbeat=20.0)
        await ws.prepare(request)
        now = asyncio.get_running_loop().time()
        recent = list(self.book.jobs.values())[-RECENT:]
        hello = {
            "type": "hello",
            "kinds": list(KINDS),
            "stats": self.stats(now),
            "jobs": [j.snapshot(now) for j in recent],
        }
        await ws.send_str(json.dumps(hello, separators=(",", ":")))
        self.clients.add(ws)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break  # the page only listens
        finally:
            self.clients.discard(ws)
        return ws


async def _form_payload(request: Any) -> dict[str, Any]:
    """A posted form as a job payload; an uploaded file is the ``text`` of a words job."""
    form = await request.post()
    payload: dict[str, Any] = {}
    upload = None
    for name, value in form.items():
        if hasattr(value, "file"):  # a FileField
            if name in ("file", "text"):
                upload = value.file.read()
            else:
                payload[name] = value.file.read()
        elif name == "file":
            continue  # an empty file input sends an empty string
        else:
            payload[name] = value
    if upload and not str(payload.get("text") or "").strip():
        payload["text"] = upload
    return payload


if web is not None:

    @web.middleware
    async def _json_errors(request: Any, handler: Any) -> Any:
        """aiohttp's own 4xx (404, 405, 413 ...) as JSON ``{"error": ...}`` too."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400 or exc.content_type == "application/json":
                raise
            if exc.status == 404:
                message = f"no such page: {request.path}"
            elif exc.status == 405:
                message = f"method {request.method} is not allowed for {request.path}"
            elif exc.status == 413:
                message = f"job too large: the request body is over {MAX_BODY} bytes"
            else:
                message = exc.text or exc.reason
            headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow",)}
            return _error(exc.status, message, **headers)


# -- command line -------------------------------------------------------------------------------


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="purezmq demo web",
        description="A web page that sends CPU-heavy jobs to worker processes over purezmq "
        "(PUSH/PULL) and shows their progress live. Needs the web extra: "
        "pip install 'purezmq[web]'.",
    )
    p.add_argument("--host", default="127.0.0.1", help="HTTP address (default: %(default)s)")
    p.add_argument("--port", type=_count, default=8080, help="HTTP port, 0 for any (default: 8080)")
    p.add_argument(
        "--workers", type=_count, default=4, help="local worker processes (default: %(default)s)"
    )
    p.add_argument(
        "--zmq-host",
        default="127.0.0.1",
        help="address of the job and result endpoints; 0.0.0.0 to let workers on other machines "
        "in (default: %(default)s)",
    )
    p.add_argument("--jobs-port", type=_count, default=5560, help="job endpoint port (PUSH)")
    p.add_argument("--results-port", type=_count, default=5561, help="result endpoint port (PULL)")
    p.add_argument(
        "--feed-port",
        type=_count,
        default=0,
        help="port of the ws:// PUB feed of the dashboard's numbers (default: any free one)",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=5.0,
        help="seconds without progress before a job is re-dispatched (default: %(default)s)",
    )
    p.add_argument(
        "--heartbeat",
        type=_positive_float,
        default=1.0,
        help="local workers' heartbeat interval in seconds (default: %(default)s)",
    )
    p.add_argument(
        "--prefetch",
        type=int,
        default=2,
        help="jobs out per live worker at most (default: %(default)s)",
    )
    p.add_argument(
        "--no-respawn", action="store_true", help="do not replace local workers that die"
    )
    p.add_argument("--access-log", action="store_true", help="log every HTTP request")
    return p


async def _serve(config: Config) -> None:
    app = WebApp(config)
    await app.start()
    jobs, results = app.jobs_endpoint, app.results_endpoint
    print(f"purezmq demo web: {app.url}", flush=True)
    print(f"  jobs endpoint:    {jobs}", flush=True)
    print(f"  results endpoint: {results}", flush=True)
    print(f"  dashboard feed:   {app.feed_endpoint} (PUB, topic 'stats')", flush=True)
    remote = [app.advertised_endpoint(e) for e in (jobs, results)]
    plural = "" if config.workers == 1 else "es"
    print(
        f"  {config.workers} local worker process{plural}; add more with: "
        f"purezmq worker {' '.join(remote)}  (Ctrl-C to stop)",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await app.stop()


def main(argv: list[str] | None = None) -> int:
    """``purezmq demo web [--workers N] [--port P] ...``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.prefetch < 1:
            parser.error("--prefetch must be at least 1")
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if web is None:
        print("purezmq demo web: needs aiohttp: pip install 'purezmq[web]'", file=sys.stderr)
        return 1
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    config = Config(
        host=args.host,
        port=args.port,
        workers=args.workers,
        zmq_host=args.zmq_host,
        jobs_port=args.jobs_port,
        results_port=args.results_port,
        feed_port=args.feed_port,
        timeout=args.timeout,
        heartbeat=args.heartbeat,
        prefetch=args.prefetch,
        respawn=not args.no_respawn,
        access_log=args.access_log,
    )
    try:
        asyncio.run(_serve(config))
    except KeyboardInterrupt:
        return 0
    except (OSError, zmq.ZMQError) as exc:
        print(f"purezmq demo web: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

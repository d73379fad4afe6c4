"""The web demo's HTTP API against a real server process on loopback: bad input, a worker started
with the ``purezmq worker`` command line, and a burst of 1,000 POSTs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from purezmq.apps import worker as worker_cli
from purezmq.apps.tasks import TEXT_MAX_BYTES
from purezmq.apps.web import MAX_BODY

from ._server import WebServer, http, post_json, wait_for

BURST = 1000


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory: pytest.TempPathFactory):
    """A server with no worker of its own: jobs wait in its queue."""
    with WebServer(tmp_path_factory.mktemp("idle"), workers=0) as server:
        yield server


BAD = [
    # (content type, body, status, words in the error)
    ("application/json", b'{"kind": "matrix", "n": ', 400, "malformed JSON"),
    ("application/json", b"\xff\xfe", 400, "malformed JSON"),
    ("application/json", b"[1, 2, 3]", 400, "must be a JSON object"),
    ("application/json", b'{"n": 3}', 400, "missing 'kind'"),
    ("application/json", b'{"kind": "sort", "n": 3}', 400, "unknown job kind 'sort'"),
    ("application/json", b'{"kind": "matrix", "n": 5000}', 413, "job too large"),
    ("application/json", b'{"kind": "primes", "below": 100000000}', 413, "job too large"),
    ("application/json", b'{"kind": "primes", "below": "many"}', 400, "must be an integer"),
    ("application/json", b'{"kind": "words", "text": ""}', 400, "the text is empty"),
    ("application/json", b'{"kind": "words"}', 400, "a words job needs a 'text'"),
    ("application/x-www-form-urlencoded", b"kind=matrix&n=9999", 413, "job too large"),
    ("application/x-www-form-urlencoded", b"kind=bogus", 400, "unknown job kind"),
    ("text/csv", b"1,2,3", 415, "JSON"),
]


@pytest.mark.parametrize(("ctype", "body", "status", "words"), BAD)
def test_bad_input_gets_4xx_with_a_message(
    idle_server: WebServer, ctype: str, body: bytes, status: int, words: str
) -> None:
    got, answer = http("POST", idle_server.url + "jobs", body, ctype)
    assert got == status, answer
    assert set(answer) == {"error"} and words in answer["error"], answer


def test_too_large_bodies_and_wrong_routes_get_json_errors(idle_server: WebServer) -> None:
    text = "word " * (TEXT_MAX_BYTES // 5 + 1)  # just over the text limit, under the body limit
    status, answer = post_json(idle_server.url, {"kind": "words", "text": text})
    assert status == 413 and "job too large" in answer["error"]
    huge = b'{"kind": "words", "text": "' + b"a" * MAX_BODY + b'"}'
    status, answer = http("POST", idle_server.url + "jobs", huge, "application/json")
    assert status == 413 and "job too large" in answer["error"]
    assert http("GET", idle_server.url + "nowhere") == (404, {"error": "no such page: /nowhere"})
    status, answer = http("DELETE", idle_server.url + "jobs")
    assert status == 405 and "not allowed" in answer["error"]
    status, answer = http("GET", idle_server.url + "jobs/no-such-job")
    assert status == 404 and "no job" in answer["error"]
    assert idle_server.stats()["submitted"] == 0  # nothing bad was queued


def test_a_worker_from_the_command_line_does_queued_jobs(
    idle_server: WebServer, tmp_path: Path
) -> None:
    # Queued while no worker exists: accepted at once all the same.
    status, answer = post_json(idle_server.url, {"kind": "matrix", "matrix": [[1, 2], [3, 4]]})
    assert status == 202 and answer["state"] == "queued" and answer["cached"] is None
    form = b"kind=words&text=to+be+or+not+to+be&top=2"
    status, words = http(
        "POST", idle_server.url + "jobs", form, "application/x-www-form-urlencoded"
    )
    assert status == 202
    time.sleep(0.3)
    assert idle_server.job(answer["id"])["state"] == "queued"

    # Only the job endpoint given: the result endpoint is its port + 1, unless told.
    assert worker_cli.results_endpoint_for("tcp://server:5560") == "tcp://server:5561"
    log = (tmp_path / "worker.out").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "purezmq.apps.worker",
            idle_server.jobs_endpoint,
            idle_server.results_endpoint,
            "--id=cli-worker",
            "--heartbeat=0.5",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        done = wait_for(
            lambda: (job := idle_server.job(answer["id"]))["state"] == "done" and job,
            20,
            "the queued job to be done by the command-line worker",
        )
        assert done["worker"] == "cli-worker"
        assert done["result"]["square"] == [[7, 10], [15, 22]]
        result = wait_for(lambda: idle_server.job(words["id"])["result"], 10, "the words job")
        assert result["top"] == [["be", 2], ["to", 2]] and result["words"] == 6
        assert idle_server.stats()["worker_list"][0]["id"] == "cli-worker"
    finally:
        proc.terminate()  # SIGTERM: the worker says bye
        proc.wait(10)
        log.close()
    assert proc.returncode == 0, (tmp_path / "worker.out").read_text()
    wait_for(lambda: idle_server.stats()["workers"] == 0, 5, "the worker's bye")

    # The same input again: answered at once with the cached result.
    status, again = post_json(idle_server.url, {"kind": "matrix", "matrix": [[1, 2], [3, 4]]})
    assert status == 202 and again["cached"]["square"] == [[7, 10], [15, 22]]


async def _burst(url: str) -> tuple[list[tuple[int, str, float]], list[float], Counter[str]]:
    """POST ``BURST`` small jobs, 50 at a time; meanwhile time GET /stats and watch the WebSocket
    for every job's completion."""
    done_events: Counter[str] = Counter()
    stats_latency: list[float] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        ws = await session.ws_connect(url + "ws")

        async def watch() -> None:
            async for message in ws:
                data = json.loads(message.data)
                for job in data.get("jobs", []):
                    if job["state"] == "done":
                        done_events[job["id"]] += 1

        watcher = asyncio.create_task(watch())
        gate = asyncio.Semaphore(50)

        async def post(i: int) -> tuple[int, str, float]:
            async with gate:
                start = time.perf_counter()
                job = {"kind": "primes", "below": 1000 + i}
                async with session.post(url + "jobs", json=job) as response:
                    body = await response.json()
                    return response.status, body.get("id", ""), time.perf_counter() - start

        async def probe() -> None:
            for _ in range(10):
                start = time.perf_counter()
                async with session.get(url + "stats") as response:
                    await response.read()
                stats_latency.append(time.perf_counter() - start)
                await asyncio.sleep(0.05)

        answers, _ = await asyncio.gather(asyncio.gather(*(post(i) for i in range(BURST))), probe())

        async def all_done() -> None:
            while True:
                async with session.get(url + "stats") as response:
                    stats = await response.json()
                if stats["done"] + stats["failed"] >= BURST and len(done_events) >= BURST:
                    return
                await asyncio.sleep(0.2)

        await asyncio.wait_for(all_done(), 60)
        await asyncio.sleep(0.5)  # any late duplicate would show up on the WebSocket by now
        watcher.cancel()
        await ws.close()
    return list(answers), stats_latency, done_events


@pytest.mark.timeout(90)
def test_a_burst_of_1000_posts_is_accepted_at_once_and_every_job_completes_once(
    tmp_path: Path,
) -> None:
    with WebServer(tmp_path, 2, 5.0) as server:
        started = time.monotonic()
        answers, stats_latency, done_events = asyncio.run(_burst(server.url))
        accepted = [seconds for status, _, seconds in answers if status == 202]
        assert len(accepted) == BURST, Counter(status for status, _, _ in answers)
        ids = [job_id for _, job_id, _ in answers]
        assert len(set(ids)) == BURST
        # Accepted quickly: no POST waited for any work, and the server kept answering.
        assert max(accepted) < 5.0, max(accepted)
        assert max(stats_latency) < 2.0, stats_latency

        stats = server.stats()
        assert stats["done"] == BURST and stats["failed"] == 0 and stats["submitted"] == BURST
        assert stats["queued"] == 0 and stats["running"] == 0
        assert set(done_events) == set(ids)
        assert max(done_events.values()) == 1  # every job completed once: no duplicate result
        for i in (0, 499, 999):  # and with the right answer
            result = server.job(ids[i])["result"]
            below = 1000 + i
            assert result["count"] == sum(
                all(n % d for d in range(2, int(n**0.5) + 1)) for n in range(2, below)
            )
        print(f"burst: {BURST} jobs done in {time.monotonic() - started:.1f} s")

"""The web demo's ws:// feed from the Python side: a purezmq SUB (threaded and asyncio
engines) subscribes to the server's PUB over ZWS and gets the dashboard's numbers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import purezmq
import purezmq.asyncio as pza

from ._server import WebServer, http

pytestmark = pytest.mark.timeout(60)


def _feed_endpoint(server: WebServer) -> str:
    status, stats = http("GET", server.url + "stats")
    assert status == 200
    endpoint = stats["endpoints"]["feed"]
    assert endpoint.startswith("ws://127.0.0.1:") and endpoint.endswith("/feed")
    return endpoint


def test_a_python_sub_reads_the_feed(tmp_path: Path) -> None:
    with WebServer(tmp_path, 1, 2.0) as server:
        endpoint = _feed_endpoint(server)
        ctx = purezmq.Context()
        try:
            sub = ctx.socket(purezmq.SUB)
            sub.linger = 0
            sub.rcvtimeo = 10_000
            sub.subscribe(b"stats")
            sub.connect(endpoint)
            topic, body = sub.recv_multipart()
            assert topic == b"stats"
            assert json.loads(body)["endpoints"]["feed"] == endpoint

            async def on_asyncio() -> bytes:
                actx = pza.Context()
                asub = actx.socket(purezmq.SUB)
                asub.linger = 0
                asub.subscribe(b"stats")
                asub.connect(endpoint)
                frames = await asyncio.wait_for(asub.recv_multipart(), 10)
                asub.close()
                actx.term()
                return frames[0]

            assert asyncio.run(on_asyncio()) == b"stats"
        finally:
            ctx.destroy(linger=0)


def test_the_metrics_endpoint(tmp_path: Path) -> None:
    import urllib.request

    with WebServer(tmp_path, 1, 2.0) as server:
        with urllib.request.urlopen(server.url + "metrics", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            text = response.read().decode()
    lines = text.splitlines()
    assert "# TYPE purezmq_messages_in_total counter" in lines
    # The server's sockets: PUSH (jobs), PULL (results), PUB (feed); the PULL has heard the
    # worker already (it says hello when it starts).
    types = {line.split('type="')[1].split('"')[0] for line in lines if 'type="' in line}
    assert {"PUSH", "PULL", "PUB"} <= types
    received = [line for line in lines if line.startswith("purezmq_messages_in_total")]
    pull = [line for line in received if 'type="PULL"' in line]
    assert pull and int(pull[0].rsplit(" ", 1)[1]) >= 1


def test_purezmq_top_reads_the_metrics(tmp_path: Path) -> None:
    import subprocess
    import sys

    with WebServer(tmp_path, 1, 2.0) as server:
        result = subprocess.run(
            [sys.executable, "-m", "purezmq.cli", "top", server.url + "metrics"]
            + ["--count", "2", "--interval", "0.2"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("(3 sockets)")
    rows = [line.split() for line in lines if line.split()[:1] and line.split()[0].isdigit()]
    assert sorted(row[1] for row in rows[:3]) == ["PUB", "PULL", "PUSH"]


def test_purezmq_top_with_nothing_there() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "purezmq.cli", "top", "http://127.0.0.1:9/metrics", "--count", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "cannot read http://127.0.0.1:9/metrics" in result.stderr

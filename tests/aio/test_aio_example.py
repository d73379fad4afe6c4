"""examples/asyncio_server.py, run as a real process: its self-check, and a short serving session.

Every wait has a deadline; start-up waits on the line the server prints, not on a fixed sleep.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from interop._util import free_tcp_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "asyncio_server.py"

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONUNBUFFERED="1")


def test_selftest() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--selftest", "--workers", "3"],
        capture_output=True,
        text=True,
        timeout=45,
        cwd=ROOT,
        env=_env(),
    )
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{out}\nstderr:\n{done.stderr}"
    assert "selftest OK" in out
    assert "-> [1, 4, 9] (worker" in out
    assert "-> [0, 1, 4, 9, 16, 25, 36, 49, 64, 81] (worker" in out
    assert "-> [2.25, 0, 4] (worker" in out
    assert '{"below": 1000000} -> 78498 (worker' in out
    # The workers are all connected before the first job, so round robin uses all three.
    assert "6 jobs done by 3 worker process(es)" in out
    assert "Traceback" not in done.stderr, done.stderr


def _get(port: int, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = None if payload is None else json.dumps(payload).encode()
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_serve_then_sigterm() -> None:
    port = free_tcp_port()
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=20)
        assert first is not None and f"listening on http://127.0.0.1:{port}" in first, first

        status, reply = _get(port, "POST", "/square", {"numbers": [3, 4]})
        assert status == 202, reply
        job = reply["id"]
        deadline = time.monotonic() + 20
        while True:
            status, reply = _get(port, "GET", f"/result/{job}")
            if status == 200:
                break
            assert status == 202 and time.monotonic() < deadline, (status, reply)
            time.sleep(0.02)
        assert reply["result"] == [9, 16]
        worker_pid = reply["worker"]

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(10)
    rest = []
    while (line := lines.get(timeout=5)) is not None:
        rest.append(line)
    assert any("stopping" in line for line in rest), rest
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in stderr, stderr
    with pytest.raises(ProcessLookupError):  # the worker was stopped and reaped
        os.kill(worker_pid, 0)

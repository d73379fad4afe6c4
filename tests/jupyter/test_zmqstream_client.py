"""Jupyter on purezmq through a ZMQStream-based client (issue 14's second Jupyter test):
jupyter_client's ThreadedKernelClient, whose channels are ZMQStreams on a tornado IOLoop in a
thread, drives the same kernel session as test_jupyter_kernel.py, with ``zmq`` being purezmq in
the client and in the kernel, and the same session on pyzmq as the reference."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest
from test_jupyter_kernel import _check_kernel_work, _check_purezmq_everywhere, _env

pytestmark = pytest.mark.timeout(120)

SESSION = pathlib.Path(__file__).resolve().parent / "zmqstream_session.py"


def _run(tmp_path: pathlib.Path, purezmq: bool) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(SESSION)],
        capture_output=True,
        text=True,
        timeout=100,
        env=_env(tmp_path, purezmq),
        cwd=str(tmp_path),
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, (result.stdout[-3000:], result.stderr[-5000:])
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def test_kernel_through_zmqstreams(tmp_path: pathlib.Path) -> None:
    report = _run(tmp_path, purezmq=True)
    _check_purezmq_everywhere(report)
    assert report["client_stream"] == "purezmq.eventloop.zmqstream"
    assert report["client_socket"] == "purezmq.socket"
    assert report["execute"]["iopub_types"] == [
        "status",
        "execute_input",
        "stream",
        "execute_result",
        "status",
    ]
    _check_kernel_work(report)


def test_the_same_session_on_pyzmq(tmp_path: pathlib.Path) -> None:
    report = _run(tmp_path, purezmq=False)
    assert not report["client"]["zmq_is_purezmq"]
    assert report["client_stream"] == "zmq.eventloop.zmqstream"
    _check_kernel_work(report)

"""Jupyter on purezmq (issue 14): an ipykernel kernel and its jupyter_client clients, with
``import zmq`` giving purezmq in the client process and in the kernel, pyzmq not loaded in either.

Each session runs in a fresh process (this one keeps pyzmq for the other tests): PUREZMQ_AS_ZMQ=1
and ``startup/`` on PYTHONPATH, whose sitecustomize runs the line of ``purezmq-as-zmq.pth`` as a
regular install's site-packages would (an editable install has no .pth); the kernel inherits the
environment. ``jupyter_session.py`` drives the kernel and prints what it saw as JSON. Nothing
of purezmq is stood in for: the kernel's debugger socket (``zmq.STREAM``) is purezmq's too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(120)

if (
    importlib.util.find_spec("jupyter_client") is None
    or importlib.util.find_spec("ipykernel") is None
):
    pytest.skip(
        "jupyter_client and ipykernel are not installed (pip install -e '.[test]')",
        allow_module_level=True,
    )

HERE = pathlib.Path(__file__).resolve().parent
SITE = HERE / "startup"
SESSION = HERE / "jupyter_session.py"
SRC = HERE.parents[1] / "src"
PUREZMQ_DIR = str(SRC / "purezmq")
KERNEL = "purezmq-test"


def _env(tmp_path: pathlib.Path, purezmq: bool = True) -> dict[str, str]:
    """The environment of a session: zmq is purezmq (or pyzmq, for the reference run), and
    Jupyter's folders are the test's."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SITE), str(SRC)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    env["PUREZMQ_AS_ZMQ"] = "1" if purezmq else "0"
    env["PUREZMQ_TEST_KERNEL"] = KERNEL
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    for name, folder in (
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("IPYTHONDIR", "ipython"),
    ):
        (tmp_path / folder).mkdir(exist_ok=True)
        env[name] = str(tmp_path / folder)
    # A kernel spec of this very interpreter (whatever python3 kernels the machine has).
    spec = tmp_path / "data" / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "purezmq test",
                "language": "python",
            }
        )
    )
    return env


def _session(tmp_path: pathlib.Path, mode: str, purezmq: bool = True) -> tuple[dict[str, Any], str]:
    """The report of a ``jupyter_session.py`` run, and what it wrote on stderr."""
    result = subprocess.run(
        [sys.executable, str(SESSION), mode],
        capture_output=True,
        text=True,
        timeout=100,
        env=_env(tmp_path, purezmq),
        cwd=str(tmp_path),
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, (result.stdout[-3000:], result.stderr[-5000:])
    return json.loads(lines[-1]), result.stderr


@pytest.fixture(scope="module")
def blocking_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    return _session(tmp_path_factory.mktemp("blocking"), "blocking")


@pytest.fixture(scope="module")
def async_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    return _session(tmp_path_factory.mktemp("async"), "async")


def _check_purezmq_everywhere(report: dict[str, Any]) -> None:
    client = report["client"]
    assert client["zmq_is_purezmq"] and client["zmq_file"].startswith(PUREZMQ_DIR), client
    assert client["cython_backend"] == [] and client["pyzmq_modules"] == [], client
    for kernel in (report["kernel"], report["restart"]):
        # In the kernel: 'import zmq; print(zmq.__file__)' shows purezmq's path, and nothing of
        # pyzmq is in sys.modules (zmq.backend.cython above all).
        assert kernel["zmq_name"] == "purezmq", kernel
        assert kernel["zmq_file"].startswith(PUREZMQ_DIR), kernel
        assert kernel["cython_backend"] == [] and kernel["pyzmq_modules"] == [], kernel
        assert kernel["cython_importable"] is False, kernel
        # The debugger's raw socket is purezmq's STREAM (once a DEALER stood in for it).
        assert kernel["debugpy_socket"] == ["purezmq.socket", 11], kernel


def _check_kernel_work(report: dict[str, Any]) -> None:
    execute = report["execute"]
    assert execute["status"] == "ok", execute
    assert execute["stdout"] == "hello 42\n" and execute["results"] == ["42"], execute
    assert "json" in report["complete"], report["complete"]
    assert report["inspect"]["found"] and "len" in report["inspect"]["text"], report["inspect"]
    interrupt = report["interrupt"]
    assert interrupt["status"] == "error" and interrupt["ename"] == "KeyboardInterrupt", interrupt
    assert interrupt["seconds"] < 10, interrupt
    assert report["after_interrupt"]["results"] == ["'alive'"], report["after_interrupt"]
    restart = report["restart"]
    assert restart["pid"] != report["kernel"]["pid"], restart  # A new kernel process...
    assert restart["fresh"] == ["NameError"], restart  # ...that knows nothing of the old one.
    shutdown = report["shutdown"]
    assert shutdown["alive"] is False, shutdown
    # It ended by itself: jupyter_client kills a kernel still there after 2.5 s (half its
    # shutdown_wait_time), which a Context.term() waiting on an unclosed socket would need.
    assert shutdown["seconds"] < 2.4, shutdown


def test_kernel_with_the_blocking_client(blocking_session: tuple[dict[str, Any], str]) -> None:
    report, _ = blocking_session
    _check_purezmq_everywhere(report)
    assert report["client_socket"] == "purezmq.socket"
    assert report["execute"]["iopub_types"] == [
        "status",
        "execute_input",
        "stream",
        "execute_result",
        "status",
    ]
    _check_kernel_work(report)
    assert report["hb_beating"] is True  # The kernel's heartbeat is zmq.device(QUEUE, ...).
    # ipykernel's debugger answered through its STREAM socket, connected to debugpy's adapter.
    assert report["debug"] == {"command": "initialize", "success": True}, report["debug"]


def test_kernel_with_the_asyncio_client(async_session: tuple[dict[str, Any], str]) -> None:
    report, _ = async_session
    _check_purezmq_everywhere(report)
    assert report["client_socket_is_purezmq_asyncio"] is True
    # jupyter_client's connect_iopub(): a ZMQStream, purezmq's, that saw the kernel's output.
    assert report["iopub_stream"] == "purezmq.eventloop.zmqstream"
    assert report["iopub_stream_saw_output"] is True
    _check_kernel_work(report)


@pytest.mark.parametrize("mode", ["blocking", "async"])
def test_the_same_session_on_pyzmq(tmp_path: pathlib.Path, mode: str) -> None:
    """The expectations above are pyzmq's: the same session, zmq being pyzmq everywhere."""
    report, stderr = _session(tmp_path, mode, purezmq=False)
    assert not report["client"]["zmq_is_purezmq"]
    assert report["kernel"]["cython_backend"] == ["zmq.backend.cython._zmq", "zmq.backend.cython"]
    _check_kernel_work(report)
    assert report["hb_beating"] is True
    assert "Task was destroyed but it is pending" not in stderr
    if mode == "blocking":
        assert report["debug"] == {"command": "initialize", "success": True}, report["debug"]


@pytest.mark.xfail(
    strict=True,
    reason="purezmq.asyncio sockets do their I/O in their event loop, and jupyter_client's "
    "HBChannel blocks its thread's private loop (threading.Event.wait between a ping and a "
    "Poller.poll(0)): no ping ever leaves, is_beating() is False, and the loop closes with the "
    "socket's connect task pending ('Task was destroyed but it is pending!')",
)
def test_asyncio_client_heartbeat(async_session: tuple[dict[str, Any], str]) -> None:
    report, stderr = async_session
    assert "Task was destroyed but it is pending" not in stderr
    assert report["hb_beating"] is True

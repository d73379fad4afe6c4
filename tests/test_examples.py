"""The examples, the demo module and the ``purezmq`` command, run as real processes.

Every wait has a deadline; start-up ordering waits on the status lines the programs print, never on
fixed sleeps.  Subprocesses run ``sys.executable`` and inherit the environment.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RESULT = "[1, 4, 9, 16, 25, 36, 49, 64, 81]"
DEADLINE = 20.0  # seconds for any single step

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ipc and polling stdin need POSIX")


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONUNBUFFERED="1")


def _restore_sigint() -> None:
    # A shell running us in the background may have set SIGINT to "ignore", which children inherit.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A Python subprocess whose stdout and stderr lines are collected by reader threads."""

    def __init__(self, *args: str | Path) -> None:
        self.args = [sys.executable, *map(str, args)]
        self.popen = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=_env(),
            cwd=ROOT,
            preexec_fn=_restore_sigint,
        )
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.popen.stdout), ("stderr", self.popen.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines[name].append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def describe(self) -> str:
        out = "\n".join(self.lines["stdout"])
        err = "\n".join(self.lines["stderr"])
        return f"{self.args}, exit {self.popen.poll()}\n--- stdout\n{out}\n--- stderr\n{err}"

    def wait_for(self, stream: str, match: Callable[[str], bool], timeout: float = DEADLINE) -> str:
        """Wait until a line of ``stream`` satisfies ``match`` and return it."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                lines = self.lines[stream]
                for line in lines[seen:]:
                    if match(line):
                        return line
                seen = len(lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching {stream} line in time: {self.describe()}")
                if self.popen.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise AssertionError(f"exited without a matching line: {self.describe()}")
                self._changed.wait(min(remaining, 0.2))

    def write(self, text: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(text)
        self.popen.stdin.flush()

    def close_stdin(self) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.close()

    def wait(self, timeout: float = DEADLINE) -> int:
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout} s: {self.describe()}") from None
        for reader in self._readers:
            reader.join(timeout)
        return code

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


@pytest.fixture
def start() -> Iterator[Callable[..., Proc]]:
    procs: list[Proc] = []

    def _start(*args: str | Path) -> Proc:
        proc = Proc(*args)
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:
        proc.kill()


def run(*args: str | Path, input: str | None = None, timeout: float = 45.0):
    return subprocess.run(
        [sys.executable, *map(str, args)],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=ROOT,
    )


def endpoint(transport: str, ipc_endpoint: str) -> str:
    return ipc_endpoint if transport == "ipc" else f"tcp://127.0.0.1:{free_tcp_port()}"


# -- examples/simple.py -------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
def test_simple_push_pull(transport: str, ipc_endpoint: str, start) -> None:
    address = endpoint(transport, ipc_endpoint)
    host = start(EXAMPLES / "simple.py", "host", address)
    host.wait_for("stderr", lambda line: "listening" in line)

    client = run(EXAMPLES / "simple.py", "client", address, input="one\ntwo words\nthree\n")
    assert client.returncode == 0, client.stderr
    host.wait_for("stdout", lambda line: line == "three")
    assert host.lines["stdout"] == ["one", "two words", "three"]

    host.popen.send_signal(signal.SIGINT)  # Ctrl-C: a clean exit, no traceback
    assert host.wait() == 130
    assert "Traceback" not in "\n".join(host.lines["stderr"])


# -- examples/chat.py ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_chat_between_two_processes(transport: str, ipc_endpoint: str, start) -> None:
    address = endpoint(transport, ipc_endpoint)
    alice = start(EXAMPLES / "chat.py", "bind", address, "--name", "alice")
    alice.wait_for("stderr", lambda line: line.startswith("[alice]"))
    bob = start(EXAMPLES / "chat.py", "connect", address, "--name", "bob")

    bob.write("hello from bob\n")  # the connecting side queues until the connection is up
    alice.wait_for("stdout", lambda line: line == "bob: hello from bob")
    alice.write("hi bob\n")
    bob.wait_for("stdout", lambda line: line == "alice: hi bob")

    alice.close_stdin()
    bob.close_stdin()
    assert alice.wait() == 0, alice.describe()
    assert bob.wait() == 0, bob.describe()
    assert alice.lines["stdout"] == ["bob: hello from bob"]
    assert bob.lines["stdout"] == ["alice: hi bob"]


# -- examples/pipeline --------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_pipeline_examples(transport: str, ipc_endpoint: str, start) -> None:
    sink = endpoint(transport, ipc_endpoint)
    process_b = start(EXAMPLES / "pipeline" / "processB.py", "--sink", sink, "--timeout", "40")
    process_b.wait_for("stderr", lambda line: "waiting for results" in line)
    process_a = start(
        EXAMPLES / "pipeline" / "processA.py", "--sink", sink, "--workers", "3", "--timeout", "40"
    )
    assert process_a.wait(45) == 0, process_a.describe()
    assert process_b.wait() == 0, process_b.describe()
    assert process_b.lines["stdout"] == [RESULT]


# -- purezmq.cli.demo and the purezmq command ---------------------------------------------------


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
def test_cli_demo_pipeline(transport: str) -> None:
    done = run("-m", "purezmq.cli", "demo", "pipeline", "--transport", transport)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == RESULT
    assert "Traceback" not in done.stderr


def test_console_script_demo() -> None:
    script = Path(sys.executable).with_name("purezmq")
    if not script.exists():
        pytest.skip("the purezmq console script is not installed next to this Python")
    done = subprocess.run(
        [str(script), "demo"], capture_output=True, text=True, timeout=45, env=_env(), cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == RESULT


def test_cli_demo_chat() -> None:
    done = run("-m", "purezmq.cli", "demo", "chat")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "bob: hi alice"
    assert lines[-1] == "alice: bye"


def test_cli_version() -> None:
    done = run("-m", "purezmq.cli", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("purezmq ")


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["demo", "nonsense"], ["demo", "--workers", "0"], ["--bogus"]],
)
def test_cli_usage_error_is_one_line(argv: list[str]) -> None:
    done = run("-m", "purezmq.cli", *argv)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("purezmq: error: ")


def test_run_pipeline_function_reaps_its_workers() -> None:
    from purezmq.cli.demo import run_pipeline

    matrix = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]
    assert run_pipeline(matrix, workers=2, transport="ipc") == [x * x for x in range(1, 11)]
    assert run_pipeline([], workers=2) == []
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    "kwargs",
    [{"workers": 0}, {"transport": "udp"}, {"matrix": [[1, "2"]]}, {"matrix": [3]}],
)
def test_run_pipeline_rejects_bad_arguments(kwargs: dict) -> None:
    from purezmq.cli.demo import DEMO_MATRIX, run_pipeline

    with pytest.raises(ValueError):
        run_pipeline(**{"matrix": DEMO_MATRIX, **kwargs})

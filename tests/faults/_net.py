"""The fault tests' network: two network namespaces joined through a third that holds the wire.

    ns A (10.77.0.1/24, veth "fz0") <-> ns W (wire.py between "wa" and "wb") <-> ns B (10.77.0.2/24)

Nothing else is routed anywhere: the two addresses exist on those veths only, the namespaces
have no other interface but their own loopback, and the wire's namespace has no address at all.
Static neighbour entries replace ARP, so loss never delays address resolution.

Why a userspace wire rather than ``tc qdisc ... netem``: the kernel this runs on (and CI's) is
built without sch_netem and without module support (``CONFIG_NET_SCH_NETEM`` is not set and
there is no ``modprobe``), and no other qdisc or tc action here can drop or delay at random.
wire.py does what netem would on both veths' egress: loss, fixed delay (order kept), and
silence (a partition: 100% loss, so TCP connections stay open on both sides, as when a cable is
pulled or a firewall starts dropping).

Namespaces are named ``pzf<pid><a|b|w>``. The session fixture deletes them at the end, and at
the start removes those of earlier runs whose pytest process is gone (a crashed run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PEER = HERE / "peer.py"
WIRE = HERE / "wire.py"
PREFIX = "pzf"
ADDR_A, ADDR_B = "10.77.0.1", "10.77.0.2"
IFACE = "fz0"

ENV = {
    # (Not PUREZMQ_AS_ZMQ: "zmq" must be pyzmq, the reference.)
    **{k: v for k, v in os.environ.items() if k != "PUREZMQ_AS_ZMQ"},
    # This checkout's purezmq, whatever is installed.
    "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
    ),
    "PYTHONDONTWRITEBYTECODE": "1",
}


def run(*argv: str, check: bool = True, timeout: float = 10.0) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=timeout)


def unavailable_reason() -> str | None:
    """Why these tests cannot run here, or None."""
    if sys.platform != "linux":
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "needs root (creates network namespaces and veth pairs)"
    for tool in ("ip", "ss"):
        if shutil.which(tool) is None:
            return f"needs the {tool!r} command (iproute2)"
    probe = f"{PREFIX}{os.getpid()}probe"
    try:
        made = run("ip", "netns", "add", probe, check=False)
        if made.returncode != 0:
            return f"'ip netns add' failed: {made.stderr.strip()}"
        veth = run(
            "ip", "-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1",
            check=False,
        )  # fmt: skip
        if veth.returncode != 0:
            return f"cannot create a veth pair: {veth.stderr.strip()}"
    finally:
        run("ip", "netns", "del", probe, check=False)
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
    except OSError as exc:
        return f"no AF_PACKET sockets (the wire needs them): {exc}"
    return None


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def kill_namespace(name: str) -> None:
    """SIGKILL what runs in ``name`` (only ever our own peers and wire) and delete it."""
    pids = run("ip", "netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    run("ip", "netns", "del", name, check=False)


def remove_stale() -> list[str]:
    """Delete the namespaces of earlier runs that died without cleaning up."""
    removed = []
    for line in run("ip", "netns", "list", check=False).stdout.splitlines():
        match = re.match(rf"({PREFIX}(\d+)[abw])\b", line)
        if match and int(match.group(2)) != os.getpid() and not _pid_alive(int(match.group(2))):
            kill_namespace(match.group(1))
            removed.append(match.group(1))
    return removed


class Lines:
    """A process's output lines, collected by a thread, searchable with a deadline."""

    def __init__(self, stream: Any, label: str) -> None:
        self.lines: list[str] = []
        self.times: list[float] = []  # (when each line was read, time.monotonic())
        self.cond = threading.Condition()
        self.closed = False
        self.label = label
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.times.append(time.monotonic())
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def tail(self, n: int = 15) -> str:
        with self.cond:
            return "\n".join(self.lines[-n:])


class Proc:
    """A subprocess in a namespace that speaks the marker protocol (peer.py, wire.py)."""

    def __init__(self, name: str, ns: str, argv: list[str]) -> None:
        self.name = name
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=ENV,
        )
        self.out = Lines(self.proc.stdout, name)
        self.err = Lines(self.proc.stderr, name)
        self.cursor = 0
        #: When the line that expect() last matched was read (time.monotonic()).
        self.matched_at = 0.0
        self._pid: int | None = None

    @property
    def pid(self) -> int:
        """The Python process's own pid (`ip netns exec` runs it as its child)."""
        if self._pid is None:
            self._pid = int(self.expect(r"PID (\d+)", 15.0, from_start=True).group(1))
        return self._pid

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, AssertionError):
                self.proc.kill()

    def describe(self) -> str:
        code = self.proc.poll()
        state = "running" if code is None else f"exited {code}"
        return (
            f"--- {self.name} ({state}) stdout:\n{self.out.tail()}\n"
            f"--- {self.name} stderr:\n{self.err.tail()}"
        )

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AssertionError(f"{self.name} is gone\n{self.describe()}") from None

    def expect(self, pattern: str, timeout: float, *, from_start: bool = False) -> re.Match:
        """The first line from the cursor on (or from the start) matching ``pattern`` (a full
        match); moves the cursor past it. Fails after ``timeout`` seconds, or when the process
        ends without printing it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        index = 0 if from_start else self.cursor
        with self.out.cond:
            while True:
                while index < len(self.out.lines):
                    line = self.out.lines[index]
                    index += 1
                    match = regex.fullmatch(line)
                    if match:
                        self.cursor = max(self.cursor, index)
                        self.matched_at = self.out.times[index - 1]
                        return match
                    if line.startswith("OPTERR"):
                        raise AssertionError(f"{self.name}: option refused: {line}")
                remaining = deadline - time.monotonic()
                if self.out.closed or remaining <= 0:
                    why = "ended" if self.out.closed else f"timed out after {timeout:.1f}s"
                    raise AssertionError(
                        f"{self.name}: no line matching {pattern!r} ({why})\n{self.describe()}"
                    )
                self.out.cond.wait(min(remaining, 0.5))

    def latest(self, word: str, default: int = 0) -> int:
        """The number of the last ``word n`` progress line so far."""
        with self.out.cond:
            for line in reversed(self.out.lines):
                if line.startswith(word + " "):
                    return int(line.split()[1])
        return default

    def has(self, pattern: str) -> bool:
        regex = re.compile(pattern)
        with self.out.cond:
            return any(regex.fullmatch(line) for line in self.out.lines)

    def stats(self, timeout: float = 10.0) -> Any:
        self.send("STATS")
        return json.loads(self.expect(r"STATS (.*)", timeout).group(1))

    def stop(self, timeout: float = 5.0) -> int | None:
        """EXIT, then SIGKILL if it does not end within ``timeout``; its exit code."""
        if self.proc.poll() is None:
            try:
                self.send("EXIT")
                self.proc.stdin.close()  # type: ignore[union-attr]
            except (AssertionError, OSError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self.proc.wait(5)
        self.out.thread.join(2)
        self.err.thread.join(2)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        return self.proc.returncode


class Wire(Proc):
    def set(self, loss: float = 0.0, delay: float = 0.0, direction: str = "both") -> None:
        self.send(f"set loss={loss} delay={delay} dir={direction}")
        self.expect("OK", 5.0)

    def partition(self) -> None:
        self.set(loss=1.0)

    def heal(self) -> None:
        self.set()

    def counters(self) -> dict[str, Any]:
        return self.stats()


class Net:
    """The namespaces, the veths and the wire; one per test session."""

    def __init__(self) -> None:
        tag = f"{PREFIX}{os.getpid()}"
        self.ns_a, self.ns_b, self.ns_w = f"{tag}a", f"{tag}b", f"{tag}w"
        self.wire: Wire | None = None
        self.procs: list[Proc] = []
        self._port = 30000

    def setup(self) -> None:
        a, b, w = self.ns_a, self.ns_b, self.ns_w
        for ns in (a, b, w):
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        for ns, end in ((a, "wa"), (b, "wb")):
            run(
                "ip", "link", "add", IFACE, "netns", ns, "type", "veth",
                "peer", "name", end, "netns", w,
            )  # fmt: skip
        run("ip", "-n", a, "addr", "add", f"{ADDR_A}/24", "dev", IFACE)
        run("ip", "-n", b, "addr", "add", f"{ADDR_B}/24", "dev", IFACE)
        for ns, dev in ((a, IFACE), (b, IFACE), (w, "wa"), (w, "wb")):
            run("ip", "-n", ns, "link", "set", dev, "up")
        mac = {ns: self._mac(ns) for ns in (a, b)}
        for ns, peer_addr, peer_ns in ((a, ADDR_B, b), (b, ADDR_A, a)):
            run(
                "ip", "-n", ns, "neigh", "replace", peer_addr, "lladdr", mac[peer_ns],
                "dev", IFACE, "nud", "permanent",
            )  # fmt: skip
        self.wire = Wire("wire", w, [sys.executable, str(WIRE), "wa", "wb", str(os.getpid())])
        self.wire.expect("READY", 15.0)

    def _mac(self, ns: str) -> str:
        out = run("ip", "-n", ns, "-j", "link", "show", IFACE).stdout
        return json.loads(out)[0]["address"]

    def teardown(self) -> None:
        for proc in self.procs:
            proc.kill()
        if self.wire is not None:
            self.wire.stop(2.0)
        for ns in (self.ns_a, self.ns_b, self.ns_w):
            kill_namespace(ns)

    def port(self) -> int:
        """A port not used before in this session (no TIME_WAIT leftovers in the way)."""
        self._port += 1
        return self._port

    def peer(self, name: str, ns: str, config: dict[str, Any]) -> Proc:
        proc = Proc(name, ns, [sys.executable, str(PEER), json.dumps(config)])
        self.procs.append(proc)
        return proc

    def established(self, ns: str, port: int) -> dict[tuple[str, str], int]:
        """The established TCP connections in ``ns`` that have ``port`` at either end: their
        (local, peer) addresses, each with its Send-Q (bytes sent and not yet acknowledged)."""
        out = run("ip", "netns", "exec", ns, "ss", "-Htn", "state", "established").stdout
        found = {}
        for line in out.splitlines():
            fields = line.split()  # Recv-Q Send-Q Local:Port Peer:Port
            if len(fields) >= 4 and fields[1].isdigit():
                local, peer = fields[2], fields[3]
                if local.endswith(f":{port}") or peer.endswith(f":{port}"):
                    found[(local, peer)] = int(fields[1])
        return found

    def stop_all(self, procs: list[Proc]) -> None:
        for proc in procs:
            proc.stop()


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll ``condition`` until it is truthy (returned), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

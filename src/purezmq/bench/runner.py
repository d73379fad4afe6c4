"""The runner: worker processes and their deadlines, one run, repetitions interleaved, the sweep.

Each run starts its workers (``python -m purezmq.bench _worker ROLE ...``, see ``workers.py``),
hands the binding side's endpoint to the connecting side(s), and waits for the measuring side's
``RESULT`` line.  A run has one deadline for all its processes: a worker that hangs or dies makes
that run ``timeout`` or ``error`` and the runner goes on with the next.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from purezmq.bench import bare, scaling
from purezmq.bench.catalog import BASELINE, LIBS, TESTS, Test, scaled, sweep_count
from purezmq.bench.report import fmt_value, human_size

# -- processes and deadlines --------------------------------------------------------------------


class _Timeout(Exception):
    pass


class _Failed(Exception):
    pass


def _worker_env() -> dict[str, str]:
    """The environment of the workers: this purezmq importable even when not installed."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])  # src/purezmq/bench/runner.py -> src
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Proc:
    def __init__(self, index: int, name: str, argv: list[str], events: queue.Queue) -> None:
        self.name = name
        self.stderr: IO[bytes] = tempfile.TemporaryFile()
        self.lines: list[str] = []
        self.eof = False
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "purezmq.bench", "_worker", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=_worker_env(),
            start_new_session=True,  # Ctrl-C reaches the runner only; it kills its workers
        )
        self._reader = threading.Thread(target=self._read, args=(index, events), daemon=True)
        self._reader.start()

    def _read(self, index: int, events: queue.Queue) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            events.put(index)
        self.eof = True
        events.put(index)

    def stderr_tail(self, limit: int = 300) -> str:
        """The last line of the worker's stderr (the exception of a traceback)."""
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1][-limit:] if lines else ""

    def release(self) -> None:
        """Close stdin: a worker holding its I/O open for its peer may now exit."""
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.release()
        self.stderr.close()


class _Group:
    """The processes of one benchmark run and its deadline."""

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.procs: list[_Proc] = []
        self.events: queue.Queue[int] = queue.Queue()

    def start(self, name: str, argv: list[str]) -> _Proc:
        proc = _Proc(len(self.procs), name, argv, self.events)
        self.procs.append(proc)
        return proc

    def expect(self, proc: _Proc, tag: str) -> str:
        """Wait for the line ``TAG payload`` from ``proc``; fail at once if a worker dies."""
        while True:
            for i, line in enumerate(proc.lines):
                if line.startswith(tag + " "):
                    del proc.lines[: i + 1]
                    return line[len(tag) + 1 :]
            for other in self.procs:
                if other.eof and (other is proc or self._exit_code(other) not in (None, 0)):
                    code = self._exit_code(other)
                    tail = other.stderr_tail() or "(no output)"
                    raise _Failed(f"{other.name} exited with status {code}: {tail}")
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout(f"no {tag} from {proc.name}")
            try:
                self.events.get(timeout=remaining)
            except queue.Empty:
                pass

    @staticmethod
    def _exit_code(proc: _Proc) -> int | None:
        try:
            return proc.popen.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        for proc in self.procs:
            proc.release()
        grace = min(self.deadline, time.monotonic() + 5)
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.05, grace - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            proc.kill()


# -- one run ------------------------------------------------------------------------------------


def _bind_spec(transport: str, tmpdir: str, name: str) -> str:
    if transport == "ipc":
        return f"ipc://{os.path.join(tmpdir, name)}.sock"
    return "tcp://127.0.0.1:*"  # an OS-assigned free port on loopback


_run_serial = 0


def _guarded(timeout: float, body: Callable[[_Group], dict[str, Any]]) -> dict[str, Any]:
    """``body`` run with a group of workers and its deadline: its result, or the failure."""
    group = _Group(timeout)
    try:
        return body(group)
    except _Timeout as exc:
        return {"error": "timeout", "detail": f"after {timeout:g} s: {exc}"}
    except _Failed as exc:
        return {"error": "error", "detail": str(exc)}
    finally:
        group.close()


def run_once(
    test: Test, lib: str, count: int, size: int, timeout: float, tmpdir: str
) -> dict[str, Any]:
    """One run of ``test`` on ``lib``: the worker's raw figures, or ``{"error": ...}``."""
    global _run_serial
    if lib == "bare" and not bare.runs(
        test.kind, test.transport, not (test.aio or test.trio or test.curve or test.compress)
    ):
        return {"error": "n/a", "wall": 0.0}
    _run_serial += 1
    name = f"{test.name}-{lib}-{_run_serial}"
    common = ["--lib", lib, "--count", str(count), "--size", str(size)]
    if test.aio:
        common.append("--aio")
    if test.trio:
        common.append("--trio")
    started = time.monotonic()

    def body(group: _Group) -> dict[str, Any]:
        if test.kind in ("inproc_thr", "inproc_lat"):
            proc = group.start(test.kind, [test.kind.replace("_", "-"), *common])
            result = group.expect(proc, "RESULT")
        elif test.kind == "thr":
            bind = _bind_spec(test.transport, tmpdir, name)
            curve = ["--curve"] if test.curve else []
            compress = ["--compress"] if test.compress else []
            recv = group.start("receiver", ["thr-recv", *common, *compress, *curve, "--bind", bind])
            endpoint, *server_key = group.expect(recv, "READY").split()
            key = ["--serverkey", server_key[0]] if server_key else []
            group.start("sender", ["thr-send", *common, *compress, *key, "--connect", endpoint])
            result = group.expect(recv, "RESULT")
        elif test.kind == "lat":
            bind = _bind_spec(test.transport, tmpdir, name)
            rep = group.start("REP", ["lat-rep", *common, "--bind", bind])
            endpoint = group.expect(rep, "READY")
            req = group.start("REQ", ["lat-req", *common, "--connect", endpoint])
            result = group.expect(req, "RESULT")
        elif test.kind == "pubsub":
            binds = [
                "--bind",
                _bind_spec(test.transport, tmpdir, name),
                "--bind2",
                _bind_spec(test.transport, tmpdir, name + "-sync"),
            ]
            extra = ["--subscribers", str(test.subscribers)]
            pub = group.start("PUB", ["pub", *common, *binds, *extra])
            endpoints = group.expect(pub, "READY").split()
            for i in range(test.subscribers):
                group.start(f"SUB{i + 1}", ["sub", *common, "--connect", *endpoints])
            result = group.expect(pub, "RESULT")
        else:  # pragma: no cover - TESTS and this function are kept in step
            raise ValueError(f"unknown kind {test.kind}")
        figures: dict[str, Any] = json.loads(result)
        return figures

    raw = _guarded(timeout, body)
    raw["wall"] = round(time.monotonic() - started, 3)
    return raw


def value_of(test_unit: str, raw: dict[str, Any], size: int) -> float | None:
    """The figure in ``test_unit`` from a worker's raw result (None for a failed run)."""
    if "error" in raw or not raw.get("elapsed"):
        return None
    elapsed = raw["elapsed"]
    if test_unit == "msg/s":
        return float(raw["messages"] / elapsed)
    if test_unit == "GB/s":
        return float(raw["messages"] * size / elapsed / 1e9)
    if test_unit == "MB/s":
        return float(raw["messages"] * size / elapsed / 1e6)
    if test_unit == "µs":
        return float(elapsed / raw["roundtrips"] / 2 * 1e6)
    if test_unit == "deliveries/s":
        return float(raw["received"] / elapsed)
    raise ValueError(f"unknown unit {test_unit}")


def summarize(values: list[float | None], raws: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [v for v in values if v is not None]
    failures = [r["error"] for r in raws if "error" in r]
    return {
        "median": statistics.median(ok) if ok else None,
        "values": values,
        "ok": len(ok),
        "failures": failures,
    }


# -- the machine and the libraries --------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    memory = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / (1 << 20):.0f} GiB"
                break
    except (OSError, ValueError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory": memory,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg_before": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def library_info(lib: str, timeout: float) -> dict[str, Any] | None:
    """Version facts from a worker that imports ``lib``; None if it cannot be imported."""
    if lib == "bare":
        return {"version": f"Python {sys.version.split()[0]}", "module": "socket"}
    if importlib.util.find_spec(LIBS[lib].module) is None:
        return None
    group = _Group(timeout)
    try:
        info: dict[str, Any] = json.loads(
            group.expect(group.start("info", ["info", "--lib", lib]), "RESULT")
        )
    except (_Timeout, _Failed):
        return None
    finally:
        group.close()
    return info


# -- repetitions, interleaved -------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What every run of one invocation shares."""

    libs: list[str]
    repeat: int
    scale: float
    timeout: float  # seconds for one run, all its processes
    tmpdir: str  # for the ipc sockets
    say: Callable[[str], None]  # progress lines


def _describe(raw: dict[str, Any], value: float | None, unit: str) -> str:
    if value is None:
        detail = raw.get("detail", "")
        return f"{raw.get('error')}{': ' + detail if detail else ''}"
    return f"{fmt_value(unit, value)} {unit}"


def _ratio(medians: dict[str, float | None]) -> float | None:
    ours, base = medians.get("purezmq"), medians.get(BASELINE)
    if ours is None or base is None or base == 0:
        return None
    return ours / base


def _interleave(
    plan: Plan, test: Test, count: int, size: int, unit: str, label: str
) -> dict[str, dict[str, Any]]:
    """``plan.repeat`` runs of ``test`` per library, summarized, with each run's raw figures.

    Within a repetition the libraries take turns, so that a slow spell of this (noisy, shared)
    machine does not fall on one library alone.
    """
    runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in plan.libs}
    for rep in range(plan.repeat):
        for lib in plan.libs:
            raw = run_once(test, lib, count, size, plan.timeout, plan.tmpdir)
            raw["value"] = value_of(unit, raw, size)
            runs[lib].append(raw)
            plan.say(
                f"  {label} {rep + 1}/{plan.repeat} {lib:<8} "
                f"{_describe(raw, raw['value'], unit)}  ({raw['wall']:.1f} s)"
            )
    return {
        lib: {**summarize([r["value"] for r in runs[lib]], runs[lib]), "runs": runs[lib]}
        for lib in plan.libs
    }


def run_test(test: Test, plan: Plan) -> dict[str, Any]:
    """Every repetition of ``test``: the entry of the report's ``results`` list."""
    count = scaled(test.count, plan.scale)
    summaries = _interleave(plan, test, count, test.size, test.unit, f"{test.name:<12}")
    return {
        "test": test.name,
        "description": test.description,
        "transport": test.transport,
        "api": "trio"
        if test.trio
        else "asyncio"
        if test.aio
        else ("threads" if test.transport == "inproc" else "blocking"),
        "count": count,
        "size": test.size,
        "unit": test.unit,
        "higher_is_better": test.higher_is_better,
        "libs": summaries,
        "ratio": _ratio({lib: s["median"] for lib, s in summaries.items()}),
    }


def run_sweep(sizes: list[int], plan: Plan) -> dict[str, Any]:
    """``thr`` at each message size: the report's ``sweep``."""
    test = TESTS["thr"]
    points = []
    for size in sizes:
        count = sweep_count(size, plan.scale)
        label = f"sweep {human_size(size):>7}"
        summaries = _interleave(plan, test, count, size, "msg/s", label)
        point: dict[str, Any] = {"size": size, "count": count, "libs": {}}
        for lib, summary in summaries.items():
            median = summary["median"]
            point["libs"][lib] = {
                "msgs_per_s": median,
                "mb_per_s": median * size / 1e6 if median is not None else None,
                "failures": summary["failures"],
                "runs": summary["runs"],
            }
        point["ratio"] = _ratio({lib: s["msgs_per_s"] for lib, s in point["libs"].items()})
        points.append(point)
    return {"test": "thr", "transport": test.transport, "points": points}


# -- the scaling sweep --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScalingPlan:
    """What the scaling sweep measures (see scaling.py)."""

    peers: list[int]
    subscribers: list[int]
    shapes: list[str]
    messages: int
    size: int
    idle_connections: int  # 0: no memory measure


def _scaling_once(lib: str, spec: ScalingPlan, timeout: float) -> dict[str, Any]:
    argv = [
        "scaling", "--lib", lib, "--count", str(spec.messages), "--size", str(spec.size),
        "--peers", ",".join(map(str, spec.peers)),
        "--subs", ",".join(map(str, spec.subscribers)),
        "--shapes", ",".join(spec.shapes),
    ]  # fmt: skip

    def body(group: _Group) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(group.expect(group.start("scaling", argv), "RESULT"))
        return result

    return _guarded(timeout, body)


def _idle_memory(lib: str, connections: int, timeout: float) -> dict[str, Any]:
    """Bytes of resident memory per idle connection, both ends (a ROUTER's process and its
    DEALERs' processes), or ``{"error": ...}``."""

    def body(group: _Group) -> dict[str, Any]:
        argv = ["idle-router", "--lib", lib, "--count", str(connections)]
        router = group.start("idle ROUTER", argv)
        endpoint = group.expect(router, "READY")
        dealers = []
        for first in range(0, connections, scaling.DEALERS_PER_PROCESS):
            count = min(scaling.DEALERS_PER_PROCESS, connections - first)
            argv = ["idle-dealers", "--lib", lib, "--count", str(count), "--connect", endpoint]
            dealers.append(group.start(f"idle DEALERs {first}", argv))
        router_bytes = json.loads(group.expect(router, "RESULT"))["bytes"]
        for proc in dealers:
            proc.release()  # Every connection is up (the ROUTER has every hello): measure.
        dealer_bytes = [json.loads(group.expect(proc, "RESULT"))["bytes"] for proc in dealers]
        return {
            "connections": connections,
            "bytes_per_connection": (router_bytes + sum(dealer_bytes)) / connections,
            "router_bytes": router_bytes,
            "dealer_bytes": dealer_bytes,
        }

    return _guarded(timeout, body)


def run_scaling(spec: ScalingPlan, plan: Plan) -> dict[str, Any]:
    """The scaling sweep, libraries interleaved per repetition: the report's ``scaling``."""
    libs = [lib for lib in plan.libs if lib != "bare"]
    # Setting up a thousand connections per shape takes seconds; so does the idle measure.
    timeout = max(plan.timeout, 300.0)
    runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in libs}
    for rep in range(plan.repeat):
        for lib in libs:
            began = time.monotonic()
            raw = _scaling_once(lib, spec, timeout)
            runs[lib].append(raw)
            took = time.monotonic() - began
            state = raw.get("error", f"{len(raw.get('cells', []))} cells")
            plan.say(f"  scaling {rep + 1}/{plan.repeat} {lib:<8} {state}  ({took:.1f} s)")
    cells: dict[tuple[str, int], dict[str, Any]] = {}
    for lib, lib_runs in runs.items():
        for raw in lib_runs:
            for cell in raw.get("cells", []):
                entry = cells.setdefault((cell["shape"], cell["n"]), {})
                entry.setdefault(lib, {"wall": [], "cpu": []})
                entry[lib]["wall"].append(cell["wall"])
                entry[lib]["cpu"].append(cell["cpu"])
    rows = []
    for shape in spec.shapes:
        for n in spec.subscribers if shape == "pub_out" else spec.peers:
            entry = cells.get((shape, n), {})
            row: dict[str, Any] = {"shape": shape, "n": n, "libs": {}}
            for lib in libs:
                figures = entry.get(lib)
                row["libs"][lib] = {
                    "wall": statistics.median(figures["wall"]) if figures else None,
                    "cpu": statistics.median(figures["cpu"]) if figures else None,
                    "values": figures,
                }
            rows.append(row)
    memory: dict[str, Any] = {}
    if spec.idle_connections:
        for lib in libs:
            began = time.monotonic()
            memory[lib] = _idle_memory(lib, spec.idle_connections, timeout)
            per = memory[lib].get("bytes_per_connection")
            state = f"{per / 1024:.1f} KiB/connection" if per else memory[lib].get("error")
            took = time.monotonic() - began
            plan.say(f"  idle {spec.idle_connections} {lib:<8} {state}  ({took:.1f} s)")
    return {
        "peers": spec.peers,
        "subscribers": spec.subscribers,
        "messages": spec.messages,
        "size": spec.size,
        "errors": {lib: [r for r in lib_runs if "error" in r] for lib, lib_runs in runs.items()},
        "cells": rows,
        "memory": memory,
    }

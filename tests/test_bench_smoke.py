"""Smoke test of the benchmark runner ``python -m purezmq.bench``: a tiny run, purezmq vs pyzmq."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from purezmq import bench

pytest.importorskip("zmq")

SMOKE_TESTS = ("thr", "lat", "inproc_thr", "asyncio_lat")


def _table_rows(stdout: str) -> tuple[list[str], dict[str, list[str]]]:
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, rows = split[0], split[2:]  # split[1] is the |---| rule
    return header, {row[0]: row for row in rows}


def test_smoke_run_has_both_libraries_and_a_ratio(tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "results.json", tmp_path / "results.md"
    argv = [sys.executable, "-m", "purezmq.bench", "--scale", "0.001", "--repeat", "1"]
    argv += ["--tests", ",".join(SMOKE_TESTS), "--libs", "purezmq,pyzmq", "--timeout", "20"]
    argv += ["--json", str(out_json), "--markdown", str(out_md), "--quiet"]
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr

    header, rows = _table_rows(proc.stdout)
    assert header == ["test", "unit", "purezmq", "pyzmq", "purezmq/pyzmq"]
    assert set(rows) == set(SMOKE_TESTS)
    for name, (_, unit, ours, theirs, ratio) in rows.items():
        assert unit == bench.TESTS[name].unit
        for cell in (ours, theirs):
            assert float(cell.replace(",", "")) > 0, f"{name}: {cell!r}"
        assert ratio.endswith("x") and float(ratio[:-1]) > 0, f"{name}: {ratio!r}"

    report = json.loads(out_json.read_text())
    assert report["libs"] == ["purezmq", "pyzmq"]
    assert report["machine"]["cpu"] and report["machine"]["cores"]
    assert report["libraries"]["pyzmq"]["zmq_version"]
    assert [entry["test"] for entry in report["results"]] == list(SMOKE_TESTS)
    assert all(entry["ratio"] > 0 for entry in report["results"])
    markdown = out_md.read_text()
    assert "purezmq/pyzmq" in markdown
    assert "scaled by 0.001" in markdown
    assert elapsed < 30, f"the smoke run took {elapsed:.1f} s"


def test_the_bare_socket_floor_and_the_trio_line() -> None:
    """The "bare" column runs the tcp tests with bare socket calls, n/a for the others; trio_lat
    runs purezmq.anyio under trio."""
    pytest.importorskip("trio")
    argv = [sys.executable, "-m", "purezmq.bench", "--scale", "0.001", "--repeat", "1"]
    argv += ["--tests", "lat,big,inproc_thr,trio_lat", "--libs", "purezmq,bare", "--quiet"]
    proc = subprocess.run([*argv, "--timeout", "20"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    header, rows = _table_rows(proc.stdout)
    assert header[:4] == ["test", "unit", "purezmq", "bare"]
    for name in ("lat", "big"):
        assert float(rows[name][3].replace(",", "")) > 0, rows[name]
    assert rows["inproc_thr"][3] == "n/a"
    assert rows["trio_lat"][3] == "n/a" and float(rows["trio_lat"][2]) > 0


def test_help_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--scale" in out and "asyncio_lat" in out
    assert bench.main(["--tests", "nosuch"]) == 2
    assert "unknown test" in capsys.readouterr().err
    assert bench.main(["--libs", "purezmq,nosuch"]) == 2
    assert bench.main(["--repeat", "0"]) == 2
    assert bench.main(["--tests", "none"]) == 2


def test_values_and_formatting() -> None:
    assert bench.value_of("msg/s", {"messages": 999, "elapsed": 0.5}, 16) == 1998
    assert bench.value_of("µs", {"roundtrips": 100, "elapsed": 0.01}, 16) == pytest.approx(50)
    assert bench.value_of("GB/s", {"messages": 1000, "elapsed": 1.0}, 1 << 20) == pytest.approx(
        1.048576
    )
    assert bench.value_of("msg/s", {"error": "timeout"}, 16) is None
    summary = bench.summarize([10.0, None, 30.0], [{}, {"error": "timeout"}, {}])
    assert summary["median"] == 20.0
    assert bench.fmt_cell("msg/s", summary) == "20 (1 timeout)"
    assert bench.fmt_cell("msg/s", {"median": None, "failures": ["timeout"]}) == "timeout"
    assert bench.sweep_count(8, 1.0) == 200_000 and bench.sweep_count(1 << 20, 1.0) == 1024


def test_the_scaling_sweep_measures_every_shape_and_idle_memory(tmp_path: Path) -> None:
    """``--scaling``: every shape at every N for both libraries, memory per idle connection,
    the table on stdout and the section of the markdown page."""
    out_json, out_md = tmp_path / "scaling.json", tmp_path / "scaling.md"
    argv = [sys.executable, "-m", "purezmq.bench", "--tests", "none", "--scaling"]
    argv += ["--scaling-peers", "1,3", "--scaling-subs", "1,2", "--idle-connections", "20"]
    argv += ["--scale", "0.01", "--repeat", "1", "--libs", "purezmq,pyzmq", "--quiet"]
    argv += ["--json", str(out_json), "--markdown", str(out_md)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stderr

    sweep = json.loads(out_json.read_text())["scaling"]
    assert [(c["shape"], c["n"]) for c in sweep["cells"]] == [
        ("fan_in", 1), ("fan_in", 3), ("route_out", 1), ("route_out", 3),
        ("push_out", 1), ("push_out", 3), ("pub_out", 1), ("pub_out", 2),
    ]  # fmt: skip
    for cell in sweep["cells"]:
        for lib in ("purezmq", "pyzmq"):
            figures = cell["libs"][lib]
            assert figures["wall"] > 0 and figures["cpu"] > 0, (cell["shape"], lib, figures)
    for lib in ("purezmq", "pyzmq"):
        memory = sweep["memory"][lib]
        assert memory["connections"] == 20 and memory["bytes_per_connection"] > 0, memory
    header, rows = _table_rows(proc.stdout)
    assert header[:4] == ["shape", "N", "purezmq µs", "pyzmq µs"]
    assert "## Scaling" in out_md.read_text()


def test_scaling_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--tests", "none", "--scaling", "--scaling-peers", "0,10"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert bench.main(["--tests", "none", "--scaling", "--scaling-subs", "a"]) == 2
    assert "not a list of integers" in capsys.readouterr().err
    assert bench.main(["--tests", "none", "--scaling", "--idle-connections", "-1"]) == 2
    assert "0 or more" in capsys.readouterr().err

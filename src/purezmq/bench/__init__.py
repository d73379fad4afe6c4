"""Benchmark runner: purezmq against pyzmq (and pyomq when it is installed), in one run.

Modelled on libzmq's ``local_thr``/``remote_thr`` and ``local_lat``/``remote_lat``: each side of a
benchmark is its own process (``python -m purezmq.bench _worker ROLE ...``), started by the runner
and killed by it when it overruns ``--timeout``.  The libraries are interleaved (for each
repetition: purezmq, pyzmq, pyomq, then again), and each figure is the median of ``--repeat``
repetitions.  Entry points: ``main(argv)`` (wired as ``purezmq bench``) and
``python -m purezmq.bench``.  See ``benchmarks/README.md`` for what each test measures.

The modules, by concern:

- ``catalog``: the libraries, the tests and their nominal counts, the sweep's sizes;
- ``workers``: the roles run in the worker processes, on the blocking and the asyncio API;
- ``runner``: worker processes and deadlines, one run, interleaved repetitions, the sweep;
- ``report``: the figures formatted, the tables, the markdown page, the chart;
- ``cli``: the options and ``main``.

The names below were all importable from the single-module ``purezmq.bench`` and stay so.
"""

from __future__ import annotations

from purezmq.bench.catalog import (
    BASELINE,
    LIBS,
    MIB,
    SWEEP_SIZES,
    TESTS,
    Lib,
    Test,
    scaled,
    sweep_count,
)
from purezmq.bench.cli import EPILOG, build_parser, main
from purezmq.bench.report import (
    draw_chart,
    fmt_cell,
    fmt_ratio,
    fmt_value,
    human_size,
    markdown_table,
    render_markdown,
    results_table,
    spread_table,
    sweep_table,
)
from purezmq.bench.runner import (
    Plan,
    library_info,
    machine_info,
    run_once,
    run_sweep,
    run_test,
    summarize,
    value_of,
)
from purezmq.bench.workers import worker_main

__all__ = [
    "BASELINE",
    "EPILOG",
    "LIBS",
    "MIB",
    "SWEEP_SIZES",
    "TESTS",
    "Lib",
    "Plan",
    "Test",
    "build_parser",
    "draw_chart",
    "fmt_cell",
    "fmt_ratio",
    "fmt_value",
    "human_size",
    "library_info",
    "machine_info",
    "main",
    "markdown_table",
    "render_markdown",
    "results_table",
    "run_once",
    "run_sweep",
    "run_test",
    "scaled",
    "spread_table",
    "summarize",
    "sweep_count",
    "sweep_table",
    "value_of",
    "worker_main",
]

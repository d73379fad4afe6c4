"""The command line of the benchmarks: ``purezmq bench`` and ``python -m purezmq.bench``.

Parses the options, checks which libraries import (in a worker, as the runs will), runs the tests
and the sweep through ``runner.py``, then prints the tables and writes ``--json``, ``--markdown``
and ``--chart``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from purezmq.bench import scaling
from purezmq.bench.catalog import (
    BASELINE,
    LIBS,
    SCALING_MESSAGES,
    SWEEP_SIZES,
    TESTS,
    Test,
    scaled,
)
from purezmq.bench.report import (
    draw_chart,
    human_size,
    relative_to_page,
    render_markdown,
    results_table,
    sweep_table,
)
from purezmq.bench.runner import (
    Plan,
    ScalingPlan,
    library_info,
    machine_info,
    run_scaling,
    run_sweep,
    run_test,
)
from purezmq.bench.scaling_report import (
    draw_scaling_chart,
    memory_table,
    render_scaling,
    scaling_table,
)
from purezmq.bench.workers import worker_main
from purezmq.cli.argtypes import positive_float, positive_int

EPILOG = """\
tests (nominal counts, multiplied by --scale):
{tests}

examples:
  python -m purezmq.bench                          all tests, purezmq vs pyzmq (+ pyomq)
  python -m purezmq.bench --tests thr,lat --repeat 5
  python -m purezmq.bench --scale 0.01 --repeat 1  a quick look (1% of the messages)
  python -m purezmq.bench --libs purezmq,pyzmq --json out.json --markdown out.md
  python -m purezmq.bench --tests none --sweep --chart sweep.png --json sweep.json
  python -m purezmq.bench --tests none --scaling --scaling-chart scaling.png
  purezmq bench --tests asyncio_thr,asyncio_lat   the same runner from the purezmq command

Each side of a benchmark runs in its own process (inproc_*: two threads of one
process); a run that overruns --timeout is killed and shows as "timeout".
"""


def build_parser(prog: str = "purezmq bench") -> argparse.ArgumentParser:
    listing = "\n".join(
        f"  {t.name:<12} {t.count:>9,} x {human_size(t.size):<6} {t.unit:<13} "
        f"{t.description.split(';')[0]}"
        for t in TESTS.values()
    )
    p = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark purezmq against pyzmq (and pyomq when installed): the libraries\n"
        "interleaved on the same machine; prints the median of each figure over --repeat\n"
        "repetitions and the ratio purezmq/pyzmq.",
        epilog=EPILOG.format(tests=listing),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--tests",
        metavar="LIST",
        default="all",
        help="comma-separated tests to run, 'all' (default) or 'none' (e.g. with --sweep)",
    )
    p.add_argument(
        "--libs",
        metavar="LIST",
        default=None,
        help="comma-separated libraries among purezmq, pyzmq, pyomq (default: purezmq,pyzmq "
        "and pyomq if it is installed)",
    )
    p.add_argument(
        "--repeat",
        metavar="N",
        type=positive_int,
        default=3,
        help="repetitions per figure (default: 3)",
    )
    p.add_argument(
        "--scale",
        metavar="F",
        type=positive_float,
        default=1.0,
        help="multiply every message count by F (e.g. 0.001 for a smoke run; default: 1)",
    )
    p.add_argument(
        "--timeout",
        metavar="SEC",
        type=positive_float,
        default=None,
        help="seconds one run (all its processes) may take before it is killed and reported "
        "as 'timeout' (default: 30 + 150 x scale)",
    )
    p.add_argument("--json", metavar="PATH", help="write every result and the machine to PATH")
    p.add_argument("--markdown", metavar="PATH", help="write the results as markdown to PATH")
    p.add_argument(
        "--sweep", action="store_true", help="also run the thr message-size sweep (8 B .. 1 MiB)"
    )
    p.add_argument(
        "--sweep-sizes",
        metavar="SIZES",
        help="comma-separated message sizes in bytes for the sweep (default: "
        + ",".join(map(str, SWEEP_SIZES))
        + ")",
    )
    p.add_argument(
        "--chart",
        metavar="PATH",
        help="draw the sweep as a PNG at PATH (implies --sweep; needs matplotlib)",
    )
    p.add_argument(
        "--scaling",
        action="store_true",
        help="also run the scaling sweep: cost per message with 1..1,000 peers on a ROUTER and "
        "a PUSH, 1..64 SUBs on a PUB, and memory per idle connection",
    )
    p.add_argument(
        "--scaling-peers",
        metavar="LIST",
        default=",".join(map(str, scaling.PEERS)),
        help="peer counts for ROUTER and PUSH (default: %(default)s)",
    )
    p.add_argument(
        "--scaling-subs",
        metavar="LIST",
        default=",".join(map(str, scaling.SUBSCRIBERS)),
        help="SUB counts for PUB (default: %(default)s)",
    )
    p.add_argument(
        "--idle-connections",
        metavar="N",
        type=int,
        default=scaling.IDLE_CONNECTIONS,
        help="idle connections for the memory measure, 0 for none (default: %(default)s)",
    )
    p.add_argument(
        "--scaling-chart",
        metavar="PATH",
        help="draw the scaling sweep as a PNG at PATH (implies --scaling; needs matplotlib)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


class _UsageError(Exception):
    pass


def _select_tests(text: str) -> list[Test]:
    text = text.strip()
    if text == "all":
        return list(TESTS.values())
    if text in ("none", ""):
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in TESTS]
    if unknown:
        raise _UsageError(f"unknown test(s) {', '.join(unknown)}; known: {', '.join(TESTS)}")
    return [TESTS[n] for n in dict.fromkeys(names)]


def _select_libs(text: str | None) -> list[str]:
    if text is None:
        return ["purezmq", "pyzmq", "pyomq", "bare"]
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in LIBS]
    if unknown or not names:
        raise _UsageError(f"unknown librar(y/ies) {', '.join(unknown)}; known: {', '.join(LIBS)}")
    return names


def _counts(option: str, text: str) -> list[int]:
    try:
        counts = sorted({int(n) for n in text.split(",") if n.strip()})
    except ValueError:
        raise _UsageError(f"{option}: not a list of integers: {text!r}") from None
    if not counts or counts[0] < 1:
        raise _UsageError(f"{option}: counts must be at least 1")
    return counts


def _scaling_plan(args: argparse.Namespace) -> ScalingPlan:
    peers = _counts("--scaling-peers", args.scaling_peers)
    subscribers = _counts("--scaling-subs", args.scaling_subs)
    if args.idle_connections < 0:
        raise _UsageError("--idle-connections: must be 0 or more")
    # The same total whatever N (each peer gets its share), and at least one message per peer.
    messages = max(scaled(SCALING_MESSAGES, args.scale), max(peers), max(subscribers))
    return ScalingPlan(
        peers, subscribers, list(scaling.SHAPES), messages, 16, args.idle_connections
    )


def _sweep_sizes(text: str | None) -> list[int]:
    if text is None:
        return list(SWEEP_SIZES)
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise _UsageError(f"--sweep-sizes: not a list of integers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise _UsageError("--sweep-sizes: sizes must be at least 1 byte")
    return sorted(set(sizes))


class _Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (``purezmq bench``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_worker"]:  # a worker process started by the runner (see workers.py)
        return worker_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return int(exc.code or 0)
    try:
        return _run(args, argv)
    except _UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    tests = _select_tests(args.tests)
    libs = _select_libs(args.libs)
    do_sweep = bool(args.sweep or args.chart)
    sizes = _sweep_sizes(args.sweep_sizes)
    scaling_plan = _scaling_plan(args) if args.scaling or args.scaling_chart else None
    if not tests and not do_sweep and scaling_plan is None:
        raise _UsageError("nothing to run: --tests none without --sweep or --scaling")
    for option, given in (("--chart", args.chart), ("--scaling-chart", args.scaling_chart)):
        if given and importlib.util.find_spec("matplotlib") is None:
            raise _UsageError(f"{option} needs matplotlib: pip install matplotlib")
    timeout = args.timeout if args.timeout is not None else round(30 + 150 * args.scale)
    say = _Progress(args.quiet)

    if "purezmq" not in libs:
        raise _UsageError("purezmq must be among --libs")
    libraries: dict[str, dict[str, Any]] = {}
    missing = []
    for lib in libs:
        info = library_info(lib, timeout=60)
        if info is None:
            if lib == "purezmq":
                raise _UsageError("purezmq does not import in a worker process")
            say(f"{lib} is not installed (or does not import): left out")
            missing.append(lib)
            continue
        libraries[lib] = info
    libs = [lib for lib in libs if lib in libraries]
    if BASELINE not in libs:
        say(f"{BASELINE} is not among the libraries: no ratio column")

    command = shlex.join(["python", "-m", "purezmq.bench", *argv])
    report: dict[str, Any] = {
        "schema": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": machine_info(),
        "libraries": libraries,
        "libs": libs,
        "missing_libs": missing,
        "settings": {"scale": args.scale, "repeat": args.repeat, "timeout": timeout},
        "results": [],
    }
    say(
        f"benchmarking {', '.join(libs)}: {len(tests)} test(s){' + sweep' if do_sweep else ''}, "
        f"{args.repeat} repetition(s), scale {args.scale:g}, timeout {timeout:g} s per run"
    )
    tmpdir = tempfile.mkdtemp(prefix="purezmq-bench-")
    plan = Plan(libs, args.repeat, args.scale, timeout, tmpdir, say)
    try:
        for test in tests:
            report["results"].append(run_test(test, plan))
        if do_sweep:
            report["sweep"] = run_sweep(sizes, plan)
        if scaling_plan is not None:
            report["scaling"] = run_scaling(scaling_plan, plan)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    if report["results"]:
        print(results_table(report))
    if do_sweep:
        print()
        print(sweep_table(report))
    if scaling_plan is not None:
        print()
        print(scaling_table(report, "cpu"))
        if report["scaling"]["memory"]:
            print()
            print(memory_table(report))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        say(f"wrote {path}")
    if args.chart:
        draw_chart(report, Path(args.chart))
        say(f"wrote {args.chart}")
    if args.scaling_chart:
        draw_scaling_chart(report, Path(args.scaling_chart))
        say(f"wrote {args.scaling_chart}")
    if args.markdown:
        path = Path(args.markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        sections = None
        if scaling_plan is not None:
            chart = args.scaling_chart and relative_to_page(args.scaling_chart, path)
            sections = render_scaling(report, chart)
        path.write_text(render_markdown(report, args.chart, path, sections))
        say(f"wrote {path}")
    return 0

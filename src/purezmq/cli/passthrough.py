"""The commands whose options belong to another module's ``main(argv)``: ``bench``, ``keygen``,
``worker`` and ``demo web``; ``purezmq.cli.main`` hands them everything after the command words."""

from __future__ import annotations

import argparse
import importlib

from purezmq.cli.common import CommandError

PROG = "purezmq"

#: Commands whose options belong to another module's main(argv): everything after the
#: command word is handed over as it is (``--help`` too).
PASS_THROUGH: dict[tuple[str, ...], tuple[str, str]] = {
    ("bench",): ("purezmq.bench", "run the benchmarks side by side with pyzmq"),
    ("keygen",): ("purezmq.auth.keygen", "make a CURVE key pair or certificate files"),
    ("worker",): ("purezmq.apps.worker", "run a worker for 'purezmq demo web' (another machine)"),
    ("demo", "web"): ("purezmq.apps.web", "the web app demo (aiohttp; the 'web' extra)"),
}


def add_pass_through(subparsers: argparse._SubParsersAction) -> None:
    # Listed for --help only: main() dispatches these before argparse sees them.
    for words, (_module, summary) in PASS_THROUGH.items():
        if len(words) == 1:
            p = subparsers.add_parser(words[0], help=f"{summary} ('{PROG} {words[0]} --help')")
            p.add_argument("args", nargs=argparse.REMAINDER)


def run_module(module_name: str, argv: list[str]) -> int:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandError(f"cannot load {module_name}: {exc}") from None
    entry = getattr(module, "main", None)
    if not callable(entry):
        raise CommandError(f"{module_name} has no main()")
    return int(entry(list(argv)) or 0)

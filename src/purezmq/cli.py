"""The ``purezmq`` command line.

``purezmq push|pull|pub|sub|req|rep|dealer|router|pair`` and ``purezmq proxy`` (text streams over
sockets, in ``purezmq._cli_streams``), ``purezmq demo`` and ``purezmq bench`` (``purezmq.bench``).

Each subcommand is registered by one ``_add_<name>(subparsers)`` function listed in
``COMMANDS``; it adds its parser and sets ``handler`` to a function ``(args) -> int`` returning the
exit status.  A handler raises ``UsageError`` for a user mistake (exit 2) and ``CommandError`` for
a failure (exit 1); either is printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from purezmq import ZMQError
from purezmq._argtypes import positive_int as _positive_int
from purezmq._cli_common import CommandError, UsageError  # one class, even under python -m
from purezmq._cli_streams import COMMANDS as _STREAM_COMMANDS

__all__ = ["COMMANDS", "CommandError", "UsageError", "build_parser", "main"]

PROG = "purezmq"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is reported on one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("purezmq")
    except PackageNotFoundError:
        import purezmq

        return str(getattr(purezmq, "__version__", "unknown"))


# -- demo ---------------------------------------------------------------------------------------


def _add_demo(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run a demo from the talk (pipeline, chat or web)",
        description="Run a self-contained demo. pipeline (default): square a 3x3 matrix row by "
        "row on worker processes over PUSH/PULL. chat: a scripted chat between two PAIR sockets.",
    )
    p.add_argument(
        "name",
        nargs="?",
        choices=("pipeline", "chat", "web"),
        default="pipeline",
        help="web: the web app ('purezmq demo web --help')",
    )
    p.add_argument(
        "--transport", choices=("ipc", "tcp"), default="ipc", help="default: %(default)s"
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=3,
        help="pipeline worker processes (default: %(default)s)",
    )
    p.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from purezmq import demo

    if args.name == "chat":
        for line in demo.run_chat(transport=args.transport):
            print(line, flush=True)
        return 0
    matrix = demo.DEMO_MATRIX
    print(f"matrix: {matrix}")
    print(f"squaring each row on {args.workers} worker processes over {args.transport} ...")
    sys.stdout.flush()
    print(demo.run_pipeline(matrix, workers=args.workers, transport=args.transport), flush=True)
    return 0


# -- bench --------------------------------------------------------------------------------------


#: Commands whose options belong to another module's main(argv): everything after the
#: command word is handed over as it is (``--help`` too).
PASS_THROUGH: dict[tuple[str, ...], tuple[str, str]] = {
    ("bench",): ("purezmq.bench", "run the benchmarks side by side with pyzmq"),
    ("keygen",): ("purezmq.auth.keygen", "make a CURVE key pair or certificate files"),
    ("worker",): ("purezmq.apps.worker", "run a worker for 'purezmq demo web' (another machine)"),
    ("demo", "web"): ("purezmq.apps.web", "the web app demo (aiohttp; the 'web' extra)"),
}


def _add_pass_through(subparsers: argparse._SubParsersAction) -> None:
    # Listed for --help only: main() dispatches these before argparse sees them.
    for words, (_module, summary) in PASS_THROUGH.items():
        if len(words) == 1:
            p = subparsers.add_parser(words[0], help=f"{summary} ('{PROG} {words[0]} --help')")
            p.add_argument("args", nargs=argparse.REMAINDER)


def _run_module(module_name: str, argv: list[str]) -> int:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandError(f"cannot load {module_name}: {exc}") from None
    entry = getattr(module, "main", None)
    if not callable(entry):
        raise CommandError(f"{module_name} has no main()")
    return int(entry(list(argv)) or 0)


COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    *_STREAM_COMMANDS,
    _add_demo,
    _add_pass_through,
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="purezmq: ZeroMQ in pure Python (ZMTP 3.1, pyzmq-compatible API).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        for words, (module, _) in PASS_THROUGH.items():
            if tuple(argv[: len(words)]) == words:
                return _run_module(module, argv[len(words) :])
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except (CommandError, ZMQError, TimeoutError, RuntimeError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

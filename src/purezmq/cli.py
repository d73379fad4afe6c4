"""The ``purezmq`` command line.

Each subcommand is registered by one ``_add_<name>(subparsers)`` function listed in
``COMMANDS``; it adds its parser and sets ``handler`` to a function ``(args) -> int`` returning the
exit status.  A handler raises ``UsageError`` for a user mistake (exit 2) and ``CommandError`` for
a failure (exit 1); either is printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from purezmq import ZMQError

PROG = "purezmq"


class UsageError(Exception):
    """A mistake in how the command was invoked: one line on stderr, exit status 2."""


class CommandError(Exception):
    """The command ran but failed: one line on stderr, exit status 1."""


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


# -- demo ---------------------------------------------------------------------------------------


def _add_demo(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run a demo from the talk (pipeline or chat)",
        description="Run a self-contained demo. pipeline (default): square a 3x3 matrix row by "
        "row on worker processes over PUSH/PULL. chat: a scripted chat between two PAIR sockets.",
    )
    p.add_argument("name", nargs="?", choices=("pipeline", "chat"), default="pipeline")
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


# -- wiring -------------------------------------------------------------------------------------

COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_add_demo,)


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
    try:
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

"""The ``purezmq`` command line: the parser, ``main()`` and the list of commands.

One module per command group: ``streams`` (``push|pull|pub|sub|req|rep|dealer|router|pair``),
``proxy``, ``demo``, and ``passthrough`` (``bench``, ``keygen``, ``worker``, ``demo web``, run by
their own modules' ``main``); ``common`` and ``argtypes`` hold what they share.

Each subcommand is registered by one ``add_<name>(subparsers)`` function listed in
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
from purezmq.cli.common import CommandError, UsageError
from purezmq.cli.demo import add_demo
from purezmq.cli.passthrough import PASS_THROUGH, PROG, add_pass_through, run_module
from purezmq.cli.proxy import add_proxy
from purezmq.cli.streams import COMMANDS as _STREAM_COMMANDS
from purezmq.cli.top import add_top

__all__ = ["COMMANDS", "CommandError", "UsageError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is reported on one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("purezmq")
    except PackageNotFoundError:
        from purezmq.sugar.version import PUREZMQ_VERSION

        return PUREZMQ_VERSION  # (purezmq.__version__ is the pyzmq API version it implements)


COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    *_STREAM_COMMANDS,
    add_proxy,
    add_top,
    add_demo,
    add_pass_through,
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
                return run_module(module, argv[len(words) :])
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

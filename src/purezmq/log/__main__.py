"""The log watcher: ``python -m purezmq.log tcp://host:port`` subscribes to a PUB socket that a
:class:`purezmq.log.handlers.PUBHandler` publishes on and prints each record as
``[time ]topic<separator>message`` (pyzmq's ``python -m zmq.log``, same options).

Unlike pyzmq's, a message that is not two frames or not UTF-8 is printed (with replacement
characters) instead of ending the watcher, CTRL-C ends it quietly, and the default
``--dateformat`` is ``%Y-%m-%d %H:%M`` (pyzmq 27's puts the day before the month:
``%Y-%d-%m``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from datetime import datetime
from typing import Any

from ..constants import SocketOption, SocketType
from ..context import Context

_LEVEL_COLORS = {
    "DEBUG": "\x1b[36m",  # cyan
    "INFO": "",
    "WARN": "\x1b[33m",  # yellow
    "WARNING": "\x1b[33m",
    "ERROR": "\x1b[31m",  # red
    "CRITICAL": "\x1b[1;31m",  # bright red
    "FATAL": "\x1b[1;31m",
}
_RESET = "\x1b[0m"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser("ZMQ Log Watcher")
    parser.add_argument("zmq_pub_url", type=str, help="URL to a ZMQ publisher socket.")
    parser.add_argument(
        "-t",
        "--topic",
        type=str,
        default="",
        help="Only receive messages that start with this topic.",
    )
    parser.add_argument(
        "--timestamp", action="store_true", help="Append local time to the log messages."
    )
    parser.add_argument(
        "--separator",
        type=str,
        default=" | ",
        help="String to print between topic and message.",
    )
    parser.add_argument(
        "--dateformat",
        type=str,
        default="%Y-%m-%d %H:%M",
        help="Set alternative date format for use with --timestamp.",
    )
    parser.add_argument(
        "--align",
        action="store_true",
        default=False,
        help="Try to align messages by the width of their topics.",
    )
    parser.add_argument(
        "--color",
        action="store_true",
        default=False,
        help="Color the output based on the error level. Requires the colorama module.",
    )
    return parser


class _Aligner:
    """Pads each dot-separated part of a topic to the widest seen at its position so far."""

    def __init__(self) -> None:
        self.widths: list[int] = []

    def __call__(self, topic: str) -> str:
        parts = topic.split(".")
        for index, part in enumerate(parts):
            if index < len(self.widths):
                self.widths[index] = max(self.widths[index], len(part))
            else:
                self.widths.append(len(part))
        parts += [""] * (len(self.widths) - len(parts))
        return ".".join(part.ljust(width) for part, width in zip(parts, self.widths, strict=True))


def _colorizer(enabled: bool) -> Any:
    """A function (topic, line) -> line, colored by the first level name among the topic's
    parts (colorama's codes when it is installed, plain ANSI codes on a terminal otherwise)."""
    if not enabled:
        return lambda topic, line: line
    try:
        colorama = importlib.import_module("colorama")
        colorama.init()
    except ImportError:
        if not (sys.stdout.isatty() and os.environ.get("TERM") != "dumb"):
            return lambda topic, line: line

    def colorize(topic: str, line: str) -> str:
        for part in topic.split("."):
            color = _LEVEL_COLORS.get(part.strip().upper())
            if color is not None:
                return f"{color}{line}{_RESET}" if color else line
        return line

    return colorize


def _decode(frame: bytes) -> str:
    return frame.decode("utf8", "replace")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    align = _Aligner() if args.align else (lambda topic: topic)
    colorize = _colorizer(args.color)
    ctx = Context()
    sub = ctx.socket(SocketType.SUB)
    sub.setsockopt(SocketOption.SUBSCRIBE, args.topic.encode("utf8"))
    try:
        sub.connect(args.zmq_pub_url)
        while True:
            frames = sub.recv_multipart()
            if len(frames) == 2:
                topic, message = _decode(frames[0]), _decode(frames[1])
            else:  # Not a PUBHandler's message: show it whole.
                topic, message = "", " ".join(_decode(frame) for frame in frames)
            line = f"{align(topic)}{args.separator}{message.strip()}"
            if args.timestamp:
                line = f"{datetime.now().strftime(args.dateformat)} {line}"
            print(colorize(topic, line), flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        sub.close(linger=0)
        ctx.term()


if __name__ == "__main__":
    sys.exit(main())

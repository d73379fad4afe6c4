"""argparse value types shared by the command line (``purezmq`` and ``purezmq bench``)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """A type for whole numbers no smaller than ``minimum``, with a one-line error otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def float_above_zero(
    not_a: str = "not a number", too_small: str = "must be above 0", *, finite: bool = False
) -> Callable[[str], float]:
    """A type for numbers above 0 (and below infinity if ``finite``), with a one-line error.

    ``not_a`` and ``too_small`` start the two messages, so each tool keeps its own wording
    (``"not a number of seconds"``, ...).
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{not_a}: {text!r}") from None
        if not value > 0 or (finite and value == math.inf):
            raise argparse.ArgumentTypeError(f"{too_small}, not {text}")
        return value

    return parse


positive_float = float_above_zero()

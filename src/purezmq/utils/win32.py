"""Win32 compatibility utilities (pyzmq's ``zmq.utils.win32``).

purezmq waits in Python (``selectors``, ``threading``), not inside a C call, so CTRL-C becomes
``KeyboardInterrupt`` promptly on every platform and :class:`allow_interrupt` has nothing to fix:
it is a no-op everywhere, usable with ``with`` (and, as a ``contextlib.ContextDecorator``, as a
decorator: ``@allow_interrupt(stop)``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


class allow_interrupt(contextlib.ContextDecorator):  # noqa: N801 - pyzmq's name
    """Utility for fixing CTRL-C events on Windows (a no-op in purezmq, see the module).

    ``action`` is the hook pyzmq calls on CTRL-C under Windows to unblock a poll loop; it is
    kept, never called: purezmq's polls are interrupted by CTRL-C directly.

    Example usage::

        def stop_my_application():
            ...

        with allow_interrupt(stop_my_application):
            # main polling loop.
            ...
    """

    def __init__(self, action: Callable[[], Any] | None = None) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


__all__ = ["allow_interrupt"]

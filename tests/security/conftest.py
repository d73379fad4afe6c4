"""Fixtures of the security tests (see _sec.py for the helpers)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from ._sec import Authenticators


@pytest.fixture
def auths(ctx: Any, pyctx: Any) -> Iterator[Authenticators]:
    """ZAP handlers to start in ``ctx`` or ``pyctx``; stopped before the contexts are destroyed."""
    started = Authenticators()
    yield started
    started.stop_all()


@pytest.fixture
def purezmq_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog capturing WARNING and above from the 'purezmq' logger."""
    caplog.set_level(logging.WARNING, logger="purezmq")
    return caplog

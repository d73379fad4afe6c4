"""Fixtures for the purezmq.asyncio tests, without pytest-asyncio.

``run(coro, timeout=...)`` runs ``coro`` on a fresh event loop and returns its result; through the
``loop_name`` parameter every test that uses it runs on the default asyncio loop and on uvloop.
The whole coroutine is bounded by ``asyncio.wait_for``; each operation inside it has its own,
shorter bound (``op``) so that a failure names the step that hung.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from ._aio import LOOPS, RUN_TIMEOUT, run_on

T = TypeVar("T")


@pytest.fixture(params=LOOPS)
def loop_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def run(loop_name: str) -> Callable[..., Any]:
    """``run(coro, timeout=RUN_TIMEOUT)``: the coroutine's result, run on asyncio or uvloop."""

    def _run(coro: Coroutine[Any, Any, T], timeout: float = RUN_TIMEOUT) -> T:
        return run_on(loop_name, coro, timeout)

    return _run

"""Contexts for the semantics tests that run purezmq against a libzmq (pyzmq) peer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import zmq as pyzmq

import purezmq


@pytest.fixture
def pctx() -> Iterator[purezmq.Context]:
    context = purezmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def lctx() -> Iterator[pyzmq.Context]:
    context = pyzmq.Context()
    yield context
    context.destroy(linger=0)

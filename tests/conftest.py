"""Shared fixtures.

``zmq_impl`` is the library under test: purezmq, or pyzmq itself when PUREZMQ_TEST_IMPL=zmq (used to
check that a test's expectations are libzmq's before purezmq has to meet them). ``pyzmq`` is always
the real libzmq binding, the interop peer.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from types import ModuleType

import pytest
import zmq as _pyzmq


def _impl_module() -> ModuleType:
    return importlib.import_module(os.environ.get("PUREZMQ_TEST_IMPL", "purezmq"))


@pytest.fixture
def zmq_impl() -> ModuleType:
    return _impl_module()


@pytest.fixture
def pyzmq() -> ModuleType:
    return _pyzmq


@pytest.fixture
def ctx(zmq_impl: ModuleType) -> Iterator[object]:
    """A context of the library under test, destroyed with linger 0 after the test."""
    context = zmq_impl.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def pyctx() -> Iterator[_pyzmq.Context]:
    context = _pyzmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def pctx() -> Iterator[object]:
    """A purezmq context (beside ``pyctx``, for tests that always pit one against the other)."""
    context = importlib.import_module("purezmq").Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def ipc_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="purezmq-") as path:
        yield path


@pytest.fixture
def ipc_endpoint(ipc_dir: str) -> str:
    return f"ipc://{ipc_dir}/{uuid.uuid4().hex[:8]}.sock"

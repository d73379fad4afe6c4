"""Interoperability with other libraries (pyzmq's ``zmq.utils.interop``): addresses as ints."""

from __future__ import annotations

import importlib
from typing import Any


def cast_int_addr(n: Any) -> int:
    """Cast an address to a Python int.

    This could be a Python integer or a CFFI pointer; anything else is a ValueError, as in
    pyzmq."""
    if isinstance(n, int):
        return n
    if type(n).__module__ == "_cffi_backend":  # A CFFI pointer: its address.
        try:
            ffi = importlib.import_module("cffi").FFI()
            return int(ffi.cast("size_t", n))
        except (ImportError, TypeError):
            pass
    raise ValueError(f"Cannot cast {n!r} to int")

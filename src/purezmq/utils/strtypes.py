"""Declare basic string types unambiguously (pyzmq's ``zmq.utils.strtypes``).

Deprecated in pyzmq 23 and kept there for old code: each call of ``cast_bytes`` /
``cast_unicode`` issues a DeprecationWarning, as pyzmq's do."""

from __future__ import annotations

import warnings

bytes = bytes  # the names pyzmq's module exports
unicode = str
basestring = (str,)


def cast_bytes(s: str | bytes, encoding: str = "utf8", errors: str = "strict") -> bytes:
    """cast str or bytes to bytes"""
    warnings.warn("zmq.utils.strtypes is deprecated in pyzmq 23.", DeprecationWarning, stacklevel=2)
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode(encoding, errors)
    raise TypeError(f"Expected unicode or bytes, got {s!r}")


def cast_unicode(s: str | bytes, encoding: str = "utf8", errors: str = "strict") -> str:
    """cast bytes or str to str"""
    warnings.warn("zmq.utils.strtypes is deprecated in pyzmq 23.", DeprecationWarning, stacklevel=2)
    if isinstance(s, bytes):
        return s.decode(encoding, errors)
    if isinstance(s, str):
        return s
    raise TypeError(f"Expected unicode or bytes, got {s!r}")


# The older spellings.
b = asbytes = cast_bytes
u = cast_unicode

__all__ = ["asbytes", "bytes", "unicode", "basestring", "b", "u", "cast_bytes", "cast_unicode"]

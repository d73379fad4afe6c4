"""JSON to and from UTF-8 bytes, as pyzmq's ``zmq.utils.jsonapi`` (the standard library's json).

Keyword arguments go to :func:`json.dumps` / :func:`json.loads` unchanged, and so do their
errors (TypeError for what cannot be serialised or an unknown keyword, ValueError -
``json.JSONDecodeError`` or ``UnicodeDecodeError`` - for what cannot be parsed)."""

from __future__ import annotations

import json
from typing import Any

#: The JSON module in use (pyzmq's name): always the standard library's.
jsonmod = json


def dumps(o: object, **kwargs: Any) -> bytes:
    """Serialize object to JSON bytes (utf-8).

    Keyword arguments are passed along to :py:func:`json.dumps`."""
    return json.dumps(o, **kwargs).encode("utf8")


def loads(s: bytes | str, **kwargs: Any) -> dict[str, Any] | list[Any] | str | float:
    """Load object from JSON bytes (utf-8), or from a str.

    Keyword arguments are passed along to :py:func:`json.loads`."""
    if isinstance(s, bytes):
        s = s.decode("utf8")
    result: Any = json.loads(s, **kwargs)
    return result


__all__ = ["dumps", "loads"]

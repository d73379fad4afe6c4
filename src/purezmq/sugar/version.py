"""Versions, as pyzmq's ``zmq.sugar.version``.

``pyzmq_version()`` and ``__version__`` are the pyzmq API version purezmq implements (27.3: the
pyzmq it is tested against), because programs written for pyzmq test them before using a feature
(``if zmq.pyzmq_version_info() >= (17,)``, ``LooseVersion(zmq.__version__)``). ``zmq_version()``
is the libzmq release whose behaviour and wire protocol purezmq follows. purezmq's own release is
``purezmq_version()`` (what ``pip`` shows)."""

from __future__ import annotations

from ..backend import zmq_version_info

VERSION_MAJOR = 27
VERSION_MINOR = 3
VERSION_PATCH = 0
VERSION_EXTRA = ""
__version__ = f"{VERSION_MAJOR}.{VERSION_MINOR}.{VERSION_PATCH}"
version_info: tuple[int, int, int] = (VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH)
__revision__ = ""

#: purezmq's own release (pyproject.toml's version).
PUREZMQ_VERSION = "0.1.0"


def pyzmq_version() -> str:
    """return the version of pyzmq as a string (the pyzmq API version purezmq implements)"""
    if VERSION_EXTRA:
        return f"{__version__}.{VERSION_EXTRA}"
    return __version__


def pyzmq_version_info() -> tuple[int, int, int] | tuple[int, int, int, float]:
    """return the pyzmq version as a tuple of at least three numbers

    If pyzmq is a development version, `inf` will be appended after the third integer.
    """
    if VERSION_EXTRA:
        return (VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH, float("inf"))
    return version_info


def zmq_version() -> str:
    """return the version of libzmq as a string (the libzmq purezmq follows)"""
    return "{}.{}.{}".format(*zmq_version_info())


def purezmq_version() -> str:
    """purezmq's own version as a string."""
    return PUREZMQ_VERSION


def purezmq_version_info() -> tuple[int, ...]:
    """purezmq's own version as a tuple of ints."""
    return tuple(int(part) for part in PUREZMQ_VERSION.split("."))


__all__ = [
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
    "__version__",
    "__revision__",
]

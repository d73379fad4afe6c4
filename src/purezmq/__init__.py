"""purezmq: ZeroMQ in pure Python, wire-compatible with libzmq and a drop-in for pyzmq."""

from __future__ import annotations

from typing import Any

from . import constants
from .constants import *  # noqa: F403 - the flat names pyzmq exposes (PUSH, LINGER, ...)
from .constants import (
    CONSTANTS,
    ContextOption,
    DeviceType,
    Errno,
    Event,
    Flag,
    MessageOption,
    NormMode,
    PollEvent,
    ReconnectStop,
    RouterNotify,
    SecurityMechanism,
    SocketOption,
    SocketType,
)
from .context import Context
from .error import (
    Again,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    strerror,
)
from .frame import Frame, Message, MessageTracker
from .poll import Poller, select, zmq_poll
from .socket import Socket

globals().update(CONSTANTS)

__version__ = "0.1.0"
VERSION = __version__
#: The libzmq version whose behaviour and wire protocol purezmq follows.
_LIBZMQ_VERSION = (4, 3, 5)


def zmq_version_info() -> tuple[int, int, int]:
    return _LIBZMQ_VERSION


def zmq_version() -> str:
    return ".".join(map(str, _LIBZMQ_VERSION))


def pyzmq_version_info() -> tuple[int, ...]:
    return tuple(int(part) for part in __version__.split("."))


def pyzmq_version() -> str:
    return __version__


def has(capability: str) -> bool:
    return capability in ("ipc",)


def zmq_errno() -> int:
    return 0


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'purezmq' has no attribute {name!r}")


__all__ = [
    "Again",
    "Context",
    "ContextOption",
    "ContextTerminated",
    "DeviceType",
    "Errno",
    "Event",
    "Flag",
    "Frame",
    "InterruptedSystemCall",
    "Message",
    "MessageOption",
    "MessageTracker",
    "NormMode",
    "NotDone",
    "PollEvent",
    "Poller",
    "ReconnectStop",
    "RouterNotify",
    "SecurityMechanism",
    "Socket",
    "SocketOption",
    "SocketType",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "constants",
    "has",
    "pyzmq_version",
    "pyzmq_version_info",
    "select",
    "strerror",
    "zmq_poll",
    "zmq_version",
    "zmq_version_info",
    *CONSTANTS,
]

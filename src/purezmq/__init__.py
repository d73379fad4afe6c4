"""purezmq: ZeroMQ in pure Python, wire-compatible with libzmq and a drop-in for pyzmq."""

from __future__ import annotations

from typing import Any

from . import backend, constants, sugar, utils  # noqa: F401 - zmq.backend, zmq.sugar, zmq.utils
from ._as_zmq import install_as_zmq
from .backend import curve_keypair, curve_public, has, zmq_errno
from .constants import *  # noqa: F403 - the flat names pyzmq exposes (PUSH, LINGER, ...)
from .constants import (
    CONSTANTS,
    COPY_THRESHOLD,
    DRAFT_API,
    IPC_PATH_MAX_LEN,
    PYZMQ_DRAFT_API,
    ContextOption,
    DeviceType,
    Enum,
    Errno,
    Event,
    Flag,
    IntEnum,
    IntFlag,
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
from .devices.functions import device, proxy, proxy_steerable
from .error import (
    Again,
    ContextTerminated,
    DraftFDWarning,
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
from .sugar import _FINISHED_TRACKER, Stopwatch, SyncContext, SyncSocket
from .sugar.version import (
    __revision__,
    __version__,
    purezmq_version,
    purezmq_version_info,
    pyzmq_version,
    pyzmq_version_info,
    zmq_version,
    zmq_version_info,
)
from .utils import interop, jsonapi  # noqa: F401 - loaded by 'import zmq' in pyzmq too

globals().update(CONSTANTS)

#: purezmq's own release; ``__version__`` is the pyzmq API version it implements (see
#: purezmq.sugar.version).
VERSION = purezmq_version()


def get_includes() -> list[str]:
    """Directories to include for building a Cython extension against pyzmq: none, purezmq has
    no C headers or Cython declarations (``zmq.get_includes()`` in pyzmq)."""
    return []


def get_library_dirs() -> list[str]:
    """Directories of the libzmq to link against: none, purezmq has no C library to link
    (``zmq.get_library_dirs()`` in pyzmq)."""
    return []


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'purezmq' has no attribute {name!r}")


__all__ = [
    "Again",
    "Context",
    "DraftFDWarning",
    "Stopwatch",
    "SyncContext",
    "SyncSocket",
    "_FINISHED_TRACKER",
    "__revision__",
    "__version__",
    "get_includes",
    "get_library_dirs",
    "install_as_zmq",
    # Also in pyzmq's __all__:
    "COPY_THRESHOLD",
    "DRAFT_API",
    "Enum",
    "IPC_PATH_MAX_LEN",
    "IntEnum",
    "IntFlag",
    "PYZMQ_DRAFT_API",
    "purezmq_version",
    "purezmq_version_info",
    "zmq_errno",
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
    "curve_keypair",
    "curve_public",
    "device",
    "has",
    "proxy",
    "proxy_steerable",
    "pyzmq_version",
    "pyzmq_version_info",
    "select",
    "strerror",
    "zmq_poll",
    "zmq_version",
    "zmq_version_info",
    *CONSTANTS,
]

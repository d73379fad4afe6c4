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


def curve_keypair() -> tuple[bytes, bytes]:
    """A new CURVE key pair as (public, secret), each 40 Z85 characters (needs PyNaCl)."""
    from .protocol.mechanisms.curve import _sodium
    from .utils import z85

    public, secret = _sodium().crypto_box_keypair()
    return z85.encode(public), z85.encode(secret)


def curve_public(secret_key: bytes) -> bytes:
    """The Z85 public key of a Z85 (or raw 32-byte) secret key (needs PyNaCl)."""
    from .protocol.mechanisms.curve import _sodium
    from .utils import z85

    if isinstance(secret_key, str):
        secret_key = secret_key.encode("ascii")
    raw = z85.decode(secret_key) if len(secret_key) == 40 else secret_key
    return z85.encode(_sodium().crypto_scalarmult_base(raw))


def zmq_version_info() -> tuple[int, int, int]:
    return _LIBZMQ_VERSION


def zmq_version() -> str:
    return ".".join(map(str, _LIBZMQ_VERSION))


def pyzmq_version_info() -> tuple[int, ...]:
    return tuple(int(part) for part in __version__.split("."))


def pyzmq_version() -> str:
    return __version__


def has(capability: str) -> bool:
    if capability == "curve":
        try:
            import nacl.bindings  # noqa: F401
        except ImportError:
            return False
        return True
    return capability in ("ipc", "plain")


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
    "curve_keypair",
    "curve_public",
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

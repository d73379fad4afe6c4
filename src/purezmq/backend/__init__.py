"""The backend: what pyzmq's ``zmq.backend`` exposes of libzmq's C API, for purezmq.

pyzmq has two backends (Cython and CFFI) under the pure-Python "sugar"; purezmq is one pure-Python
implementation, so here the backend classes *are* the public ones (``backend.Socket is
purezmq.Socket``) and the functions are the libzmq ones answered by purezmq: its version, its
capabilities (:func:`has`), CURVE keys (with PyNaCl), error texts, and the proxy functions.
"""

from __future__ import annotations

import errno as _errno
import socket as _socket
from typing import Any

from ..constants import _LIBZMQ_VERSION_INFO, IPC_PATH_MAX_LEN, PYZMQ_DRAFT_API
from ..context import Context
from ..devices.functions import proxy, proxy_steerable
from ..devices.monitoredqueue import monitored_queue  # noqa: F401 - in pyzmq's, not its __all__
from ..error import ZMQError, strerror
from ..frame import Frame, Message
from ..poll import zmq_poll
from ..socket import Socket
from ..utils import z85

#: The name pyzmq's ``zmq.backend`` reports for the backend in use.
backend_name = "purezmq"


class CurveUnavailable(ZMQError, ImportError):
    """CURVE needs PyNaCl (libsodium). pyzmq raises ZMQError(ENOTSUP) when libzmq was built without
    CURVE; this is that ZMQError, and also the ImportError it comes from."""

    def __init__(self) -> None:
        super().__init__(
            _errno.ENOTSUP, "CURVE needs PyNaCl (libsodium): pip install 'purezmq[curve]'"
        )


def _sodium() -> Any:
    try:
        import nacl.bindings
    except ImportError:
        raise CurveUnavailable() from None
    return nacl.bindings


def has(capability: str) -> bool:
    """Whether purezmq has a capability, as libzmq's ``zmq_has``: ``"ipc"`` (where the platform
    has Unix sockets), ``"curve"`` (with PyNaCl installed), ``"draft"`` (the draft socket types
    and their API); ``"pgm"``, ``"tipc"``, ``"norm"``, ``"gssapi"`` are False, as is any name
    zmq_has does not know (``"plain"`` included: libzmq always has PLAIN and never answers True
    for it)."""
    if not isinstance(capability, str):
        raise TypeError(
            "Argument 'capability' has incorrect type "
            f"(expected str, got {type(capability).__name__})"
        )
    if capability == "ipc":
        return hasattr(_socket, "AF_UNIX")
    if capability == "draft":
        return True  # (The draft socket types and their API are built in.)
    if capability == "curve":
        try:
            _sodium()
        except CurveUnavailable:
            return False
        return True
    return False


def curve_keypair() -> tuple[bytes, bytes]:
    """A new CURVE key pair as (public, secret), each 40 Z85 characters.

    Needs PyNaCl: without it, ZMQError(ENOTSUP) (also an ImportError)."""
    public, secret = _sodium().crypto_box_keypair()
    return z85.encode(public), z85.encode(secret)


def curve_public(secret_key: bytes | bytearray | str) -> bytes:
    """The Z85 public key of a Z85 secret key (40 characters; an ASCII str is accepted too).

    A key of another length is a ValueError, one with characters outside Z85 a ZMQError(EINVAL),
    as in pyzmq."""
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("ascii")
    elif not isinstance(secret_key, (bytes, bytearray)):
        len(secret_key)  # "object of type ... has no len()" first, as in pyzmq
        raise TypeError(f"expected bytes, {type(secret_key).__name__} found")
    if len(secret_key) != 40:
        raise ValueError("secret key must be a 40 byte z85 encoded string")
    try:
        raw = z85.decode(bytes(secret_key))
    except ValueError:
        raise ZMQError(_errno.EINVAL) from None
    return z85.encode(_sodium().crypto_scalarmult_base(raw))


def zmq_version_info() -> tuple[int, int, int]:
    """The libzmq version purezmq follows (behaviour and wire protocol), as a tuple."""
    return _LIBZMQ_VERSION_INFO


def zmq_errno() -> int:
    """libzmq's last error number: always 0 in purezmq, whose errors are raised as exceptions
    with their number (``ZMQError.errno``)."""
    return 0


__all__ = [
    "Context",
    "Socket",
    "Frame",
    "Message",
    "proxy",
    "proxy_steerable",
    "zmq_poll",
    "strerror",
    "zmq_errno",
    "has",
    "curve_keypair",
    "curve_public",
    "zmq_version_info",
    "IPC_PATH_MAX_LEN",
    "PYZMQ_DRAFT_API",
]

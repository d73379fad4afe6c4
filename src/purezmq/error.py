"""The exceptions of pyzmq, with libzmq's error numbers and texts."""

from __future__ import annotations

import errno as _errno
import os

from .constants import Errno

_ZMQ_MESSAGES = {
    Errno.EHOSTUNREACH: "Host unreachable",
    Errno.EFSM: "Operation cannot be accomplished in current state",
    Errno.ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
    Errno.ETERM: "Context was terminated",
    Errno.EMTHREAD: "No thread available",
}


_TEXTS: dict[int, str] = {}


def strerror(errno: int) -> str:
    """The text libzmq gives for an error number."""
    text = _TEXTS.get(errno)
    if text is None:  # Looked up once per number: Again is raised often (NOBLOCK, asyncio).
        text = _ZMQ_MESSAGES[Errno(errno)] if errno in _ZMQ_MESSAGES else os.strerror(errno)
        _TEXTS[errno] = text
    return text


class ZMQBaseError(Exception):
    """Base of every purezmq exception."""


class ZMQError(ZMQBaseError):
    """An error with a libzmq error number: ``errno`` and ``strerror`` as in pyzmq."""

    errno: int | None
    strerror: str

    def __init__(self, errno: int | None = None, msg: str | None = None) -> None:
        if errno is None:
            errno = _errno.EINVAL if msg is None else None
        self.errno = errno
        if msg is None:
            msg = strerror(errno) if errno is not None else "Unknown error"
        self.strerror = msg
        super().__init__(msg)

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ZMQBindError(ZMQBaseError):
    """bind_to_random_port found no free port."""


class NotDone(ZMQBaseError):
    """A MessageTracker wait timed out."""


class ZMQVersionError(NotImplementedError):
    """A feature needs a newer libzmq (kept for pyzmq compatibility)."""

    def __init__(self, min_version: str, msg: str = "Feature") -> None:
        self.min_version = min_version
        self.msg = msg
        super().__init__(f"{msg} requires libzmq >= {min_version}")


class Again(ZMQError):
    """EAGAIN: the operation would block (NOBLOCK, or a timeout ran out)."""

    def __init__(self, errno: int | None = _errno.EAGAIN, msg: str | None = None) -> None:
        super().__init__(errno, msg)


class ContextTerminated(ZMQError):
    """ETERM: the Context was terminated."""

    def __init__(self, errno: int | None = Errno.ETERM, msg: str | None = None) -> None:
        super().__init__(errno, msg)


class InterruptedSystemCall(ZMQError):
    """EINTR."""

    def __init__(self, errno: int | None = _errno.EINTR, msg: str | None = None) -> None:
        super().__init__(errno, msg)


class OptionTypeError(ZMQError, TypeError):
    """An option value of the wrong type: EINVAL as libzmq says, a TypeError as pyzmq raises."""

    def __init__(self, msg: str) -> None:
        super().__init__(_errno.EINVAL, msg)


_BY_ERRNO: dict[int, type[ZMQError]] = {
    _errno.EAGAIN: Again,
    Errno.ETERM: ContextTerminated,
    _errno.EINTR: InterruptedSystemCall,
}


def zmq_error(errno: int, msg: str | None = None) -> ZMQError:
    """The exception pyzmq raises for an error number."""
    cls = _BY_ERRNO.get(errno, ZMQError)
    if cls is ZMQError:
        return ZMQError(errno, msg)
    return cls(errno, msg)

"""The exceptions of pyzmq, with libzmq's error numbers and texts."""

from __future__ import annotations

import errno as _errno
import os

from .constants import _LIBZMQ_VERSION_INFO, Errno

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
    """An error with a libzmq error number: ``errno`` and ``strerror`` as in pyzmq.

    ``ZMQError()`` (or ``errno=None``) takes the number from ``zmq_errno()``, which is 0 in
    purezmq; a ``str`` (or anything else not an ``int``) in place of the number is the message.
    ``args`` are the arguments as given, so that the exception pickles back to itself."""

    errno: int | None = None
    strerror: str

    def __init__(self, errno: int | None = None, msg: str | None = None) -> None:
        if errno is None:
            errno = 0  # zmq_errno(): purezmq has no error number pending.
        if isinstance(errno, int):
            self.errno = errno
            self.strerror = msg if msg is not None else strerror(errno)
        else:
            self.errno = None
            self.strerror = msg if msg is not None else str(errno)

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ZMQBindError(ZMQBaseError):
    """bind_to_random_port found no free port."""


class NotDone(ZMQBaseError):
    """A MessageTracker wait timed out."""


class ZMQVersionError(NotImplementedError):
    """A feature needs a newer libzmq than the one purezmq follows (4.3.5)."""

    def __init__(self, min_version: str, msg: str = "Feature") -> None:
        self.min_version = min_version
        self.msg = msg
        self.version = ".".join(map(str, _LIBZMQ_VERSION_INFO))

    def __str__(self) -> str:
        return f"{self.msg} requires libzmq >= {self.min_version}, have {self.version}"

    def __repr__(self) -> str:
        return f"ZMQVersionError({str(self)!r})"


class DraftFDWarning(RuntimeWarning):
    """Warning for using experimental FD on draft sockets (pyzmq 27; purezmq has no draft
    sockets, so it never issues it: the class is here for code that filters it)."""

    def __init__(self, msg: str = "") -> None:
        if not msg:
            msg = (
                "socket.FD support on thread-safe sockets is experimental, and may be removed. "
                "You can suppress this warning with "
                "`warnings.simplefilter('ignore', zmq.error.DraftFDWarning)`"
            )
        super().__init__(msg)


class Again(ZMQError):
    """EAGAIN: the operation would block (NOBLOCK, or a timeout ran out). Its arguments are
    ignored, as in pyzmq: the number is always EAGAIN."""

    def __init__(self, errno: int | str = "ignored", msg: str = "ignored") -> None:
        super().__init__(_errno.EAGAIN)


class ContextTerminated(ZMQError):
    """ETERM: the Context was terminated. Its arguments are ignored, as in pyzmq."""

    def __init__(self, errno: int | str = "ignored", msg: str = "ignored") -> None:
        super().__init__(Errno.ETERM)


class InterruptedSystemCall(ZMQError, InterruptedError):  # type: ignore[misc]  # strerror: str
    """EINTR (also an InterruptedError). Its arguments are ignored, as in pyzmq."""

    def __init__(self, errno: int | str = "ignored", msg: str = "ignored") -> None:
        super().__init__(_errno.EINTR)

    def __str__(self) -> str:
        return (
            f"{self.strerror}: This call should have been retried. Please report this to purezmq."
        )


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


def _check_version(
    min_version_info: tuple[int] | tuple[int, int] | tuple[int, int, int], msg: str = "Feature"
) -> None:
    """Raise ZMQVersionError if the libzmq version purezmq follows is older than
    ``min_version_info`` (a tuple of ints compared with ``zmq_version_info()``)."""
    if _LIBZMQ_VERSION_INFO < min_version_info:
        raise ZMQVersionError(".".join(str(part) for part in min_version_info), msg)


def _check_rc(rc: int, errno: int | None = None, error_without_errno: bool = True) -> None:
    """Raise the exception for a failed libzmq return code (``rc == -1``), as pyzmq's internal
    helper does. purezmq has no return codes of its own; kept for code written against pyzmq."""
    if rc == -1:
        if errno is None:
            errno = 0  # zmq_errno()
        if errno == 0 and not error_without_errno:
            return
        raise zmq_error(errno)


__all__ = [
    "DraftFDWarning",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "NotDone",
    "ContextTerminated",
    "InterruptedSystemCall",
    "Again",
    "ZMQVersionError",
]

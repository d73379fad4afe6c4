"""Frame and MessageTracker, as pyzmq offers them for zero-copy sends and receives.

A Frame is one message part: ``bytes``, ``buffer``, ``len()``, the buffer protocol
(``memoryview(frame)``, ``numpy.frombuffer(frame)``), ``more``, and ``get()`` of ``zmq.MORE`` or
of the connection's metadata (``frame["User-Id"]``).

The buffer protocol: on Python 3.12 and later a Frame exports the buffer it wraps (PEP 688), with
no copy. Before 3.12 a class written in Python can export a buffer only by deriving from a type
that has one, so there a Frame is a ``bytes`` subclass holding a copy of its content (one
``memcpy`` per ``Frame()`` and per ``recv(copy=False)``). It still compares and hashes by
identity, as pyzmq's does; the ``bytes`` methods it inherits there are not pyzmq's API.

Trackers: purezmq never lets the connection read a buffer the application can still change. A
``bytes`` body is immutable and queued as it is; any other buffer is copied into ``bytes`` before
``send`` returns. So the buffer handed to ``send(..., copy=False, track=True)`` is free again as
soon as ``send`` returns, and its tracker is done at once (pyzmq's is done when libzmq releases
the message, which for a large message is once it was written to the connection).
"""

from __future__ import annotations

import builtins
import errno
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .error import NotDone, ZMQError

_MORE = 1  # zmq.MORE
_SHARED = 3  # zmq.SHARED

#: What a frame that was not received has as metadata (shared, never changed).
_NO_METADATA: Mapping[str, bytes] = {}

#: Python exports buffers of Python classes (PEP 688) from 3.12 on.
BUFFER_PROTOCOL = sys.version_info >= (3, 12)


def _wait_event(event: Any, timeout: float | None) -> bool:
    return bool(event.wait(timeout))


class MessageTracker:
    """Tells when the buffers of sent messages are no longer used (see the module's help: for
    purezmq, at once). ``MessageTracker(*towatch)`` watches Events (anything with ``is_set`` and
    ``wait``), tracked Frames and other MessageTrackers, as pyzmq's."""

    def __init__(self, *towatch: Any) -> None:
        self.events: set[Any] = set()
        self.peers: set[MessageTracker] = set()
        for obj in towatch:
            if isinstance(obj, MessageTracker):
                self.peers.add(obj)
            elif isinstance(obj, Frame):
                if obj.tracker is None:
                    raise ValueError("Not a tracked message")
                self.peers.add(obj.tracker)
            elif callable(getattr(obj, "is_set", None)) and callable(getattr(obj, "wait", None)):
                self.events.add(obj)
            else:
                raise TypeError(f"Require Events or Message Frames, not {type(obj)}")

    @property
    def done(self) -> bool:
        """Whether every watched message was released (for purezmq's own: always)."""
        return all(event.is_set() for event in self.events) and all(
            peer.done for peer in self.peers
        )

    def wait(self, timeout: float | int = -1) -> None:
        """Wait until ``done``, at most ``timeout`` seconds (-1: forever); NotDone if not."""
        if timeout is None or timeout < 0:
            deadline = None
        else:
            deadline = time.monotonic() + timeout
        for event in self.events:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not _wait_event(event, remaining):
                raise NotDone()
        for peer in self.peers:
            remaining = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            peer.wait(remaining)
        if not self.done:
            raise NotDone()


#: A tracker that is done: what send(copy=False, track=True) returns (see the module's help).
FINISHED_TRACKER = MessageTracker()


def _snapshot(data: Any) -> builtins.bytes:
    """``data``'s content as bytes (no copy for bytes)."""
    if type(data) is builtins.bytes:
        return data
    if isinstance(data, Frame):
        return data.bytes
    return builtins.bytes(_view(data))


def _view(data: Any) -> memoryview:
    """A memoryview of ``data``, with pyzmq's errors for what is not a contiguous buffer."""
    if isinstance(data, str):
        raise TypeError("Str objects not allowed. Only: bytes, buffer interfaces.")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not {type(data).__name__!r}") from None
    if not view.contiguous:
        raise BufferError("memoryview: underlying buffer is not contiguous")
    return view


if TYPE_CHECKING or BUFFER_PROTOCOL:
    _FrameBase: type = object
else:
    _FrameBase = builtins.bytes


class Frame(_FrameBase):
    """A message part (zmq.Frame, also zmq.Message).

    ``Frame(data=None, track=False, copy=None, copy_threshold=None)``: ``data`` is any object with
    the buffer interface (bytes, bytearray, memoryview, array.array, numpy arrays...) or another
    Frame; None is an empty frame. With ``copy=False`` (and Python 3.12+) the frame wraps ``data``
    without copying it: a change to a mutable buffer shows in the frame until ``bytes`` is first
    read (it is then kept). ``track=True`` gives the frame a ``tracker`` (see MessageTracker).
    """

    #: The routing id of a CLIENT/SERVER message, the group of a RADIO/DISH one (draft sockets).
    routing_id: int | None = None
    group: str | None = None
    #: Whether more parts follow (set on received parts; an attribute the application may set).
    more = False
    #: The frame's MessageTracker, when made with ``track=True``.
    tracker: MessageTracker | None = None
    #: The MORE flag of a received part (what get(zmq.MORE) reads; ``more`` is the attribute).
    _msg_more = False
    #: The connection's metadata, for a received frame (what get() of a name reads).
    _metadata: Mapping[str, builtins.bytes] = _NO_METADATA
    _data: Any  # The buffer: bytes, or on 3.12+ with copy=False any contiguous buffer.
    _bytes: builtins.bytes | None  # ``bytes``, once made.

    if not BUFFER_PROTOCOL:

        def __new__(
            cls, data: Any = None, track: bool = False, copy: bool | None = None, **kwargs: Any
        ) -> Frame:
            content = b"" if data is None else _snapshot(data)
            frame = builtins.bytes.__new__(cls, content)
            frame._data = frame._bytes = content
            return frame

    def __init__(
        self,
        data: Any = None,
        track: bool = False,
        copy: bool | None = None,
        copy_threshold: int | None = None,
        **kwargs: Any,
    ) -> None:
        if BUFFER_PROTOCOL:  # (Before 3.12, __new__ took the content.)
            if data is None:
                content: Any = b""
            elif type(data) is builtins.bytes:
                content = data
            elif isinstance(data, Frame):
                content = data._bytes if data._bytes is not None else data._data
            elif copy is False:
                content = _view(data)  # Shared: pyzmq's zero-copy Frame.
            else:
                content = _snapshot(data)
            self._data = content
            self._bytes = content if type(content) is builtins.bytes else None
        if track:
            self.tracker = MessageTracker()

    @classmethod
    def _received(cls, data: builtins.bytes, more: bool, metadata: Any) -> Frame:
        """A frame for a received part (recv(copy=False)): no check, no copy on 3.12+."""
        frame = cls(data)
        if more:
            frame.more = frame._msg_more = True
        if metadata is not None:
            frame._metadata = metadata
        return frame

    @property
    def bytes(self) -> builtins.bytes:
        """The content as ``bytes`` (made on first use for a frame over a mutable buffer)."""
        content = self._bytes
        if content is None:
            content = self._bytes = builtins.bytes(self._data)
        return content

    @property
    def buffer(self) -> memoryview:
        """A memoryview of the content (read-only: purezmq's received parts are ``bytes``)."""
        return memoryview(self._data)

    @property
    def tracker_event(self) -> Any:
        """pyzmq's Event behind ``tracker``: purezmq's trackers need none (None)."""
        return None

    def __len__(self) -> int:
        return len(self._data)

    def __bytes__(self) -> builtins.bytes:
        return self.bytes

    def __buffer__(self, flags: int) -> memoryview:
        return memoryview(self._data)

    def __release_buffer__(self, view: memoryview) -> None:
        pass

    # pyzmq's Frame compares and hashes as an object, not by content (its content may change).
    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__ = object.__hash__

    def __getitem__(self, key: Any) -> Any:
        """``frame["User-Id"]``: a metadata property, as get()."""
        return self.get(key)

    __iter__ = None  # (Not a sequence of its bytes, as pyzmq's.)

    def __str__(self) -> str:
        return self.__repr__()

    def __repr__(self) -> str:
        size = len(self)
        if size <= 16:
            return f"<purezmq.Frame({self.bytes!r})>"
        head = builtins.bytes(memoryview(self._data)[:12])
        return f"<purezmq.Frame({head!r}...{_size_text(size)})>"

    def __copy__(self) -> Frame:
        """A new frame over the same content (pyzmq's shares the zmq_msg_t)."""
        return self.fast_copy()

    def fast_copy(self) -> Frame:
        frame = Frame(self)
        frame.more = self.more
        frame._msg_more = self._msg_more
        frame._metadata = self._metadata
        return frame

    def __reduce__(self) -> Any:
        return (Frame, (self.bytes,))

    def get(self, option: int | str) -> Any:
        """``zmq.MORE`` (1 for a received part followed by others; ``more`` is a separate
        attribute) or ``zmq.SHARED`` (always 0) as an int; a metadata property by name
        (``"Socket-Type"``, ``"Identity"``, ``"Peer-Address"``, ``"User-Id"`` with ZAP, the peer's
        ``X-`` properties) as a str, for a received frame. Names are case-sensitive, as
        libzmq's; a name the connection did not give is EINVAL.

        TODO(engine): the properties come from the connection the frame arrived on
        (``Peer.metadata``, filled by the session from the handshake, the tcp/ipc peer address
        and the ZAP reply). libzmq has none for inproc; purezmq's inproc links give
        Socket-Type and Identity (transport/inproc.py). "Routing-Id" is EINVAL as in libzmq
        4.3.5 (only the draft CLIENT/SERVER messages have one)."""
        if isinstance(option, str):
            value = self._metadata.get(option)
            if value is None:
                raise ZMQError(errno.EINVAL)
            return value.decode("utf-8", "replace")
        if not isinstance(option, int):
            raise TypeError(f"expected str, got: {option!r}")
        if option == _MORE:
            return int(self._msg_more)
        if option == _SHARED:
            return 0
        raise ZMQError(errno.EINVAL)

    def set(self, option: int, value: Any) -> None:
        """libzmq's zmq_msg_set takes no option (EINVAL), as pyzmq's Frame.set."""
        if not isinstance(option, int):
            raise TypeError(f"an integer is required, not {type(option).__name__}")
        raise ZMQError(errno.EINVAL)


def _size_text(size: int) -> str:
    """A frame's size as pyzmq's repr gives it (its thresholds: 1000, 2**20 and 10**9)."""
    if size >= 10**9:
        return f"{size // 10**9}GB"
    if size >= 2**20:
        return f"{size // 10**6}MB"
    if size >= 1000:
        return f"{size // 1000}kB"
    return f"{size}B"


Message = Frame

"""Frame and MessageTracker, as pyzmq offers them for zero-copy sends and receives."""

from __future__ import annotations

import builtins
import errno
import time
from typing import Any

from .error import NotDone, ZMQError
from .protocol.commands import get_property


class MessageTracker:
    """Tells when a message's buffers are no longer used. purezmq copies what it sends into
    immutable bytes before queueing, so a tracker is done as soon as the send returns."""

    def __init__(self, *towatch: Any) -> None:
        self.events: set[Any] = set()
        self.peers: set[Any] = set()

    @property
    def done(self) -> bool:
        return True

    def wait(self, timeout: float | int = -1) -> None:
        if not self.done:
            if timeout is not None and timeout >= 0:
                time.sleep(timeout)
            raise NotDone()


class Frame:
    """One message part: ``bytes``, ``buffer``, ``more``, and the connection metadata via get()."""

    def __init__(
        self,
        data: Any = b"",
        track: bool = False,
        copy: bool | None = None,
        copy_threshold: int | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(data, str):
            raise TypeError("Str objects not allowed. Only: bytes, buffer interfaces.")
        if isinstance(data, Frame):
            data = data.bytes
        self._bytes = data if isinstance(data, bytes) else bytes(memoryview(data))
        self.more = False
        self.tracker: MessageTracker | None = MessageTracker() if track else None
        self._metadata: dict[str, bytes] = {}
        self.routing_id: int | None = None
        self.group: str | None = None

    @property
    def bytes(self) -> builtins.bytes:
        return self._bytes

    @property
    def buffer(self) -> memoryview:
        return memoryview(self._bytes)

    @property
    def tracker_done(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._bytes)

    def __bytes__(self) -> builtins.bytes:
        return self._bytes

    def __buffer__(self, flags: int) -> memoryview:
        return memoryview(self._bytes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frame):
            return self._bytes == other._bytes
        if isinstance(other, (bytes, bytearray, memoryview)):
            return self._bytes == bytes(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __repr__(self) -> str:
        return f"<purezmq.Frame({self._bytes[:32]!r}{'...' if len(self._bytes) > 32 else ''})>"

    def __copy__(self) -> Frame:
        return self.fast_copy()

    def fast_copy(self) -> Frame:
        frame = Frame(self._bytes)
        frame._metadata = self._metadata
        return frame

    def get(self, option: int | str) -> Any:
        """MORE for an int option; a metadata property (Socket-Type, Identity...) for a str."""
        if isinstance(option, str):
            value = get_property(self._metadata, option)
            if value is None:
                raise ZMQError(errno.EINVAL)
            return value.decode("utf-8", "replace")
        if option == 1:  # MORE
            return int(self.more)
        raise ZMQError(errno.EINVAL)

    def set(self, option: int, value: Any) -> None:
        raise ZMQError(errno.EINVAL)


Message = Frame

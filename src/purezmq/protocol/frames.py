"""ZMTP frames: a flags octet, a 1- or 8-octet size, then the body."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Union

from .errors import ProtocolError

MORE = 0x01
LONG = 0x02
COMMAND = 0x04
_KNOWN_FLAGS = MORE | LONG | COMMAND

#: A message as the decoder hands it on: the body of its one frame, or the bodies of its frames
#: (two or more). A message of one frame gets no list of its own: at a million messages a
#: second, making that list (and the garbage collector's rounds it causes) costs ~15% of a
#: receiver's CPU.
Received = Union[bytes, list[bytes]]  # noqa: UP007
#: A message to send, in the same two shapes.
Outgoing = Received
#: What the decoder hands on: messages, and command frames as ``(flags, body)``.
Decoded = Union[bytes, list[bytes], tuple[int, bytes]]  # noqa: UP007

_LONG_SIZE = struct.Struct(">Q")
#: Above this frame size the decoder slices a completed frame out of its buffer instead of
#: copying the whole buffer to parse it.
_WHOLE_COPY_LIMIT = 64 * 1024
#: The largest body buffer a decoder keeps between large frames.
_SPARE_LIMIT = 1024 * 1024
_SHORT_HEADERS = [bytes((flags, size)) for flags in range(8) for size in range(256)]
#: The headers of short last frames (no flags): indexed by size, 0 to 255 only.
_PLAIN_HEADERS = _SHORT_HEADERS[:256]
#: The headers of short frames with MORE set, likewise.
_MORE_HEADERS = _SHORT_HEADERS[256:512]


def frame_header(flags: int, size: int) -> bytes:
    """The header for a frame of ``size`` bytes: short form up to 255 bytes, long form above."""
    if size < 256:
        return _SHORT_HEADERS[(flags << 8) | size]
    return bytes((flags | LONG,)) + _LONG_SIZE.pack(size)


def encode_message(frames: list[bytes], chunks: list[bytes], single: bool = False) -> None:
    """Append the wire form of a multipart message to ``chunks``.

    Small frames are joined into one chunk; a large body is appended as it is, so a writer with
    scatter/gather I/O never copies it.
    """
    last = len(frames) - 1
    pending = bytearray()
    for index, body in enumerate(frames):
        size = len(body)
        # With ``single`` each frame is a message of its own (CURVE carries MORE inside the box).
        flags = MORE if index < last and not single else 0
        if size < 256:
            pending += _SHORT_HEADERS[(flags << 8) | size]
            pending += body
        elif size < 8192:
            pending += bytes((flags | LONG,)) + _LONG_SIZE.pack(size)
            pending += body
        else:
            pending += bytes((flags | LONG,)) + _LONG_SIZE.pack(size)
            chunks.append(bytes(pending))
            pending = bytearray()
            chunks.append(body)
    if pending:
        chunks.append(bytes(pending))


def encode_messages(messages: list[Outgoing], chunks: list[bytes]) -> None:
    """Append the wire form of many messages to ``chunks`` as few chunks as possible: the
    headers and small bodies joined, large bodies (8 KiB and up) passed on uncopied."""
    first = messages[0] if messages else None
    shape = 0 if first is None else 1 if type(first) is bytes else len(first)
    # (Untyped for the fast paths: they take the shape of the first message for granted and
    # let a message of another shape fail with an exception, caught to fall back below.)
    batch: Any = messages
    if shape == 1:
        try:
            # The usual batch, one short frame per message, in one comprehension (~1.5x
            # faster). A message that is a list (TypeError: bytes + list) or a long frame
            # (IndexError) ends it early: then the loop below does the whole batch. (The first
            # message is looked at first: exceptions are dear, multipart traffic would pay one
            # a batch.)
            if type(first) is bytes:
                joined = [_PLAIN_HEADERS[len(body)] + body for body in batch]
            else:
                joined = [_PLAIN_HEADERS[len(body)] + body for (body,) in batch]
            chunks.append(b"".join(joined))
            return
        except (TypeError, ValueError, IndexError):
            pass
    elif shape == 2:
        try:
            # Likewise two short frames, an envelope and a body (REQ, REP, DEALER to ROUTER).
            more, plain = _MORE_HEADERS, _PLAIN_HEADERS
            chunks.append(
                b"".join([more[len(head)] + head + plain[len(body)] + body for head, body in batch])
            )
            return
        except (TypeError, ValueError, IndexError):
            pass
    parts: list[bytes] = []
    add = parts.append
    short = _SHORT_HEADERS
    for message in messages:
        frames = (message,) if isinstance(message, bytes) else message
        last = len(frames) - 1
        for index, body in enumerate(frames):
            size = len(body)
            flags = MORE if index < last else 0
            if size < 256:
                add(short[(flags << 8) | size])
                add(body)
            else:
                add(bytes((flags | LONG,)) + _LONG_SIZE.pack(size))
                if size < 8192:
                    add(body)
                else:
                    chunks.append(b"".join(parts))
                    parts.clear()
                    chunks.append(body)
    if parts:
        chunks.append(b"".join(parts))


def encode_command(name: bytes, data: bytes = b"") -> bytes:
    body = bytes((len(name),)) + name + data
    return frame_header(COMMAND, len(body)) + body


class FrameDecoder:
    """Turns a byte stream into (flags, body) frames, checking sizes before buffering bodies."""

    def __init__(self, max_frame_size: int = -1) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._need = 0
        # A large frame's body being read straight into a buffer of its own (see body_buffer),
        # and that buffer, kept for the next large frames (up to _SPARE_LIMIT: one per connection).
        self._large: memoryview | None = None
        self._spare = bytearray()
        self._large_flags = 0
        self._large_filled = 0
        #: True when body_buffer() may have a buffer to offer (inside a frame of more than
        #: 64 KiB): a reader asks for it only then, saving a call per read otherwise.
        self.large_pending = False

    def body_buffer(self) -> memoryview | None:
        """Where the rest of a large frame's body may be read directly (``recv_into``), or None.

        Inside a frame of 64 KiB or more, the reader can skip the stream buffer: the body is
        read into a buffer of its own, then copied once into the frame's bytes (instead of
        three times: out of the read buffer, into the stream buffer, out of it). Call
        ``body_filled`` with the count read.
        """
        if self._large is None:
            buffer = self._buffer
            need = self._need
            if need <= _WHOLE_COPY_LIMIT or len(buffer) >= need or len(buffer) < 9:
                return None
            # _need counts a whole frame only once its header is in, and the size was checked.
            size = need - 9
            spare = self._spare
            if len(spare) >= size:
                self._large = memoryview(spare)[:size]
            else:
                # Fresh memory costs page faults on first touch: keep it for the next frames.
                large = bytearray(size)
                if size <= _SPARE_LIMIT:
                    self._spare = large
                self._large = memoryview(large)
            self._large_filled = len(buffer) - 9
            self._large[: self._large_filled] = memoryview(buffer)[9:]
            self._large_flags = buffer[0]
            buffer.clear()
            self._need = 0
        return self._large[self._large_filled :]

    def body_filled(self, count: int) -> tuple[int, bytes] | None:
        """``count`` more bytes were read into ``body_buffer()``: the frame, once complete."""
        large = self._large
        assert large is not None
        self._large_filled += count
        if self._large_filled < len(large):
            return None
        body = large.tobytes()
        large.release()
        self._large = None
        self.large_pending = False
        self._check(self._large_flags, len(body))  # (Its size was checked with its header.)
        return self._large_flags, body

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed_messages(
        self, data: bytes, partial: list[bytes]
    ) -> tuple[list[Decoded], list[bytes], bool]:
        """The traffic-phase fast path: whole messages straight from the bytes (``Received``:
        a one-frame message as its body, a longer one as the list of its bodies).

        ``partial`` holds the frames of a message whose last frame has not arrived yet; the
        updated one is returned. Command frames come back in order as ``(flags, body)`` tuples,
        and the third value says whether there were any.
        """
        if type(data) is not bytes:
            data = bytes(data)
        if self._large is not None:
            raise RuntimeError("fed bytes while a large frame's body is read directly")
        events: list[Decoded] = []
        buffer = self._buffer
        if not buffer:
            partial, commands = self._parse(data, 0, events, partial)
            return events, partial, commands
        need = self._need or self._frame_end(bytes(buffer) + data[:9])
        if not need or len(buffer) + len(data) < need or need > _WHOLE_COPY_LIMIT:
            buffer += data
            if len(buffer) < self._need:
                return events, partial, False  # Still inside one large frame: nothing to parse.
            if self._need > _WHOLE_COPY_LIMIT:
                # A large frame is complete: cut it out of the buffer rather than copy it all.
                found = self._messages(self.feed(b""), partial)
                self._need = self._frame_end(buffer)
                self.large_pending = self._need > _WHOLE_COPY_LIMIT
                return found
            source = bytes(buffer)
            buffer.clear()
            partial, commands = self._parse(source, 0, events, partial)
            return events, partial, commands
        # The frame begun in the last read ends in this one: complete it on its own, then parse
        # this read where it starts (joining the whole read to the buffer would copy it twice).
        take = need - len(buffer)
        buffer += memoryview(data)[:take]
        head = bytes(buffer)
        buffer.clear()
        self._need = 0
        partial, commands = self._parse(head, 0, events, partial)
        partial, more_commands = self._parse(data, take, events, partial)
        return events, partial, commands or more_commands

    def _parse(
        self,
        source: bytes,
        pos: int,
        events: list[Decoded],
        partial: list[bytes],
    ) -> tuple[list[bytes], bool]:
        """Cut the frames of ``source`` from ``pos`` into ``events`` (see feed_messages); an
        incomplete frame at the end goes to the buffer. Returns the partial message and
        whether there were commands."""
        add = events.append
        commands = False
        end = len(source)
        limit = self.max_frame_size if self.max_frame_size >= 0 else 0x7FFF_FFFF_FFFF
        unpack = _LONG_SIZE.unpack_from
        # Flags below this mark a short data frame, the common case, handled in a tight branch
        # (none when MAXMSGSIZE is under 255: then every frame's size is checked).
        short = LONG if limit >= 255 else 0
        last = end - 1
        while pos < last:
            flags = source[pos]
            if flags < short:
                stop = pos + 2 + source[pos + 1]
                if stop > end:
                    break
                if flags:
                    partial.append(source[pos + 2 : stop])
                elif partial:
                    partial.append(source[pos + 2 : stop])
                    add(partial)
                    partial = []
                else:
                    add(source[pos + 2 : stop])
                pos = stop
                continue
            if flags > _KNOWN_FLAGS:
                raise ProtocolError(f"invalid frame flags {flags:#04x}")
            if flags & LONG:
                if end - pos < 9:
                    break
                (size,) = unpack(source, pos + 1)
                start = pos + 9
            else:
                size = source[pos + 1]
                start = pos + 2
            if end - start < size:
                if size > limit:
                    self._check(flags, size)
                break
            self._check(flags, size)
            pos = start + size
            partial = self.group(flags, source[start:pos], partial, add)
            commands = commands or bool(flags & COMMAND)
        if pos < end:
            buffer = self._buffer
            buffer += memoryview(source)[pos:]
            self._need = self._frame_end(buffer)
            self.large_pending = self._need > _WHOLE_COPY_LIMIT
        else:
            self.large_pending = False
        return partial, commands

    @staticmethod
    def _messages(
        frames: list[tuple[int, bytes]], partial: list[bytes]
    ) -> tuple[list[Decoded], list[bytes], bool]:
        """``feed``'s frames grouped as ``feed_messages`` returns them."""
        events: list[Decoded] = []
        for flags, body in frames:
            partial = FrameDecoder.group(flags, body, partial, events.append)
        return events, partial, any(flags & COMMAND for flags, _ in frames)

    @staticmethod
    def group(
        flags: int, body: bytes, partial: list[bytes], add: Callable[[Any], None]
    ) -> list[bytes]:
        """File one frame: a command as ``(flags, body)``; a data frame into ``partial``, which
        is handed on as a message at its last frame (a message of one frame as its body alone).
        Returns the message still incomplete."""
        if flags & COMMAND:
            add((flags, body))
        elif flags & MORE:
            partial.append(body)
        elif partial:
            partial.append(body)
            add(partial)
            partial = []
        else:
            add(body)
        return partial

    @staticmethod
    def _frame_end(buffer: bytes | bytearray) -> int:
        """How many bytes the buffer needs to hold its first frame whole (a guess when even the
        header is incomplete, so that the next feed parses)."""
        if len(buffer) >= 9 and buffer[0] & LONG:
            return 9 + _LONG_SIZE.unpack_from(buffer, 1)[0]
        if len(buffer) >= 2 and not buffer[0] & LONG:
            return 2 + buffer[1]
        return 0

    def _check(self, flags: int, size: int) -> None:
        if flags & ~_KNOWN_FLAGS:
            raise ProtocolError(f"invalid frame flags {flags:#04x}")
        if flags & COMMAND and flags & MORE:
            raise ProtocolError("a command frame cannot have the MORE flag")
        if self.max_frame_size >= 0 and size > self.max_frame_size and not flags & COMMAND:
            raise ProtocolError(f"frame of {size} bytes exceeds MAXMSGSIZE ({self.max_frame_size})")
        if size > 0x7FFF_FFFF_FFFF:
            raise ProtocolError(f"absurd frame size {size}")

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer
        buffer += data
        frames: list[tuple[int, bytes]] = []
        pos = 0
        end = len(buffer)
        limit = self.max_frame_size
        view = memoryview(buffer)
        try:
            while end - pos >= 2:
                flags = buffer[pos]
                if flags & ~_KNOWN_FLAGS:
                    raise ProtocolError(f"invalid frame flags {flags:#04x}")
                if flags & LONG:
                    if end - pos < 9:
                        break
                    (size,) = _LONG_SIZE.unpack_from(buffer, pos + 1)
                    start = pos + 9
                else:
                    size = buffer[pos + 1]
                    start = pos + 2
                if flags & COMMAND and flags & MORE:
                    raise ProtocolError("a command frame cannot have the MORE flag")
                if limit >= 0 and size > limit and not flags & COMMAND:
                    raise ProtocolError(f"frame of {size} bytes exceeds MAXMSGSIZE ({limit})")
                if size > 0x7FFF_FFFF_FFFF:
                    raise ProtocolError(f"absurd frame size {size}")
                if end - start < size:
                    break
                frames.append((flags, view[start : start + size].tobytes()))
                pos = start + size
        finally:
            view.release()
        if pos:
            del buffer[:pos]
        self._need = 0
        return frames

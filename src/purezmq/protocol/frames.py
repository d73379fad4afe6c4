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
#: The most body buffer a decoder keeps between large frames (its chunks, see body_buffer).
_SPARE_LIMIT = 1024 * 1024
#: A large frame's body is read into chunks: the first of this size (or the frame's, if smaller),
#: each next one as large as all the body received before it. What a header claims is never
#: allocated before its bytes arrive: a peer that announces a terabyte and sends nothing more
#: costs this much, and at any time a large frame holds at most twice what was received plus
#: this.
_FIRST_CHUNK = 256 * 1024
#: A frame claiming more than this (128 TiB) is refused on its header whatever MAXMSGSIZE says.
_ABSURD_SIZE = 0x7FFF_FFFF_FFFF
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


class SharedBatch:
    """Messages bound for many plain connections (a PUB's fan-out): encoded once, by the first
    connection that takes them in their wire form, and the same chunks written to all."""

    __slots__ = ("messages", "_chunks")

    def __init__(self, messages: list[Outgoing]) -> None:
        self.messages = messages
        self._chunks: list[bytes] | None = None

    def chunks(self) -> list[bytes]:
        if self._chunks is None:
            self._chunks = []
            encode_messages(self.messages, self._chunks)
        return self._chunks


def encode_command(name: bytes, data: bytes = b"") -> bytes:
    body = bytes((len(name),)) + name + data
    return frame_header(COMMAND, len(body)) + body


class FrameDecoder:
    """Turns a byte stream into (flags, body) frames, checking sizes before buffering bodies.

    ``max_frame_size`` (MAXMSGSIZE, -1 for none) bounds every frame, commands included, as
    libzmq's decoder does; the handshake reads its frames one at a time with a bound of its own
    (``next_frame``). Nothing is allocated on a header's word: the stream buffer grows with the
    bytes fed, a large frame's body buffer with the bytes read into it (``body_buffer``).

    A ProtocolError raised by ``feed_messages`` carries what that call decoded before the bad
    bytes as its ``decoded`` attribute (a list, as ``feed_messages`` returns them).
    """

    def __init__(self, max_frame_size: int = -1) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._need = 0
        # A large frame's body being read straight into buffers of its own (see body_buffer):
        # the chunks so far (the last one being filled), how much of it the last one holds,
        # and the frame's flags, size and bytes received. ``_spares``: chunks kept for the next
        # large frames (up to _SPARE_LIMIT in all: fresh memory costs page faults on first
        # touch).
        self._chunks: list[memoryview] = []
        self._chunk_filled = 0
        self._spares: list[bytearray] = []
        self._large_flags = 0
        self._large_size = 0
        self._large_filled = 0
        #: True when body_buffer() may have a buffer to offer (inside a frame of more than
        #: 64 KiB): a reader asks for it only then, saving a call per read otherwise.
        self.large_pending = False

    def body_buffer(self) -> memoryview | None:
        """Where the next bytes of a large frame's body may be read directly (``recv_into``),
        or None.

        Inside a frame of 64 KiB or more, the reader can skip the stream buffer: the body is
        read into buffers of its own, then copied once into the frame's bytes (instead of
        three times: out of the read buffer, into the stream buffer, out of it). Call
        ``body_filled`` with the count read. The buffer offered may be shorter than the rest
        of the body: the body's buffers are allocated as its bytes arrive (see _FIRST_CHUNK).
        """
        chunks = self._chunks
        if not chunks:
            buffer = self._buffer
            need = self._need
            if need <= _WHOLE_COPY_LIMIT or len(buffer) >= need or len(buffer) < 9:
                return None
            # _need counts a whole frame only once its header is in, and the size was checked.
            self._large_size = need - 9
            self._large_flags = buffer[0]
            self._large_filled = 0
            with memoryview(buffer) as view:
                begun = view[9:]
                chunk = self._new_chunk(len(begun))
                chunk[: len(begun)] = begun
                begun.release()
            self._chunk_filled = self._large_filled = len(buffer) - 9
            buffer.clear()
            self._need = 0
        else:
            chunk = chunks[-1]
        if self._chunk_filled == len(chunk):
            chunk = self._new_chunk(0)  # (Never empty: the body is not complete.)
        return chunk[self._chunk_filled :]

    def _new_chunk(self, least: int) -> memoryview:
        """The next chunk of the large frame's body (at least ``least`` bytes, for what came
        with its header): a spare one if there is one large enough, else fresh memory."""
        received = self._large_filled
        size = min(self._large_size - received, max(_FIRST_CHUNK, received, least))
        index = len(self._chunks)
        spares = self._spares
        spare = spares[index] if index < len(spares) else None
        if spare is not None and len(spare) >= size:
            chunk = memoryview(spare)[:size]
        else:
            fresh = bytearray(size)
            kept = sum(map(len, spares[:index]))
            if index <= len(spares) and kept + size <= _SPARE_LIMIT:
                del spares[index:]
                spares.append(fresh)
            chunk = memoryview(fresh)
        self._chunks.append(chunk)
        self._chunk_filled = 0
        return chunk

    def body_filled(self, count: int) -> tuple[int, bytes] | None:
        """``count`` more bytes were read into ``body_buffer()``: the frame, once complete."""
        chunks = self._chunks
        assert chunks, "body_filled without a body_buffer"
        self._chunk_filled += count
        self._large_filled += count
        if self._large_filled < self._large_size:
            return None
        body = chunks[0].tobytes() if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
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
        if self._chunks:
            raise RuntimeError("fed bytes while a large frame's body is read directly")
        events: list[Decoded] = []
        try:
            buffer = self._buffer
            if not buffer:
                partial, commands = self._parse(data, 0, events, partial)
                return events, partial, commands
            need = self._need or self._frame_end(bytes(buffer) + data[:9])
            if not need or len(buffer) + len(data) < need or need > _WHOLE_COPY_LIMIT:
                buffer += data
                if len(buffer) < self._need:
                    return events, partial, False  # Inside one large frame: nothing to parse.
                if self._need > _WHOLE_COPY_LIMIT:
                    # A large frame is complete: cut it out of the buffer rather than copy it all.
                    return self._large_frame(events, partial)
                source = bytes(buffer)
                buffer.clear()
                partial, commands = self._parse(source, 0, events, partial)
                return events, partial, commands
            # The frame begun in the last read ends in this one: complete it on its own, then
            # parse this read where it starts (joining the whole read to the buffer would copy
            # it twice).
            take = need - len(buffer)
            buffer += memoryview(data)[:take]
            head = bytes(buffer)
            buffer.clear()
            self._need = 0
            partial, commands = self._parse(head, 0, events, partial)
            partial, more_commands = self._parse(data, take, events, partial)
            return events, partial, commands or more_commands
        except ProtocolError as exc:
            exc.decoded = events  # type: ignore[attr-defined]
            raise

    def _large_frame(
        self, events: list[Decoded], partial: list[bytes]
    ) -> tuple[list[Decoded], list[bytes], bool]:
        """The buffer begins with a whole large frame (long header): file it, parse the rest."""
        buffer = self._buffer
        need = self._need
        flags = buffer[0]
        self._check(flags, need - 9)
        with memoryview(buffer) as view:
            body = view[9:need].tobytes()
        del buffer[:need]
        self._need = 0
        partial = self.group(flags, body, partial, events.append)
        commands = bool(flags & COMMAND)
        rest = bytes(buffer)
        buffer.clear()
        partial, more_commands = self._parse(rest, 0, events, partial)
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
        limit = self.max_frame_size if self.max_frame_size >= 0 else _ABSURD_SIZE
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

    def _check(self, flags: int, size: int, limit: int | None = None) -> None:
        """Refuse a frame on its header: bad flags, or a size over ``limit`` (by default
        MAXMSGSIZE, which bounds command frames as well as message frames, as in libzmq)."""
        if flags & ~_KNOWN_FLAGS:
            raise ProtocolError(f"invalid frame flags {flags:#04x}")
        if flags & COMMAND and flags & MORE:
            raise ProtocolError("a command frame cannot have the MORE flag")
        if limit is None:
            limit = self.max_frame_size
            if 0 <= limit < size:
                kind = "command frame" if flags & COMMAND else "frame"
                raise ProtocolError(f"{kind} of {size} bytes exceeds MAXMSGSIZE ({limit})")
        elif size > limit:
            raise ProtocolError(f"frame of {size} bytes exceeds the limit here ({limit})")
        if size > _ABSURD_SIZE:
            raise ProtocolError(f"absurd frame size {size}")

    def push(self, data: bytes) -> None:
        """Add bytes to the stream buffer, for ``next_frame`` (the handshake's way)."""
        self._buffer += data

    def take_buffered(self) -> bytes:
        """The bytes buffered and not yet decoded, taken out of the decoder."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        self._need = 0
        self.large_pending = False
        return rest

    def next_frame(self, limit: int) -> tuple[int, bytes] | None:
        """The first frame in the buffer, cut out of it, or None until it has all arrived: the
        handshake's way, a frame at a time (the phase may end after any one of them). A frame
        over ``limit`` bytes is refused on its header, before its body is buffered."""
        buffer = self._buffer
        have = len(buffer)
        if have < 2:
            return None
        flags = buffer[0]
        if flags & ~_KNOWN_FLAGS:
            raise ProtocolError(f"invalid frame flags {flags:#04x}")
        if flags & LONG:
            if have < 9:
                return None
            (size,) = _LONG_SIZE.unpack_from(buffer, 1)
            start = 9
        else:
            size = buffer[1]
            start = 2
        self._check(flags, size, limit)
        end = start + size
        if have < end:
            return None
        with memoryview(buffer) as view:
            body = view[start:end].tobytes()
        del buffer[:end]
        return flags, body

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Every whole frame buffered so far, as ``(flags, body)`` (the simple way, for tests and
        tools: the connection uses ``feed_messages`` and ``next_frame``)."""
        buffer = self._buffer
        buffer += data
        frames: list[tuple[int, bytes]] = []
        pos = 0
        end = len(buffer)
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
                self._check(flags, size)
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

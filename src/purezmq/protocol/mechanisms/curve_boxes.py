"""CURVE's MESSAGE boxes (RFC 26): one at a time, and whole batches of frames at once.

A MESSAGE is ``\\x07MESSAGE``, an 8-byte short nonce, then the box of one flags octet and the
frame's body, sealed with the session key. Per frame the cryptography costs ~1 us here; wrapped
one call at a time in Python it cost ~5 us on each side. The batch path (``BatchBoxes``) seals a
whole batch into one buffer, frame headers and all, and opens MESSAGEs into one reused buffer:
PyNaCl's cffi module is called directly, with nonces and keys built here and never taken from the
wire, so C always sees valid lengths.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from ..errors import ProtocolError
from ..frames import COMMAND, LONG, MORE, Decoded, Outgoing, Received

MESSAGE_PREFIX = b"\x07MESSAGE"
#: The flags octet inside a box: MORE and COMMAND have their own bits there.
INNER_MORE = 0x01
INNER_COMMAND = 0x02
INNER = [bytes((flags,)) for flags in range(4)]
#: Frame flags from the flags octet inside a box (indexed by it; higher values are refused).
OUTER_FLAGS = (0, MORE, COMMAND, MORE | COMMAND)
#: A box adds the flags octet and a 16-byte tag; a MESSAGE adds its name and nonce to that.
_OVERHEAD = len(MESSAGE_PREFIX) + 8 + 16 + 1
_COUNTER = struct.Struct(">Q")
#: A MESSAGE frame's start: header (short or long form), name and short nonce.
_SHORT_START = struct.Struct(">BB8sQ")
_LONG_START = struct.Struct(">BQ8sQ")

Seal = Callable[[bytes, bytes, bytes], bytes]
Unseal = Callable[[bytes, bytes, bytes], "bytes | None"]


def _cffi_sodium() -> tuple[Any, Any] | None:
    """PyNaCl's own cffi module (ffi, lib) with the two box functions used here, or None when
    it is not there as expected (then PyNaCl's public bindings serve)."""
    try:
        from nacl._sodium import ffi, lib  # type: ignore[import-not-found]

        lib.crypto_box_easy_afternm, lib.crypto_box_open_easy_afternm  # noqa: B018
    except (ImportError, AttributeError):
        return None
    return ffi, lib


def message_boxes(sodium: Any) -> tuple[Seal, Unseal]:
    """Box and unbox one MESSAGE with the precomputed key: (seal, unseal), unseal giving None
    for a box that does not authenticate.

    Through PyNaCl's own cffi module when it is there as expected: its public wrappers check,
    pad and copy in Python, half the cost per message (~3 us of ~1.5 here).
    """
    cffi = _cffi_sodium()
    if cffi is None:
        return sodium.crypto_box_afternm, checked(sodium.crypto_box_open_afternm)
    ffi, lib = cffi
    seal_c, unseal_c = lib.crypto_box_easy_afternm, lib.crypto_box_open_easy_afternm
    new, buffer = ffi.new, ffi.buffer

    def seal(message: bytes, nonce: bytes, key: bytes) -> bytes:
        out = new("unsigned char[]", len(message) + 16)
        seal_c(out, message, len(message), nonce, key)
        return buffer(out)[:]

    def unseal(box: bytes, nonce: bytes, key: bytes) -> bytes | None:
        if len(box) < 16:
            return None
        out = new("unsigned char[]", len(box) - 16 or 1)
        if unseal_c(out, box, len(box), nonce, key) != 0:
            return None
        return buffer(out, len(box) - 16)[:]

    return seal, unseal


def checked(unseal: Callable[[bytes, bytes, bytes], bytes]) -> Unseal:
    def opened(box: bytes, nonce: bytes, key: bytes) -> bytes | None:
        try:
            return bytes(unseal(box, nonce, key))
        except Exception:
            return None

    return opened


class BatchBoxes:
    """Seals and opens the MESSAGEs of one connection a batch at a time.

    ``out_prefix`` and ``in_prefix`` are the 16-byte nonce prefixes of each direction
    (``CurveZMQMESSAGEC`` from the client, ``...S`` from the server). The short-nonce counters
    stay with the mechanism (its handshake commands count too): each call takes the counter
    and returns it advanced.
    """

    #: The opening buffer is kept between batches up to this size (one per connection).
    KEEP_LIMIT = 1024 * 1024

    def __init__(self, ffi: Any, lib: Any, key: bytes, out_prefix: bytes, in_prefix: bytes):
        self._ffi = ffi
        self._seal = lib.crypto_box_easy_afternm
        self._open = lib.crypto_box_open_easy_afternm
        self._key = key
        # The 24-byte nonces: the prefix stays, the counter in the last 8 bytes changes.
        self._out_nonce = bytearray(out_prefix + bytes(8))
        self._out_nonce_pointer = ffi.from_buffer(self._out_nonce)
        self._in_nonce = bytearray(in_prefix + bytes(8))
        self._in_nonce_pointer = ffi.from_buffer(self._in_nonce)
        self._plain = ffi.new("unsigned char[]", 4096)
        self._plain_bytes = ffi.buffer(self._plain)

    @classmethod
    def create(cls, key: bytes, out_prefix: bytes, in_prefix: bytes) -> BatchBoxes | None:
        """A BatchBoxes, or None when PyNaCl's cffi module is not as expected."""
        cffi = _cffi_sodium()
        return None if cffi is None else cls(*cffi, key, out_prefix, in_prefix)

    def seal_messages(self, messages: list[Outgoing], counter: int) -> tuple[bytes, int]:
        """The wire form of data messages, each frame a MESSAGE of its own (MORE goes inside
        the box), as one buffer; and the next counter."""
        size = 0
        for message in messages:
            for body in (message,) if isinstance(message, bytes) else message:
                length = len(body) + _OVERHEAD
                size += length + (2 if length < 256 else 9)
        wire = bytearray(size)
        pointer = self._ffi.from_buffer(wire)
        seal, key = self._seal, self._key
        nonce, nonce_pointer = self._out_nonce, self._out_nonce_pointer
        pack_into, short_start, long_start = _COUNTER.pack_into, _SHORT_START, _LONG_START
        inner = INNER
        pos = 0
        for message in messages:
            frames = (message,) if isinstance(message, bytes) else message
            last = len(frames) - 1
            for index, body in enumerate(frames):
                length = len(body) + _OVERHEAD
                if length < 256:
                    short_start.pack_into(wire, pos, 0, length, MESSAGE_PREFIX, counter)
                    pos += 18
                else:
                    long_start.pack_into(wire, pos, LONG, length, MESSAGE_PREFIX, counter)
                    pos += 25
                pack_into(nonce, 16, counter)
                counter += 1
                plain = inner[INNER_MORE if index < last else 0] + body
                seal(pointer + pos, plain, len(plain), nonce_pointer, key)
                pos += len(plain) + 16
        self._ffi.release(pointer)
        return bytes(wire), counter

    def open_messages(
        self, wrapped: list[Received], partial: list[bytes], counter: int
    ) -> tuple[list[Decoded], list[bytes], bool, int]:
        """The messages inside MESSAGE frames (the bodies of ``wrapped``), as
        ``FrameDecoder.feed_messages`` gives them: whole messages (``Received``), commands
        as ``(flags, body)``, the message still incomplete (``partial`` continued), whether
        there were commands; and the last counter seen. Raises ProtocolError for anything that
        is not an authentic MESSAGE with a nonce above the last one, with the messages opened
        before it as its ``decoded``."""
        events: list[Decoded] = []
        add = events.append
        commands = False
        unseal, key = self._open, self._key
        nonce, nonce_pointer = self._in_nonce, self._in_nonce_pointer
        plain, plain_bytes = self._plain, self._plain_bytes
        unpack_from, pack_into = _COUNTER.unpack_from, _COUNTER.pack_into
        try:
            for group in wrapped:
                for body in (group,) if isinstance(group, bytes) else group:
                    if len(body) < _OVERHEAD or not body.startswith(MESSAGE_PREFIX):
                        raise ProtocolError("CURVE: malformed MESSAGE")
                    (value,) = unpack_from(body, 8)
                    if value <= counter:
                        raise ProtocolError("CURVE: replayed or out-of-order nonce")
                    counter = value
                    pack_into(nonce, 16, value)
                    size = len(body) - 32  # The flags octet and the frame's body.
                    if size > len(plain_bytes):
                        plain, plain_bytes = self._plain_buffer(size)
                    if unseal(plain, body[16:], size + 16, nonce_pointer, key) != 0:
                        raise ProtocolError("CURVE: MESSAGE failed authentication")
                    inner = plain[0]
                    if not inner:
                        if partial:
                            partial.append(plain_bytes[1:size])
                            add(partial)
                            partial = []
                        else:
                            add(plain_bytes[1:size])
                    elif inner == INNER_MORE:
                        partial.append(plain_bytes[1:size])
                    elif inner <= 3:
                        add((OUTER_FLAGS[inner], plain_bytes[1:size]))
                        commands = True
                    else:
                        raise ProtocolError("CURVE: reserved MESSAGE flags set")
        except ProtocolError as exc:
            exc.decoded = events  # type: ignore[attr-defined]
            raise
        return events, partial, commands, counter

    def _plain_buffer(self, size: int) -> tuple[Any, Any]:
        """A buffer to open a box of ``size`` bytes into; kept when not too large."""
        plain = self._ffi.new("unsigned char[]", size)
        plain_bytes = self._ffi.buffer(plain)
        if size <= self.KEEP_LIMIT:
            self._plain, self._plain_bytes = plain, plain_bytes
        return plain, plain_bytes

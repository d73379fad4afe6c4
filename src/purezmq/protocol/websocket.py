"""WebSocket (RFC 6455) as state machines over bytes: the HTTP upgrade of either side, and the
framing (masking, fragmentation, ping/pong/close). What ZWS 2.0 (zws.py) runs on.

No sockets, no clock: ``WebSocket.receive_data`` takes the peer's bytes and gives the complete
binary messages; ``data_to_send`` gives what to write. A peer that breaks the protocol gets a
ProtocolError (the connection is then dropped by whoever drives this)."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass, field

from .errors import ProtocolError

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: The largest HTTP head accepted (request or response): a real one is a few hundred bytes.
MAX_HEAD = 16384

_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


@dataclass
class Request:
    """An upgrade request, as the server reads it."""

    path: str
    headers: dict[str, str]
    protocols: list[str] = field(default_factory=list)


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
        raise ProtocolError("bad HTTP head") from None
    lines = text.split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"bad HTTP header line {line[:60]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return lines[0], headers


def parse_request(head: bytes) -> Request:
    """Check an upgrade request (its head, up to the blank line): ProtocolError if it is not
    a WebSocket 13 upgrade."""
    start, headers = _parse_head(head)
    parts = start.split(" ")
    if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/1."):
        raise ProtocolError(f"not a WebSocket upgrade request: {start[:80]!r}")
    if headers.get("upgrade", "").lower() != "websocket":
        raise ProtocolError("no 'Upgrade: websocket' header")
    if "upgrade" not in [t.strip().lower() for t in headers.get("connection", "").split(",")]:
        raise ProtocolError("no 'Connection: Upgrade' header")
    if headers.get("sec-websocket-version") != "13":
        raise ProtocolError("WebSocket version is not 13")
    key = headers.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        raise ProtocolError("bad Sec-WebSocket-Key") from None
    protocols = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    return Request(parts[1], headers, [p for p in protocols if p])


def request_bytes(host: str, path: str, protocols: list[str], key: bytes) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode('ascii')}",
        f"Sec-WebSocket-Protocol: {','.join(protocols)}",
        "Sec-WebSocket-Version: 13",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response_bytes(key: str, protocol: str) -> bytes:
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_key(key.encode('ascii')).decode('ascii')}",
        f"Sec-WebSocket-Protocol: {protocol}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


def check_response(head: bytes, key: bytes, offered: list[str]) -> str:
    """The protocol the server chose (one of ``offered``); ProtocolError if the upgrade was
    refused or the answer is not a proper one."""
    start, headers = _parse_head(head)
    parts = start.split(" ", 2)
    if len(parts) < 2 or parts[1] != "101":
        raise ProtocolError(f"the server refused the WebSocket upgrade: {start[:80]!r}")
    if headers.get("sec-websocket-accept", "").encode("ascii", "replace") != accept_key(key):
        raise ProtocolError("bad Sec-WebSocket-Accept")
    protocol = headers.get("sec-websocket-protocol", "")
    if protocol not in offered:
        raise ProtocolError(f"the server chose a protocol not offered: {protocol!r}")
    return protocol


def new_key() -> bytes:
    return base64.b64encode(os.urandom(16))


def encode_frame(opcode: int, payload: bytes, masked: bool) -> bytes:
    """One final frame (a client masks what it sends, a server does not)."""
    size = len(payload)
    first = 0x80 | opcode
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head = struct.pack("!BB", first, mask_bit | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + _apply_mask(payload, mask)


def _apply_mask(data: bytes, mask: bytes) -> bytes:
    # XOR with the repeated 4-byte key, as one big integer operation (fast in CPython).
    if not data:
        return data
    repeated = (mask * (len(data) // 4 + 1))[: len(data)]
    value = int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(len(data), "little")


class FrameReader:
    """Frames in, complete binary messages out; pings answered, a close returned once.

    ``expect_masked``: a server requires masked frames (RFC 6455 5.1); a client, unmasked.
    ``max_message``: a message longer than this is a ProtocolError (-1: no limit)."""

    def __init__(self, expect_masked: bool, max_message: int = -1) -> None:
        self.expect_masked = expect_masked
        self.max_message = max_message
        self._buffer = bytearray()
        self._parts: list[bytes] = []
        self._size = 0
        self._fragmented = False
        #: Control frames to send back (pongs, the close reply), encoded by the owner.
        self.replies: list[tuple[int, bytes]] = []
        self.closed = False

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while not self.closed:
            if len(buffer) < 2:
                break
            first, second = buffer[0], buffer[1]
            if first & 0x70:
                raise ProtocolError("WebSocket frame with reserved bits set (no extension)")
            fin, opcode = first & 0x80, first & 0x0F
            masked, size = second & 0x80, second & 0x7F
            offset = 2
            if size == 126:
                if len(buffer) < 4:
                    break
                (size,) = struct.unpack_from("!H", buffer, 2)
                offset = 4
            elif size == 127:
                if len(buffer) < 10:
                    break
                (size,) = struct.unpack_from("!Q", buffer, 2)
                if size >> 63:
                    raise ProtocolError("WebSocket frame length out of range")
                offset = 10
            if bool(masked) != self.expect_masked:
                raise ProtocolError(
                    "unmasked frame from a client" if self.expect_masked else "masked frame"
                )
            if opcode >= 0x8 and (size > 125 or not fin):
                raise ProtocolError("bad WebSocket control frame")
            if 0 <= self.max_message < self._size + size and opcode < 0x8:
                raise ProtocolError("WebSocket message over the size limit")
            end = offset + (4 if masked else 0) + size
            if len(buffer) < end:
                break
            payload = bytes(buffer[end - size : end])
            if masked:
                payload = _apply_mask(payload, bytes(buffer[offset : offset + 4]))
            del buffer[:end]
            self._frame(fin, opcode, payload, messages)
        return messages

    def _frame(self, fin: int, opcode: int, payload: bytes, messages: list[bytes]) -> None:
        if opcode == _PING:
            self.replies.append((_PONG, payload))
        elif opcode == _PONG:
            pass
        elif opcode == _CLOSE:
            self.replies.append((_CLOSE, payload[:2]))
            self.closed = True
        elif opcode in (_BINARY, _TEXT) or opcode == _CONTINUATION:
            if opcode == _TEXT:
                raise ProtocolError("ZWS carries binary WebSocket messages, not text")
            if (opcode == _CONTINUATION) != self._fragmented:
                raise ProtocolError("WebSocket fragments out of order")
            self._parts.append(payload)
            self._size += len(payload)
            if fin:
                messages.append(b"".join(self._parts))
                self._parts, self._size, self._fragmented = [], 0, False
            else:
                self._fragmented = True
        else:
            raise ProtocolError(f"unknown WebSocket opcode {opcode:#x}")


BINARY, CLOSE = _BINARY, _CLOSE

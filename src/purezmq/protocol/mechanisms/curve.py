"""The CURVE mechanism (RFC 25, CurveZMQ RFC 26) over libsodium through PyNaCl.

Keys are 32 raw bytes here. Short nonces are 8-byte big-endian counters that must strictly
increase; every box is checked, and any failure drops the connection.
"""

from __future__ import annotations

import os
import struct
from typing import Any

from ..commands import READY, decode_properties, encode_properties
from ..errors import ProtocolError
from ..frames import COMMAND, MORE, Decoded, Outgoing, Received
from .base import AuthRequest, Mechanism
from .curve_boxes import (
    INNER,
    INNER_COMMAND,
    INNER_MORE,
    MESSAGE_PREFIX,
    OUTER_FLAGS,
    BatchBoxes,
    message_boxes,
)

HELLO = b"HELLO"
WELCOME = b"WELCOME"
INITIATE = b"INITIATE"


def _sodium() -> Any:
    try:
        import nacl.bindings
        import nacl.exceptions
    except ImportError:
        raise ImportError(
            "CURVE security needs PyNaCl (libsodium): pip install 'purezmq[curve]'"
        ) from None
    return nacl.bindings


def _nonce(prefix: bytes, value: bytes) -> bytes:
    return prefix + value


class _CurveBase(Mechanism):
    name = b"CURVE"
    encrypts = True

    def __init__(self, as_server: bool, properties: dict[str, bytes]) -> None:
        super().__init__(as_server, properties)
        self.sodium = _sodium()
        self._seal, self._unseal = message_boxes(self.sodium)
        self._batch: BatchBoxes | None = None
        self._nonce_out = 1
        self._peer_nonce = 0
        self._precomputed = b""
        self._out_prefix = b"CurveZMQMESSAGES" if as_server else b"CurveZMQMESSAGEC"
        self._in_prefix = b"CurveZMQMESSAGEC" if as_server else b"CurveZMQMESSAGES"

    def _next_nonce(self) -> bytes:
        value = struct.pack(">Q", self._nonce_out)
        self._nonce_out += 1
        return value

    def _check_peer_nonce(self, raw: bytes) -> None:
        (value,) = struct.unpack(">Q", raw)
        if value <= self._peer_nonce:
            raise ProtocolError("CURVE: replayed or out-of-order nonce")
        self._peer_nonce = value

    def _open(self, box: bytes, nonce: bytes, public: bytes, secret: bytes) -> bytes:
        try:
            return bytes(self.sodium.crypto_box_open(box, nonce, public, secret))
        except Exception:
            raise ProtocolError("CURVE: a box failed to open (wrong key or tampering)") from None

    def _session_key(self, key: bytes) -> None:
        self._precomputed = key
        self._batch = BatchBoxes.create(key, self._out_prefix, self._in_prefix)

    def encode(self, flags: int, body: bytes) -> bytes:
        inner = (INNER_MORE if flags & MORE else 0) | (INNER_COMMAND if flags & COMMAND else 0)
        nonce = self._next_nonce()
        box = self._seal(INNER[inner] + body, self._out_prefix + nonce, self._precomputed)
        return MESSAGE_PREFIX + nonce + box

    def decode(self, body: bytes) -> tuple[int, bytes]:
        if len(body) < 33 or body[:8] != MESSAGE_PREFIX:
            raise ProtocolError("CURVE: malformed MESSAGE")
        nonce = body[8:16]
        self._check_peer_nonce(nonce)
        plain = self._unseal(body[16:], self._in_prefix + nonce, self._precomputed)
        if plain is None:
            raise ProtocolError("CURVE: MESSAGE failed authentication")
        if plain[0] > 3:
            raise ProtocolError("CURVE: reserved MESSAGE flags set")
        return OUTER_FLAGS[plain[0]], plain[1:]

    def encode_messages(self, messages: list[Outgoing], chunks: list[bytes]) -> None:
        if self._batch is None:
            super().encode_messages(messages, chunks)
            return
        wire, self._nonce_out = self._batch.seal_messages(messages, self._nonce_out)
        chunks.append(wire)

    def open_messages(
        self, wrapped: list[Received], partial: list[bytes]
    ) -> tuple[list[Decoded], list[bytes], bool]:
        if self._batch is None:
            return super().open_messages(wrapped, partial)
        events, partial, commands, self._peer_nonce = self._batch.open_messages(
            wrapped, partial, self._peer_nonce
        )
        return events, partial, commands


class CurveClient(_CurveBase):
    def __init__(
        self,
        as_server: bool,
        properties: dict[str, bytes],
        public_key: bytes,
        secret_key: bytes,
        server_key: bytes,
    ) -> None:
        super().__init__(as_server, properties)
        self.public_key = public_key
        self.secret_key = secret_key
        self.server_key = server_key
        self.transient_public, self.transient_secret = self.sodium.crypto_box_keypair()
        self._state = "welcome"
        self._server_transient = b""

    def start(self) -> list[tuple[bytes, bytes]]:
        nonce = self._next_nonce()
        box = self.sodium.crypto_box(
            b"\x00" * 64,
            _nonce(b"CurveZMQHELLO---", nonce),
            self.server_key,
            self.transient_secret,
        )
        return [(HELLO, b"\x01\x00" + b"\x00" * 72 + self.transient_public + nonce + box)]

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        self.peer_error(name, data)
        if self._state == "welcome" and name == WELCOME:
            return self._welcome(data)
        if self._state == "ready" and name == READY:
            if len(data) < 8 + 16:
                raise ProtocolError("CURVE: malformed READY")
            nonce = data[:8]
            self._check_peer_nonce(nonce)
            try:
                metadata = self.sodium.crypto_box_open_afternm(
                    data[8:], _nonce(b"CurveZMQREADY---", nonce), self._precomputed
                )
            except Exception:
                raise ProtocolError("CURVE: READY failed authentication") from None
            self.peer_properties = decode_properties(bytes(metadata))
            self.ready = True
            return []
        raise ProtocolError(f"unexpected {name!r} command in CURVE handshake")

    def _welcome(self, data: bytes) -> list[tuple[bytes, bytes]]:
        if len(data) != 16 + 144:
            raise ProtocolError("CURVE: malformed WELCOME")
        plain = self._open(
            data[16:], _nonce(b"WELCOME-", data[:16]), self.server_key, self.transient_secret
        )
        self._server_transient = plain[:32]
        cookie = plain[32:128]
        self._session_key(
            self.sodium.crypto_box_beforenm(self._server_transient, self.transient_secret)
        )
        vouch_nonce = os.urandom(16)
        vouch = vouch_nonce + self.sodium.crypto_box(
            self.transient_public + self.server_key,
            _nonce(b"VOUCH---", vouch_nonce),
            self._server_transient,
            self.secret_key,
        )
        nonce = self._next_nonce()
        box = self.sodium.crypto_box_afternm(
            self.public_key + vouch + encode_properties(self.properties),
            _nonce(b"CurveZMQINITIATE", nonce),
            self._precomputed,
        )
        self._state = "ready"
        return [(INITIATE, cookie + nonce + box)]


class CurveServer(_CurveBase):
    def __init__(self, as_server: bool, properties: dict[str, bytes], secret_key: bytes) -> None:
        super().__init__(as_server, properties)
        self.secret_key = secret_key
        self.public_key = self.sodium.crypto_scalarmult_base(secret_key)
        self._cookie_key = os.urandom(32)
        self._state = "hello"
        self._client_transient = b""
        self.transient_public = b""
        self.transient_secret = b""
        self.client_key = b""

    def start(self) -> list[tuple[bytes, bytes]]:
        return []

    def receive(self, name: bytes, data: bytes) -> list[tuple[bytes, bytes]]:
        self.peer_error(name, data)
        if self._state == "hello" and name == HELLO:
            return self._hello(data)
        if self._state == "initiate" and name == INITIATE:
            return self._initiate(data)
        raise ProtocolError(f"unexpected {name!r} command in CURVE handshake")

    def _hello(self, data: bytes) -> list[tuple[bytes, bytes]]:
        if len(data) != 194:
            raise ProtocolError("CURVE: malformed HELLO")
        if data[:2] != b"\x01\x00":
            raise ProtocolError("CURVE: unsupported version")
        self._client_transient = data[74:106]
        nonce = data[106:114]
        self._check_peer_nonce(nonce)
        signature = self._open(
            data[114:194],
            _nonce(b"CurveZMQHELLO---", nonce),
            self._client_transient,
            self.secret_key,
        )
        if signature != b"\x00" * 64:
            raise ProtocolError("CURVE: bad HELLO signature")
        self.transient_public, self.transient_secret = self.sodium.crypto_box_keypair()
        cookie_nonce = os.urandom(16)
        cookie = cookie_nonce + self.sodium.crypto_secretbox(
            self._client_transient + self.transient_secret,
            _nonce(b"COOKIE--", cookie_nonce),
            self._cookie_key,
        )
        welcome_nonce = os.urandom(16)
        box = self.sodium.crypto_box(
            self.transient_public + cookie,
            _nonce(b"WELCOME-", welcome_nonce),
            self._client_transient,
            self.secret_key,
        )
        self._state = "initiate"
        return [(WELCOME, welcome_nonce + box)]

    def _initiate(self, data: bytes) -> list[tuple[bytes, bytes]]:
        if len(data) < 96 + 8 + 144:
            raise ProtocolError("CURVE: malformed INITIATE")
        try:
            cookie = self.sodium.crypto_secretbox_open(
                data[16:96], _nonce(b"COOKIE--", data[:16]), self._cookie_key
            )
        except Exception:
            raise ProtocolError("CURVE: bad cookie") from None
        if cookie != self._client_transient + self.transient_secret:
            raise ProtocolError("CURVE: cookie does not match this connection")
        nonce = data[96:104]
        self._check_peer_nonce(nonce)
        self._session_key(
            self.sodium.crypto_box_beforenm(self._client_transient, self.transient_secret)
        )
        try:
            plain = bytes(
                self.sodium.crypto_box_open_afternm(
                    data[104:], _nonce(b"CurveZMQINITIATE", nonce), self._precomputed
                )
            )
        except Exception:
            raise ProtocolError("CURVE: INITIATE failed authentication") from None
        client_key, vouch, metadata = plain[:32], plain[32:128], plain[128:]
        vouched = self._open(
            vouch[16:], _nonce(b"VOUCH---", vouch[:16]), client_key, self.transient_secret
        )
        if vouched != self._client_transient + self.public_key:
            raise ProtocolError("CURVE: vouch does not match")
        self.client_key = client_key
        self.peer_properties = decode_properties(metadata)
        self._state = "auth"
        self.auth_request = AuthRequest(b"CURVE", [client_key])
        return []

    def accepted(self) -> list[tuple[bytes, bytes]]:
        nonce = self._next_nonce()
        box = self.sodium.crypto_box_afternm(
            encode_properties(self.properties),
            _nonce(b"CurveZMQREADY---", nonce),
            self._precomputed,
        )
        self.ready = True
        return [(READY, nonce + box)]

"""The ZAP request handler (RFC 27) behind every authenticator, with pyzmq's policy and API."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from ..constants import SocketType
from ..utils import z85
from .certs import load_certificates

VERSION = b"1.0"
CURVE_ALLOW_ANY = "*"
ZAP_ENDPOINT = "inproc://zeromq.zap.01"


class Authenticator:
    """Checks peers by address (allow/deny), PLAIN password, or CURVE public key.

    ``start`` binds the ZAP socket in the context; replies carry the user id ("anonymous", the
    PLAIN user name, or the Z85 client key for CURVE) that received frames show as User-Id.
    """

    def __init__(self, context: Any = None, encoding: str = "utf-8", log: Any = None) -> None:
        if context is None:
            from ..context import Context

            context = Context.instance()
        self.context = context
        self.encoding = encoding
        self.allow_any = False
        self.credentials_providers: dict[str, Callable[[str, bytes], bool]] = {}
        self.zap_socket: Any = None
        self._allowed: set[str] = set()
        self._denied: set[str] = set()
        self.passwords: dict[str, dict[str, str]] = {}
        self.certs: dict[str, dict[bytes, bool]] = {}
        self.log = log or logging.getLogger("purezmq.auth")

    def start(self) -> None:
        self.zap_socket = self.context.socket(SocketType.REP)
        self.zap_socket.linger = 1
        self.zap_socket.bind(ZAP_ENDPOINT)
        self.log.debug("Starting")

    def stop(self) -> None:
        if self.zap_socket is not None:
            self.zap_socket.close()
        self.zap_socket = None

    def allow(self, *addresses: str) -> None:
        """Only these IP addresses may connect (a whitelist)."""
        if self._denied:
            raise ValueError("Only use allow or deny, not both")
        self._allowed.update(addresses)

    def deny(self, *addresses: str) -> None:
        """These IP addresses may not connect (a blacklist)."""
        if self._allowed:
            raise ValueError("Only use allow or deny, not both")
        self._denied.update(addresses)

    def configure_plain(self, domain: str = "*", passwords: dict[str, str] | None = None) -> None:
        self.passwords[domain] = passwords or {}

    def configure_curve(self, domain: str = "*", location: str | os.PathLike[str] = "") -> None:
        """Allow the public keys in a certificate folder, or any key with CURVE_ALLOW_ANY."""
        if location == CURVE_ALLOW_ANY:
            self.allow_any = True
        else:
            self.allow_any = False
            try:
                self.certs[domain] = load_certificates(location)
            except Exception as exc:
                self.log.error("Failed to load CURVE certs from %s: %s", location, exc)

    def configure_curve_callback(
        self, domain: str = "*", credentials_provider: Callable[[str, bytes], bool] | None = None
    ) -> None:
        self.allow_any = False
        if credentials_provider is not None:
            self.credentials_providers[domain] = credentials_provider

    def curve_user_id(self, client_public_key: bytes) -> str:
        return z85.encode(client_public_key).decode("ascii")

    def handle_zap_message(self, msg: list[bytes]) -> None:
        """Answer one ZAP request (the frames after the REP envelope)."""
        if len(msg) < 6:
            self.log.error("Invalid ZAP message, not enough frames: %r", msg)
            if len(msg) < 2:
                self.log.error("Not enough information to reply")
            else:
                self._send_zap_reply(msg[1], b"400", b"Not enough frames")
            return
        version, request_id, raw_domain, raw_address, _identity, mechanism = msg[:6]
        credentials = msg[6:]
        domain = raw_domain.decode(self.encoding, "replace")
        address = raw_address.decode("utf-8", "replace")
        if version != VERSION:
            self._send_zap_reply(request_id, b"400", b"Invalid version")
            return
        allowed, denied, reason = self._check_address(address)
        username = "anonymous"
        if not denied:
            if mechanism == b"NULL" and not allowed:
                allowed = True
            elif mechanism == b"PLAIN":
                if len(credentials) != 2:
                    self._send_zap_reply(request_id, b"400", b"Invalid PLAIN credentials")
                    return
                username, password = (c.decode(self.encoding, "replace") for c in credentials)
                allowed, reason = self._authenticate_plain(domain, username, password)
            elif mechanism == b"CURVE":
                if len(credentials) != 1:
                    self._send_zap_reply(request_id, b"400", b"Invalid CURVE credentials")
                    return
                key = credentials[0]
                allowed, reason = self._authenticate_curve(domain, key)
                if allowed:
                    username = self.curve_user_id(key)
        if allowed:
            self._send_zap_reply(request_id, b"200", b"OK", username)
        else:
            self.log.info("ZAP denied %s (%s): %s", address, mechanism.decode(), reason.decode())
            self._send_zap_reply(request_id, b"400", reason)

    def _check_address(self, address: str) -> tuple[bool, bool, bytes]:
        if self._allowed:
            if address in self._allowed:
                return True, False, b""
            return False, True, b"Address not allowed"
        if self._denied:
            if address in self._denied:
                return False, True, b"Address denied"
            return True, False, b""
        return False, False, b"NO ACCESS"

    def _authenticate_plain(self, domain: str, username: str, password: str) -> tuple[bool, bytes]:
        if not self.passwords:
            return False, b"No passwords defined"
        users = self.passwords.get(domain or "*")
        if users is None:
            return False, b"Invalid domain"
        if username not in users:
            return False, b"Invalid username"
        if users[username] != password:
            return False, b"Invalid password"
        return True, b"OK"

    def _authenticate_curve(self, domain: str, client_key: bytes) -> tuple[bool, bytes]:
        if self.allow_any:
            return True, b"OK"
        provider = self.credentials_providers.get(domain or "*")
        if provider is not None:
            if provider(domain, client_key):
                return True, b"OK"
            return False, b"Unknown key"
        certs = self.certs.get(domain or "*")
        if certs is None:
            return False, b"Unknown domain"
        if certs.get(z85.encode(client_key)):
            return True, b"OK"
        return False, b"Unknown key"

    def _send_zap_reply(
        self, request_id: bytes, status_code: bytes, status_text: bytes, user_id: str = "anonymous"
    ) -> None:
        user = user_id.encode(self.encoding, "replace") if status_code == b"200" else b""
        self.zap_socket.send_multipart([VERSION, request_id, status_code, status_text, user, b""])

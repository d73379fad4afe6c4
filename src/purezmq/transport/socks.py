"""A SOCKS5 client (RFC 1928, with RFC 1929's username/password) for tcp connects through
SOCKS_PROXY: ``Socks5Client``, a state machine over bytes (what to send, what the proxy's bytes
mean), and ``SocksHandshake``, which runs it on a connected socket in the I/O thread's loop
(asyncio's connecter runs it with the loop's sock_* calls).

libzmq's choices, kept: with a username (SOCKS_USERNAME not empty) only method 2 is offered,
else only "no authentication"; the endpoint's host goes to the proxy as written, an IPv4 or
IPv6 literal as an address, anything else as a domain name the proxy resolves.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
from collections.abc import Callable
from typing import Any

_VERSION = 5
_NO_AUTH = 0
_USER_PASSWORD = 2
_CONNECT = 1
_IPV4, _DOMAIN, _IPV6 = 1, 3, 4

_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}


class SocksError(Exception):
    """The proxy refused, or answered what SOCKS5 does not allow."""


def parse_proxy(value: str) -> tuple[str, int]:
    """SOCKS_PROXY's "host:port" ("[v6]:port" too); port 1080 when left out."""
    host, sep, port = value.rpartition(":")
    if not sep or "]" in port or (host.count(":") and not host.startswith("[")):
        host, port = value, ""
    host = host.strip("[]")
    if not host:
        raise SocksError(f"SOCKS_PROXY {value!r} names no host")
    try:
        return host, int(port) if port else 1080
    except ValueError:
        raise SocksError(f"SOCKS_PROXY {value!r} has a bad port") from None


class Socks5Client:
    """Feed it the proxy's bytes (``receive``), read no more than ``needed()`` at a time, and
    send what it returns. ``done`` once the proxy has connected us to (host, port): the
    connection's next byte is the peer's (reading only what is needed leaves those for ZMTP)."""

    def __init__(self, host: str, port: int, username: bytes = b"", password: bytes = b""):
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.done = False
        self._buffer = b""
        self._state = "method"
        if len(username) > 255 or len(password) > 255:
            raise SocksError("SOCKS username and password are at most 255 bytes")

    def greeting(self) -> bytes:
        method = _USER_PASSWORD if self.username else _NO_AUTH
        return bytes([_VERSION, 1, method])

    def receive(self, data: bytes) -> bytes:
        """The proxy's bytes in; the bytes to send it out (b"" for none yet)."""
        self._buffer += data
        out = b""
        while not self.done:
            step = getattr(self, "_on_" + self._state)()
            if step is None:
                break
            out += step
        return out

    def needed(self) -> int:
        """How many bytes the proxy's answer in progress still lacks (0 when done)."""
        if self.done:
            return 0
        have = len(self._buffer)
        if self._state != "reply":
            return 2 - have
        if have < 5:
            return 5 - have
        kind, first = self._buffer[3], self._buffer[4]
        size = {_IPV4: 4, _IPV6: 16, _DOMAIN: 1 + first}.get(kind, 0)
        return max(1, 4 + size + 2 - have)

    def _take(self, count: int) -> bytes | None:
        if len(self._buffer) < count:
            return None
        taken, self._buffer = self._buffer[:count], self._buffer[count:]
        return taken

    def _on_method(self) -> bytes | None:
        answer = self._take(2)
        if answer is None:
            return None
        version, method = answer
        if version != _VERSION:
            raise SocksError(f"not a SOCKS5 proxy (version {version})")
        wanted = _USER_PASSWORD if self.username else _NO_AUTH
        if method != wanted:
            raise SocksError("the proxy accepts none of the offered authentication methods")
        if method == _USER_PASSWORD:
            self._state = "auth"
            user, password = self.username, self.password
            return bytes([1, len(user)]) + user + bytes([len(password)]) + password
        return self._request()

    def _on_auth(self) -> bytes | None:
        answer = self._take(2)
        if answer is None:
            return None
        if answer[1] != 0:
            raise SocksError("the proxy refused the username and password")
        return self._request()

    def _request(self) -> bytes:
        self._state = "reply"
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            name = self.host.encode("idna")
            if len(name) > 255:
                raise SocksError(f"host name too long for SOCKS: {self.host!r}") from None
            target = bytes([_DOMAIN, len(name)]) + name
        else:
            kind = _IPV4 if address.version == 4 else _IPV6
            target = bytes([kind]) + address.packed
        return bytes([_VERSION, _CONNECT, 0]) + target + struct.pack("!H", self.port)

    def _on_reply(self) -> bytes | None:
        head = self._buffer[:5]
        if len(head) < 5:
            return None
        version, reply, _, kind, first = head
        if version != _VERSION:
            raise SocksError(f"bad SOCKS reply version {version}")
        if reply != 0:
            raise SocksError(_REPLIES.get(reply, f"SOCKS reply {reply}"))
        sizes = {_IPV4: 4, _IPV6: 16, _DOMAIN: 1 + first}
        if kind not in sizes:
            raise SocksError(f"bad SOCKS address type {kind}")
        answer = self._take(4 + sizes[kind] + 2)
        if answer is None:
            return None
        self.done = True
        return b""


class SocksHandshake:
    """Runs a Socks5Client over a connected non-blocking socket in a selector loop, then calls
    ``done(sock, None)``, or ``done(sock, reason)`` when the proxy refused or fell silent for
    ``timeout`` seconds (0: no limit). ``cancel`` stops it without a call."""

    def __init__(
        self,
        loop: Any,
        sock: socket.socket,
        client: Socks5Client,
        timeout: float,
        done: Callable[[socket.socket, str | None], None],
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.client = client
        self._done = done
        self._finished = False
        self._timer = loop.call_later(timeout, self._fail, "timed out") if timeout > 0 else None
        loop.add_reader(sock, self._readable)
        self._send(client.greeting())

    def _send(self, data: bytes) -> None:
        # The handshake's few bytes go into an empty send buffer: all at once, or a failure.
        try:
            if self.sock.send(data) != len(data):
                raise OSError(errno.EAGAIN, "the SOCKS request did not fit the send buffer")
        except OSError as exc:
            self._fail(str(exc))

    def _readable(self) -> None:
        if self._finished:
            return
        try:
            data = self.sock.recv(self.client.needed())
            if not data:
                raise SocksError("the proxy closed the connection")
            answer = self.client.receive(data)
        except (OSError, SocksError) as exc:
            self._fail(str(exc))
            return
        if answer:
            self._send(answer)
        if self.client.done and not self._finished:
            self._finish(None)

    def _fail(self, reason: str) -> None:
        if not self._finished:
            self._finish(reason)

    def _finish(self, failure: str | None) -> None:
        self.cancel()
        self._done(self.sock, failure)

    def cancel(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.loop.remove_reader(self.sock)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

"""A small SOCKS5 server (RFC 1928, username/password auth RFC 1929) on 127.0.0.1 for the
tests: each client's requests are recorded, and the server can refuse (a reply code) or ask for
a password."""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    methods: bytes = b""
    username: bytes | None = None
    password: bytes | None = None
    address_type: int = 0
    host: str = ""
    port: int = 0


def _recv_exactly(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("client left")
        data += chunk
    return data


@dataclass
class Socks5Server:
    """``credentials``: ask for username/password (method 2) and check them; ``reply``: the
    CONNECT reply code (0 succeeds); ``resolve``: what a domain name connects to."""

    credentials: tuple[bytes, bytes] | None = None
    reply: int = 0
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._conns: list[socket.socket] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[Request]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        for conn in self._conns:
            conn.close()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        request = Request()
        try:
            version, count = _recv_exactly(conn, 2)
            assert version == 5
            request.methods = _recv_exactly(conn, count)
            if self.credentials is not None:
                if 2 not in request.methods:
                    conn.sendall(b"\x05\xff")
                    self._record(request)
                    return
                conn.sendall(b"\x05\x02")
                _, ulen = _recv_exactly(conn, 2)
                request.username = _recv_exactly(conn, ulen)
                (plen,) = _recv_exactly(conn, 1)
                request.password = _recv_exactly(conn, plen)
                ok = (request.username, request.password) == self.credentials
                conn.sendall(b"\x01\x00" if ok else b"\x01\x01")
                if not ok:
                    self._record(request)
                    return
            elif 0 in request.methods:
                conn.sendall(b"\x05\x00")
            else:
                conn.sendall(b"\x05\xff")
                self._record(request)
                return
            _, command, _, atyp = _recv_exactly(conn, 4)
            request.address_type = atyp
            if atyp == 1:
                request.host = socket.inet_ntop(socket.AF_INET, _recv_exactly(conn, 4))
            elif atyp == 4:
                request.host = socket.inet_ntop(socket.AF_INET6, _recv_exactly(conn, 16))
            else:
                (length,) = _recv_exactly(conn, 1)
                request.host = _recv_exactly(conn, length).decode()
            (request.port,) = struct.unpack("!H", _recv_exactly(conn, 2))
            self._record(request)
            if command != 1 or self.reply != 0:
                conn.sendall(bytes([5, self.reply or 7, 0, 1]) + bytes(4) + b"\x00\x00")
                conn.close()
                return
            host = "127.0.0.1" if atyp == 3 else request.host
            upstream = socket.create_connection((host, request.port), timeout=5)
        except (OSError, ConnectionError, ValueError, AssertionError):
            conn.close()
            return
        upstream.settimeout(None)
        self._conns.append(upstream)
        bound = upstream.getsockname()
        conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(bound[0]) + struct.pack("!H", bound[1]))
        threading.Thread(target=_pipe, args=(conn, upstream), daemon=True).start()
        _pipe(upstream, conn)

    def _record(self, request: Request) -> None:
        with self.arrived:
            self.requests.append(request)
            self.arrived.notify_all()


def _pipe(source: socket.socket, sink: Any) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

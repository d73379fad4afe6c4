"""A recording, optionally tampering, TCP relay for ZMTP connections (python sockets, one thread).

Every accepted connection is paired with a fresh connection to the target. Bytes are recorded in
both directions. After the 64-byte greetings (passed through as they come, so that peers sending
their greeting in parts do not deadlock) the stream is cut into ZMTP frames and each frame goes
through ``on_frame(relay_conn, direction, flags, body)``, which returns the list of frame bodies to
forward in its place (by default ``[body]``). ``direction`` is "c2s" (client to server, i.e.
towards the target) or "s2c".

The relay remembers which side closed each connection first ("client" or "server"). It runs until
``close()``; every wait on it is bounded.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

GREETING_SIZE = 64
_LONG = 0x02


def encode_frame(flags: int, body: bytes) -> bytes:
    if len(body) > 255:
        return bytes((flags | _LONG,)) + struct.pack(">Q", len(body)) + body
    return bytes((flags & ~_LONG,)) + bytes((len(body),)) + body


class _Stream:
    """One direction of one connection: records, parses and rewrites frames."""

    def __init__(self) -> None:
        self.captured = bytearray()
        self.greeting_left = GREETING_SIZE
        self.pending = bytearray()
        self.frames: list[tuple[int, bytes]] = []

    def feed(self, data: bytes, on_frame: Callable[[int, bytes], list[bytes]]) -> bytes:
        self.captured += data
        out = bytearray()
        if self.greeting_left:
            head = data[: self.greeting_left]
            self.greeting_left -= len(head)
            out += head
            data = data[len(head) :]
        self.pending += data
        while True:
            if len(self.pending) < 2:
                break
            flags = self.pending[0]
            if flags & _LONG:
                if len(self.pending) < 9:
                    break
                (size,) = struct.unpack(">Q", bytes(self.pending[1:9]))
                header = 9
            else:
                size, header = self.pending[1], 2
            if len(self.pending) < header + size:
                break
            body = bytes(self.pending[header : header + size])
            del self.pending[: header + size]
            self.frames.append((flags, body))
            for new_body in on_frame(flags, body):
                out += encode_frame(flags, new_body)
        return bytes(out)


class RelayConnection:
    def __init__(self, index: int, client: socket.socket, server: socket.socket) -> None:
        self.index = index
        self.client = client
        self.server = server
        self.streams = {"c2s": _Stream(), "s2c": _Stream()}
        self.closed_by: str | None = None
        self.state: dict[str, Any] = {}  # free for on_frame hooks

    def captured(self, direction: str | None = None) -> bytes:
        if direction is not None:
            return bytes(self.streams[direction].captured)
        return bytes(self.streams["c2s"].captured) + bytes(self.streams["s2c"].captured)


FrameHook = Callable[[RelayConnection, str, int, bytes], list[bytes]]


class Relay:
    def __init__(self, target_port: int, on_frame: FrameHook | None = None) -> None:
        self.target = ("127.0.0.1", target_port)
        self.on_frame = on_frame or (lambda conn, direction, flags, body: [body])
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.connections: list[RelayConnection] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.listener, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="zmtp-relay", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    # -- the relay thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(timeout=0.05):
                    if key.data is None:
                        self._accept()
                    else:
                        conn, side = key.data
                        self._pump(conn, side)
        except BaseException as exc:  # reported by close()
            self.errors.append(exc)

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        for s in (client, server):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            conn = RelayConnection(len(self.connections), client, server)
            self.connections.append(conn)
        self._selector.register(client, selectors.EVENT_READ, (conn, "client"))
        self._selector.register(server, selectors.EVENT_READ, (conn, "server"))

    def _pump(self, conn: RelayConnection, side: str) -> None:
        source, sink = (
            (conn.client, conn.server) if side == "client" else (conn.server, conn.client)
        )
        direction = "c2s" if side == "client" else "s2c"
        try:
            data = source.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn, side)
            return
        with self._lock:
            out = conn.streams[direction].feed(
                data, lambda flags, body: self.on_frame(conn, direction, flags, body)
            )
        if out:
            try:
                sink.setblocking(True)
                sink.settimeout(5)
                sink.sendall(out)
                sink.setblocking(False)
            except OSError:
                self._close(conn, "server" if side == "client" else "client")

    def _close(self, conn: RelayConnection, side: str) -> None:
        with self._lock:
            if conn.closed_by is None:
                conn.closed_by = side
        for s in (conn.client, conn.server):
            try:
                self._selector.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    # -- the test's side ---------------------------------------------------------------------

    def wait(self, predicate: Callable[[], bool], timeout_s: float = 5.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                if predicate():
                    return
            if self.errors:
                raise AssertionError(f"relay failed: {self.errors[0]!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"relay: {what or 'condition'} not met within {timeout_s}s")
            time.sleep(0.01)

    def captured(self) -> bytes:
        with self._lock:
            return b"".join(c.captured() for c in self.connections)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.connections:
            for s in (conn.client, conn.server):
                try:
                    s.close()
                except OSError:
                    pass
        self._selector.close()
        self.listener.close()
        assert not self._thread.is_alive(), "relay thread did not stop"
        if self.errors:
            raise AssertionError(f"relay failed: {self.errors[0]!r}")

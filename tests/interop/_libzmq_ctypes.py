"""Debian's libzmq5 (4.3.4, built with the draft API) through ctypes: a second libzmq peer for
what pyzmq's wheels leave out (draft socket types and draft options). A small pyzmq-like
surface: Context().socket(type), setsockopt/getsockopt, bind/connect, send/recv(_multipart)
honouring RCVTIMEO/SNDTIMEO (zmq.Again on timeout), close. ``load()`` is None when the library
is not installed (``apt-get install libzmq5``)."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno as _errno
from typing import Any

import zmq

LIBRARY = "/usr/lib/x86_64-linux-gnu/libzmq.so.5"
_MSG_T = ctypes.c_ubyte * 64
_BYTES_OPTIONS = {
    int(zmq.ROUTING_ID),
    int(zmq.SUBSCRIBE),
    int(zmq.UNSUBSCRIBE),
    int(zmq.LAST_ENDPOINT),
    int(zmq.CONNECT_ROUTING_ID),
    int(zmq.HELLO_MSG),
    int(zmq.DISCONNECT_MSG),
    int(zmq.HICCUP_MSG),
    int(zmq.ZAP_DOMAIN),
}
_libs: dict[str, Any] = {}


def load(path: str | None = None) -> Any:
    """The library at ``path`` (Debian's by default), loaded once; or None."""
    path = path or LIBRARY
    if path not in _libs:
        _libs[path] = _load(path)
    return _libs[path]


def _load(path: str) -> Any:
    try:
        lib = ctypes.CDLL(path, use_errno=True)
    except OSError:
        found = ctypes.util.find_library("zmq")
        if found is None:
            return None
        lib = ctypes.CDLL(found, use_errno=True)
    lib.zmq_ctx_new.restype = ctypes.c_void_p
    lib.zmq_socket.restype = ctypes.c_void_p
    lib.zmq_socket.argtypes = [ctypes.c_void_p, ctypes.c_int]
    for name in ("zmq_close", "zmq_ctx_term"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    for name in ("zmq_bind", "zmq_connect", "zmq_unbind", "zmq_disconnect"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.zmq_setsockopt.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_size_t,
    ]
    lib.zmq_getsockopt.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
    ]
    lib.zmq_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    lib.zmq_msg_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.zmq_msg_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.zmq_msg_data.restype = ctypes.c_void_p
    lib.zmq_msg_data.argtypes = [ctypes.c_void_p]
    lib.zmq_msg_size.restype = ctypes.c_size_t
    lib.zmq_msg_size.argtypes = [ctypes.c_void_p]
    for name in ("zmq_msg_init", "zmq_msg_close", "zmq_msg_more"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.zmq_msg_init_size.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    if hasattr(lib, "zmq_join"):  # The draft API (not in Debian's build).
        for name in ("zmq_join", "zmq_leave", "zmq_connect_peer"):
            getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.zmq_connect_peer.restype = ctypes.c_uint32
        lib.zmq_msg_set_group.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.zmq_msg_group.argtypes = [ctypes.c_void_p]
        lib.zmq_msg_group.restype = ctypes.c_char_p
        lib.zmq_msg_set_routing_id.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.zmq_msg_routing_id.argtypes = [ctypes.c_void_p]
        lib.zmq_msg_routing_id.restype = ctypes.c_uint32
    lib.zmq_strerror.restype = ctypes.c_char_p
    return lib


def _check(result: int) -> int:
    if result < 0:
        code = ctypes.get_errno()
        if code == _errno.EAGAIN:
            raise zmq.Again()
        raise zmq.ZMQError(code, zmq.strerror(code))
    return result


class Context:
    def __init__(self, path: str | None = None) -> None:
        self.lib = load(path)
        self.handle = self.lib.zmq_ctx_new()
        self.sockets: list[Socket] = []

    def socket(self, socket_type: int) -> Socket:
        handle = self.lib.zmq_socket(self.handle, int(socket_type))
        if not handle:
            _check(-1)
        sock = Socket(self.lib, handle)
        self.sockets.append(sock)
        return sock

    def destroy(self, linger: int = 0) -> None:
        for sock in self.sockets:
            if not sock.closed:
                sock.setsockopt(zmq.LINGER, linger)
                sock.close()
        self.lib.zmq_ctx_term(self.handle)


class Socket:
    def __init__(self, lib: Any, handle: int) -> None:
        self.lib = lib
        self.handle = handle
        self.closed = False

    def setsockopt(self, option: int, value: int | bytes) -> None:
        if isinstance(value, bytes):
            _check(self.lib.zmq_setsockopt(self.handle, int(option), value, len(value)))
        else:
            number = ctypes.c_int(value)
            size = ctypes.sizeof(number)
            _check(self.lib.zmq_setsockopt(self.handle, int(option), ctypes.byref(number), size))

    def getsockopt(self, option: int) -> int | bytes:
        if int(option) in _BYTES_OPTIONS:
            buffer = ctypes.create_string_buffer(256)
            size = ctypes.c_size_t(256)
            _check(self.lib.zmq_getsockopt(self.handle, int(option), buffer, ctypes.byref(size)))
            return buffer.raw[: size.value].rstrip(b"\0")
        number = ctypes.c_int()
        size = ctypes.c_size_t(ctypes.sizeof(number))
        _check(
            self.lib.zmq_getsockopt(
                self.handle, int(option), ctypes.byref(number), ctypes.byref(size)
            )
        )
        return number.value

    @property
    def last_endpoint(self) -> bytes:
        value = self.getsockopt(zmq.LAST_ENDPOINT)
        assert isinstance(value, bytes)
        return value

    def bind(self, endpoint: str) -> None:
        _check(self.lib.zmq_bind(self.handle, endpoint.encode()))

    def bind_to_random_port(self, address: str) -> int:
        self.bind(f"{address}:*")
        return int(self.last_endpoint.rsplit(b":", 1)[1])

    def connect(self, endpoint: str) -> None:
        _check(self.lib.zmq_connect(self.handle, endpoint.encode()))

    def send(self, data: bytes, flags: int = 0) -> None:
        _check(self.lib.zmq_send(self.handle, data, len(data), int(flags)))

    def send_multipart(self, frames: list[bytes], flags: int = 0) -> None:
        for frame in frames[:-1]:
            self.send(frame, flags | zmq.SNDMORE)
        self.send(frames[-1], flags)

    def recv(self, flags: int = 0) -> bytes:
        return self._recv(flags)[0]

    def _recv(self, flags: int) -> tuple[bytes, bool]:
        msg = _MSG_T()
        self.lib.zmq_msg_init(msg)
        try:
            _check(self.lib.zmq_msg_recv(msg, self.handle, int(flags)))
            data = ctypes.string_at(self.lib.zmq_msg_data(msg), self.lib.zmq_msg_size(msg))
            return data, bool(self.lib.zmq_msg_more(msg))
        finally:
            self.lib.zmq_msg_close(msg)

    def echo(self, flags: int = 0) -> bytes:
        """Receive a message and send it back as it is: what libzmq keeps in a message beside
        its body (a SERVER's or PEER's routing id) goes with it, though the draft functions
        that read and set it are not exported. Returns the body."""
        msg = _MSG_T()
        self.lib.zmq_msg_init(msg)
        try:
            _check(self.lib.zmq_msg_recv(msg, self.handle, int(flags)))
            data = ctypes.string_at(self.lib.zmq_msg_data(msg), self.lib.zmq_msg_size(msg))
            _check(self.lib.zmq_msg_send(msg, self.handle, 0))
            return data
        finally:
            self.lib.zmq_msg_close(msg)

    # The draft API, where the library has it.

    def join(self, group: bytes) -> None:
        _check(self.lib.zmq_join(self.handle, group))

    def leave(self, group: bytes) -> None:
        _check(self.lib.zmq_leave(self.handle, group))

    def connect_peer(self, endpoint: str) -> int:
        routing_id = self.lib.zmq_connect_peer(self.handle, endpoint.encode())
        if routing_id == 0:
            _check(-1)
        return int(routing_id)

    def send_draft(self, data: bytes, group: bytes | None = None, routing_id: int = 0) -> None:
        """A message with a group (RADIO) or a routing id (SERVER, PEER)."""
        msg = _MSG_T()
        _check(self.lib.zmq_msg_init_size(msg, len(data)))
        try:
            ctypes.memmove(self.lib.zmq_msg_data(msg), data, len(data))
            if group is not None:
                _check(self.lib.zmq_msg_set_group(msg, group))
            if routing_id:
                _check(self.lib.zmq_msg_set_routing_id(msg, routing_id))
            _check(self.lib.zmq_msg_send(msg, self.handle, 0))
        except BaseException:
            self.lib.zmq_msg_close(msg)
            raise

    def recv_draft(self, flags: int = 0) -> tuple[bytes, bytes, int]:
        """(body, group, routing id) of a received message."""
        msg = _MSG_T()
        self.lib.zmq_msg_init(msg)
        try:
            _check(self.lib.zmq_msg_recv(msg, self.handle, int(flags)))
            data = ctypes.string_at(self.lib.zmq_msg_data(msg), self.lib.zmq_msg_size(msg))
            group = self.lib.zmq_msg_group(msg) or b""
            return data, group, int(self.lib.zmq_msg_routing_id(msg))
        finally:
            self.lib.zmq_msg_close(msg)

    def recv_multipart(self, flags: int = 0) -> list[bytes]:
        frames = []
        while True:
            data, more = self._recv(flags)
            frames.append(data)
            if not more:
                return frames

    def close(self, linger: int | None = None) -> None:
        if not self.closed:
            if linger is not None:
                self.setsockopt(zmq.LINGER, linger)
            self.lib.zmq_close(self.handle)
            self.closed = True

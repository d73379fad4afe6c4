"""Socket: the pyzmq-compatible blocking socket API over the engine's SocketBase."""

from __future__ import annotations

import errno
import json
import pickle
import random
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .constants import Flag, PollEvent, SocketOption, SocketType
from .engine.socketbase import SocketBase
from .error import ZMQBindError, ZMQError
from .frame import Frame, MessageTracker
from .options import SPECS, check_value
from .routing.pipe import Queued
from .utils import z85

Opt = SocketOption
_NOBLOCK = int(Flag.DONTWAIT)
_SNDMORE = int(Flag.SNDMORE)
_DONE = MessageTracker()
_OWN_ATTRIBUTES = frozenset({"context", "copy_threshold"})


def _as_bytes(data: Any) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, Frame):
        return data.bytes
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(f"expected bytes or a buffer, got: {data!r}") from None


class _EndpointContext:
    """What bind/connect return: usable as a context manager that undoes them (pyzmq style)."""

    def __init__(self, socket: Socket, kind: str, endpoint: str) -> None:
        self.socket = socket
        self.kind = kind
        self.endpoint = endpoint

    def __enter__(self) -> Socket:
        return self.socket

    def __exit__(self, *exc: object) -> None:
        if self.socket.closed:
            return
        if self.kind == "bind":
            self.socket.unbind(self.endpoint)
        else:
            self.socket.disconnect(self.endpoint)

    def __repr__(self) -> str:
        return f"<SocketContext({self.kind}={self.endpoint!r})>"


class Socket:
    """A pyzmq-compatible socket (zmq.Socket). Not thread-safe, like every ZeroMQ socket."""

    _core_class: type[SocketBase] = SocketBase
    # Set in __init__ with object.__setattr__ (this class's __setattr__ is the options').
    _core: SocketBase
    _send_frames: list[bytes]
    _send_message: Callable[[Queued, int], None]
    _sends_bodies: bool  # A one-frame message is sent as its body alone (Routing.sends_bodies).
    _recv_frames: deque[bytes]
    _recv_message: Callable[[int], Queued]  # A one-frame message may be its body alone.

    def __init__(self, context: Any, socket_type: int, **kwargs: Any) -> None:
        # Mutated in place, never reassigned: __setattr__ here is the options' (and slow).
        object.__setattr__(self, "_recv_frames", deque())
        object.__setattr__(self, "_send_frames", [])
        object.__setattr__(self, "context", context)
        object.__setattr__(self, "copy_threshold", kwargs.get("copy_threshold", 65536))
        # The engine references only the core, so that an unreferenced Socket is collected and
        # closes itself as in pyzmq.
        core = self._core_class(context._runtime, socket_type)
        object.__setattr__(self, "_core", core)
        object.__setattr__(self, "_send_message", core.send_message)
        object.__setattr__(self, "_sends_bodies", core.routing.sends_bodies)
        object.__setattr__(self, "_recv_message", core.recv_message)
        object.__setattr__(self, "_initialized", True)

    # -- attributes as options ------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name.startswith("_")
            or name in self.__dict__
            or name in _OWN_ATTRIBUTES
            or "_initialized" not in self.__dict__
        ):
            object.__setattr__(self, name, value)
            return
        if name == "hwm":
            self.set_hwm(value)
            return
        upper = name.upper()
        if upper in SocketOption.__members__:
            self.set(SocketOption[upper], value)
            return
        if hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        raise AttributeError(f"Socket has no such option: {upper}")

    @property
    def closed(self) -> bool:
        return self._core.closed

    @property
    def socket_type(self) -> SocketType:
        return self._core.socket_type

    @property
    def last_endpoint(self) -> bytes:
        return self._core.last_endpoint

    def fileno(self) -> int:
        return self._core.fileno()

    @property
    def type(self) -> SocketType:  # noqa: A003 - pyzmq's name
        return self.socket_type

    @property
    def hwm(self) -> int:
        return self.get_hwm()

    @hwm.setter
    def hwm(self, value: int) -> None:
        self.set_hwm(value)

    def get_hwm(self) -> int:
        return self.get(Opt.SNDHWM)

    def set_hwm(self, value: int) -> None:
        self.set(Opt.SNDHWM, value)
        self.set(Opt.RCVHWM, value)

    # -- options ------------------------------------------------------------------------------

    def set(self, option: int, optval: Any) -> None:
        core = self._core
        core.check_open()
        value = check_value(option, optval)
        if option == Opt.SUBSCRIBE or option == Opt.UNSUBSCRIBE:
            routing: Any = core.routing
            if not hasattr(routing, "subscribe"):
                raise ZMQError(errno.EINVAL)
            core.process_mailbox()
            assert isinstance(value, bytes)
            if option == Opt.SUBSCRIBE:
                routing.subscribe(value)
            else:
                routing.unsubscribe(value)
            return
        core.options.set(option, value)

    setsockopt = set

    def get(self, option: int) -> Any:
        core = self._core
        core.check_open()
        if option == Opt.EVENTS:
            return core.events()
        if option == Opt.RCVMORE:
            return int(bool(self._recv_frames))
        if option == Opt.FD:
            return core.fileno()
        if option == Opt.LAST_ENDPOINT:
            return core.last_endpoint
        if option in (Opt.PLAIN_SERVER, Opt.CURVE_SERVER):
            # As libzmq: a server flag reads 1 only while that mechanism is the one in force.
            mechanism = 1 if option == Opt.PLAIN_SERVER else 2
            options = core.options
            return int(options.as_server and options.int(Opt.MECHANISM) == mechanism)
        if option in (Opt.CURVE_PUBLICKEY, Opt.CURVE_SECRETKEY, Opt.CURVE_SERVERKEY):
            key = core.options.values[option]
            assert isinstance(key, bytes)
            return z85.encode(key) if key else key
        spec = SPECS.get(option)
        if spec is None or not spec.readable:
            raise ZMQError(errno.EINVAL)
        return core.options.values[option]

    getsockopt = get

    def set_string(self, option: int, optval: str, encoding: str = "utf-8") -> None:
        if not isinstance(optval, str):
            raise TypeError(f"strings only, not {type(optval)}")
        self.set(option, optval.encode(encoding))

    setsockopt_string = set_string
    setsockopt_unicode = set_string

    def get_string(self, option: int, encoding: str = "utf-8") -> str:
        value = self.get(option)
        if not isinstance(value, bytes):
            raise TypeError(f"option {option} is not a string option")
        return value.decode(encoding)

    getsockopt_string = get_string
    getsockopt_unicode = get_string

    def subscribe(self, topic: str | bytes) -> None:
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.set(Opt.SUBSCRIBE, topic)

    def unsubscribe(self, topic: str | bytes) -> None:
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.set(Opt.UNSUBSCRIBE, topic)

    # -- endpoints ----------------------------------------------------------------------------

    def bind(self, addr: str) -> _EndpointContext:
        self._core.bind(addr)
        return _EndpointContext(self, "bind", addr)

    def connect(self, addr: str) -> _EndpointContext:
        self._core.connect(addr)
        return _EndpointContext(self, "connect", addr)

    def bind_to_random_port(
        self,
        addr: str,
        min_port: int = 49152,
        max_port: int = 65536,
        max_tries: int = 100,
    ) -> int:
        if min_port == 49152 and max_port == 65536 and max_tries == 100:
            # The defaults: let the OS pick a free ephemeral port, as pyzmq does.
            self.bind(f"{addr}:*")
            return int(self.last_endpoint.decode().rsplit(":", 1)[-1])
        for _ in range(max_tries):
            port = random.randrange(min_port, max_port)
            try:
                self.bind(f"{addr}:{port}")
            except ZMQError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
            else:
                return port
        raise ZMQBindError("Could not bind socket to random port.")

    def unbind(self, addr: str) -> None:
        self._core.unbind(addr)

    def disconnect(self, addr: str) -> None:
        self._core.disconnect(addr)

    # -- sending ------------------------------------------------------------------------------

    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | None = None,
    ) -> MessageTracker | None:
        frame = data if type(data) is bytes else _as_bytes(data)
        if not flags and not self._send_frames:
            # The usual case first: a one-frame message, for most kinds without a list around.
            self._send_message(frame if self._sends_bodies else [frame], 0)
            return _DONE if track else None
        flags = int(flags)  # zmq.SNDMORE is an IntFlag, whose & is a Python call (~1.5 µs).
        if flags & _SNDMORE:
            if not self._send_frames:
                self._core.wait_writable(flags)
            self._send_frames.append(frame)
        elif self._send_frames:
            frames = self._send_frames
            frames.append(frame)
            object.__setattr__(self, "_send_frames", [])
            self._send_message(frames, flags)
        else:
            self._send_message(frame if self._sends_bodies else [frame], flags)
        return _DONE if track else None

    def send_multipart(
        self,
        msg_parts: Sequence[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kw: Any,
    ) -> MessageTracker | None:
        frames = [_as_bytes(part) for part in msg_parts]
        if not frames:
            raise ValueError("a message needs at least one part")
        if self._send_frames:
            frames = self._send_frames + frames
            object.__setattr__(self, "_send_frames", [])
        self._send_message(frames, int(flags) & ~_SNDMORE)
        return _DONE if track else None

    def send_string(
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8", **kw: Any
    ) -> Any:
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags=flags, copy=copy, **kw)

    send_unicode = send_string

    def send_pyobj(
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL, **kw: Any
    ) -> Any:
        return self.send(pickle.dumps(obj, protocol), flags=flags, **kw)

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> Any:
        send_kwargs = {
            k: kwargs.pop(k) for k in ("copy", "track", "routing_id", "group") if k in kwargs
        }
        return self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags=flags, **send_kwargs)

    def send_serialized(
        self,
        msg: Any,
        serialize: Callable[[Any], Sequence[Any]],
        flags: int = 0,
        copy: bool = True,
        **kwargs: Any,
    ) -> Any:
        return self.send_multipart(serialize(msg), flags=flags, copy=copy, **kwargs)

    # -- receiving ----------------------------------------------------------------------------

    def _next_frame(self, flags: int) -> tuple[bytes, bool]:
        frames = self._recv_frames
        if frames:
            frame = frames.popleft()
            return frame, bool(frames)
        message = self._recv_message(flags)
        if isinstance(message, bytes):
            return message, False
        if len(message) == 1:
            return message[0], False
        frames.extend(message)
        return frames.popleft(), True

    def _as_frame(self, data: bytes, more: bool) -> Frame:
        frame = Frame(data)
        frame.more = more
        peer = self._core.last_peer
        if peer is not None:
            frame._metadata = peer.metadata
        return frame

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        if not self._recv_frames and copy:
            # The usual case, kept to one call into the core (the per-message cost matters).
            message = self._recv_message(flags)
            if isinstance(message, bytes):
                return message
            if len(message) == 1:
                return message[0]
            self._recv_frames.extend(message)
            return self._recv_frames.popleft()
        data, more = self._next_frame(flags)
        return data if copy else self._as_frame(data, more)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        if self._recv_frames:
            frames = list(self._recv_frames)
            self._recv_frames.clear()
        else:
            message = self._recv_message(flags)
            frames = [message] if isinstance(message, bytes) else list(message)
        if copy:
            return frames
        last = len(frames) - 1
        return [self._as_frame(data, i < last) for i, data in enumerate(frames)]

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:
        return self.recv(flags=flags).decode(encoding)

    recv_unicode = recv_string

    def recv_pyobj(self, flags: int = 0) -> Any:
        return pickle.loads(self.recv(flags=flags))

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        return json.loads(self.recv(flags=flags).decode("utf-8"), **kwargs)

    def recv_serialized(
        self, deserialize: Callable[[list[Any]], Any], flags: int = 0, copy: bool = True
    ) -> Any:
        return deserialize(self.recv_multipart(flags=flags, copy=copy))

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive one frame into ``buffer``; returns its full size (it is truncated to fit)."""
        view = memoryview(buffer).cast("B")
        if nbytes < 0:
            raise ValueError(f"nbytes={nbytes!r} must be non-negative")
        limit = min(nbytes, len(view)) if nbytes else len(view)
        data, _ = self._next_frame(flags)
        count = min(limit, len(data))
        view[:count] = data[:count]
        return len(data)

    # -- polling and closing ------------------------------------------------------------------

    def poll(self, timeout: int | None = None, flags: int = PollEvent.POLLIN) -> int:
        if self.closed:
            raise ZMQError(errno.ENOTSUP)
        return self._core.poll(timeout, flags)

    def close(self, linger: int | None = None) -> None:
        self._core.close(linger)

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        core = self.__dict__.get("_core")
        if core is not None and not core.closed:
            warnings.warn(f"unclosed socket {self!r}", ResourceWarning, stacklevel=2)
            try:
                core.close()
            except Exception:
                pass

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<purezmq.Socket({self.socket_type!r}){state} at {id(self):#x}>"

    @property
    def underlying(self) -> int:
        return id(self)


def _option_property(option: SocketOption) -> property:
    def get(self: Socket) -> Any:
        return self.get(option)

    def set_(self: Socket, value: Any) -> None:
        self.set(option, value)

    return property(get, set_, doc=f"The {option.name} option, as an attribute (pyzmq's sugar).")


# Options read as attributes (``sock.linger``) are properties rather than a __getattr__: a class
# with __getattr__ makes every attribute lookup on its instances ~5x slower, hot paths included.
for _name, _option in SocketOption.__members__.items():
    for _spelling in (_name.lower(), _name):
        if not hasattr(Socket, _spelling):
            setattr(Socket, _spelling, _option_property(_option))

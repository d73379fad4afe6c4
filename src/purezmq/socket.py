"""Socket: the pyzmq-compatible blocking socket API over the engine's SocketBase.

A Socket owns its core (``SocketBase``) and closes it when collected unclosed, with a
ResourceWarning, as pyzmq's. A *shadow* (``Socket.shadow(sock)``, ``Socket.shadow(
sock.underlying)``, ``Socket(shadow=...)``, ``copy.copy(sock)``) is another Socket object over
the same core: same connections, queues and options; closing either closes the core; a shadow
never closes it when collected, and keeps its original alive.
"""

from __future__ import annotations

import errno
import json
import pickle
import random
import types
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from . import _single_part
from .constants import Errno, Event, Flag, PollEvent, SocketOption, SocketType
from .engine.socketbase import SocketBase
from .engine.threadsafe import THREAD_SAFE_TYPES, ThreadSafeSocketBase, connect_peer, join
from .error import ZMQBindError, ZMQError, strerror
from .frame import FINISHED_TRACKER, Frame, MessageTracker, _view
from .routing.pipe import Queued

Opt = SocketOption
_NOBLOCK = int(Flag.DONTWAIT)
_SNDMORE = int(Flag.SNDMORE)
_RCVMORE = int(Opt.RCVMORE)
_POLLIN = int(PollEvent.POLLIN)
#: The tracker of a send whose buffer is free at once (see frame.py): every purezmq send's.
_DONE = FINISHED_TRACKER
_OWN_ATTRIBUTES = frozenset({"context", "copy_threshold"})
#: pyzmq's zmq.COPY_THRESHOLD: the default of ``copy_threshold``.
COPY_THRESHOLD = 65536

#: The Socket that owns each live core, by the core's id (what ``underlying`` gives): how
#: ``Socket.shadow(address)`` finds a socket from its address.
_OWNERS: weakref.WeakValueDictionary[int, Socket] = weakref.WeakValueDictionary()


def socket_at(address: Any) -> Socket:
    """The live Socket that ``address`` names: a Socket (itself), or what a Socket's
    ``underlying`` gave (the owning Socket of that core). ValueError for anything else."""
    if isinstance(address, Socket):
        return address
    if isinstance(address, int) and not isinstance(address, bool):
        found = _OWNERS.get(address)
        if found is not None and not found._core.closed:
            return found
        raise ValueError(f"no open purezmq socket at address {address:#x}")
    raise ValueError(
        f"cannot shadow {address!r}: a purezmq Socket or its underlying address (an int)"
    )


def _as_bytes(data: Any) -> bytes:
    """A message part as bytes: bytes as they are, a Frame's bytes, any other contiguous buffer
    copied (pyzmq's errors for the rest)."""
    if type(data) is bytes:
        return data
    if isinstance(data, Frame):
        return data.bytes
    if isinstance(data, str):
        raise TypeError("unicode not allowed, use send_string")
    return bytes(_view(data))


def _as_flags(flags: Any) -> int:
    if isinstance(flags, (int, float)):
        return int(flags)
    raise TypeError("an integer is required")


def _type_name(socket_type: int) -> str:
    try:
        return SocketType(socket_type).name
    except ValueError:
        return ""  # (The core says EINVAL.)


def _check_addr(addr: Any) -> str:
    if isinstance(addr, str):
        return addr
    if isinstance(addr, bytes):
        return addr.decode("utf-8")
    raise TypeError(f"Expected addr to be str, got addr={addr!r}")


def _with_addr(exc: ZMQError, addr: str) -> ZMQError:
    """pyzmq's bind/connect error: the text, then the address given."""
    if type(exc) is ZMQError and "(addr=" not in exc.strerror:
        return ZMQError(exc.errno, f"{exc.strerror} (addr={addr!r})")
    return exc


def _short_repr(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 32 else text[:29] + "..."


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
    """A pyzmq-compatible socket (zmq.Socket). Not thread-safe, like every ZeroMQ socket.

    ``Socket(context, socket_type)``, usually made by ``Context.socket``; ``Socket(sock)`` or
    ``Socket(shadow=sock or sock.underlying)`` a shadow (see the module's help)."""

    #: pyzmq's are typing.Generic: code annotates ``zmq.Socket[Any]`` in class bodies (ipykernel).
    __class_getitem__: ClassVar[Any] = classmethod(types.GenericAlias)

    _core_class: type[SocketBase] = SocketBase
    #: How repr names the class (a subclass is named by its module and qualified name).
    _repr_cls = "purezmq.Socket"
    # Set in __init__ with object.__setattr__ (this class's __setattr__ is the options').
    _core: SocketBase
    _send_frames: list[bytes]
    _send_message: Callable[[Queued, int], None]
    _sends_bodies: bool  # A one-frame message is sent as its body alone (Routing.sends_bodies).
    _recv_frames: deque[bytes]
    _recv_message: Callable[[int], Queued]  # A one-frame message may be its body alone.
    #: For the single-part (draft) types: what goes along with a body ("routing_id", "group"
    #: or ""; see _single_part); None for the others.
    _tag: str | None
    #: This object shadows a socket it does not own: collected, it leaves the core open.
    _shadow = False
    context: Any
    copy_threshold: int

    def __init__(
        self,
        ctx_or_socket: Any = None,
        socket_type: int = 0,
        *,
        shadow: Any = 0,
        copy_threshold: int | None = None,
    ) -> None:
        if isinstance(ctx_or_socket, Socket):
            shadow, ctx_or_socket = ctx_or_socket, None
        if shadow:
            original = socket_at(shadow)
            core = original._core
            context = ctx_or_socket if ctx_or_socket is not None else original.context
            # Kept alive with the shadow: collected, the original would close the core.
            object.__setattr__(self, "_shadowed", original)
            object.__setattr__(self, "_shadow", True)
        else:
            if ctx_or_socket is None:
                raise TypeError("context must be specified")
            runtime = getattr(ctx_or_socket, "_runtime", None)
            if runtime is None:
                raise TypeError(f"expected a purezmq Context, got {ctx_or_socket!r}")
            if not isinstance(socket_type, int):
                raise TypeError("an integer is required")
            context = ctx_or_socket
            core_class = self._core_class
            if core_class is SocketBase and _type_name(socket_type) in THREAD_SAFE_TYPES:
                core_class = ThreadSafeSocketBase
            core = core_class(runtime, socket_type)
        # Mutated in place, never reassigned: __setattr__ here is the options' (and slow).
        object.__setattr__(self, "_recv_frames", deque())
        object.__setattr__(self, "_send_frames", [])
        object.__setattr__(self, "context", context)
        threshold = COPY_THRESHOLD if copy_threshold is None else copy_threshold
        object.__setattr__(self, "copy_threshold", threshold)
        # The engine references only the core, so that an unreferenced Socket is collected and
        # closes itself as in pyzmq.
        object.__setattr__(self, "_core", core)
        object.__setattr__(self, "_send_message", core.send_message)
        object.__setattr__(self, "_sends_bodies", core.routing.sends_bodies)
        object.__setattr__(self, "_recv_message", core.recv_message)
        tag = _single_part.TAG_BY_TYPE.get(core.socket_type_name)
        object.__setattr__(self, "_tag", tag)
        if tag:
            # A message sent without its routing id or group (send's usual way): none.
            empty: Any = 0 if tag == "routing_id" else b""
            send_message = core.send_message

            def send_untagged(message: Any, flags: int) -> None:
                if type(message) is not tuple:
                    message = (empty, message[0])
                send_message(message, flags)

            object.__setattr__(self, "_send_message", send_untagged)
        if not self._shadow:
            _OWNERS.setdefault(id(core), self)
        object.__setattr__(self, "_initialized", True)

    @classmethod
    def shadow(cls, address: Any) -> Socket:
        """A new Socket over the same core as ``address``: a purezmq Socket, or the int its
        ``underlying`` gave (pyzmq's: a libzmq socket's address). ValueError when it names no
        open purezmq socket."""
        return cls(shadow=address)

    @property
    def underlying(self) -> int:
        """The socket's address: an int that ``Socket.shadow`` takes back to this socket's core
        (the core's id; 0 once closed, as pyzmq's). Only meaningful in this process."""
        core = self._core
        return 0 if core.closed else id(core)

    def __copy__(self) -> Socket:
        """A shadow of this socket (as pyzmq's copy.copy and copy.deepcopy)."""
        return self.__class__.shadow(self)

    def __deepcopy__(self, memo: Any) -> Socket:
        return self.__class__.shadow(self)

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
        """Whether the socket (this object or any shadow of it) was closed."""
        return self._core.closed

    @property
    def socket_type(self) -> SocketType:
        """Deprecated (as in pyzmq): use ``type``."""
        warnings.warn("Socket.socket_type is deprecated, use Socket.type", DeprecationWarning, 2)
        return self._core.socket_type

    @property
    def last_endpoint(self) -> bytes:
        return self.get(Opt.LAST_ENDPOINT)

    def fileno(self) -> int:
        """The socket's FD (see the FD option): readable means "look at EVENTS"."""
        core = self._core
        core.check_open()
        return core.fileno()

    @property
    def type(self) -> SocketType:  # noqa: A003 - pyzmq's name
        """The socket type (zmq.PUSH...), a SocketType."""
        return self._core.socket_type

    @property
    def hwm(self) -> int:
        """SNDHWM on get; SNDHWM and RCVHWM on set (pyzmq's)."""
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
        """zmq_setsockopt: pyzmq's TypeErrors for a value of the wrong type (a str: use
        set_string), libzmq's ZMQError(EINVAL) for an option or value it refuses."""
        if not isinstance(option, int):
            raise TypeError("an integer is required")
        self._core.setsockopt(option, optval)

    setsockopt = set

    def get(self, option: int) -> Any:
        """zmq_getsockopt: an int, or bytes for the options that are bytes or strings."""
        if option == _RCVMORE:
            self._core.check_open()
            return int(bool(self._recv_frames))
        if not isinstance(option, int):
            raise TypeError("an integer is required")
        return self._core.getsockopt(option)

    getsockopt = get

    def set_string(self, option: int, optval: str, encoding: str = "utf-8") -> None:
        """Set a string option from a str (encoded with ``encoding``)."""
        if not isinstance(optval, str):
            raise TypeError(f"strings only, not {type(optval)}: {optval!r}")
        self.set(option, optval.encode(encoding))

    setsockopt_string = set_string
    setsockopt_unicode = set_string

    def get_string(self, option: int, encoding: str = "utf-8") -> str:
        """Get a string option as a str (decoded with ``encoding``)."""
        value = self.get(option)
        if not isinstance(value, bytes):
            raise TypeError(f"option {int(option)} will not return a string to be decoded")
        return value.decode(encoding)

    getsockopt_string = get_string
    getsockopt_unicode = get_string

    def subscribe(self, topic: str | bytes) -> None:
        """SUBSCRIBE to ``topic`` (a str is encoded as utf-8)."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.set(Opt.SUBSCRIBE, topic)

    def unsubscribe(self, topic: str | bytes) -> None:
        """UNSUBSCRIBE from ``topic`` (a str is encoded as utf-8)."""
        if isinstance(topic, str):
            topic = topic.encode("utf-8")
        self.set(Opt.UNSUBSCRIBE, topic)

    # -- endpoints ----------------------------------------------------------------------------

    def _no_io_thread(self, addr: str) -> None:
        """libzmq's EMTHREAD: a context started with IO_THREADS 0 has only inproc."""
        if getattr(self.context, "_io_threads_at_start", 1) == 0 and not addr.startswith(
            "inproc://"
        ):
            raise ZMQError(Errno.EMTHREAD, f"{strerror(Errno.EMTHREAD)} (addr={addr!r})")

    def bind(self, addr: str) -> _EndpointContext:
        """Bind to ``addr``; usable as a context manager that unbinds (pyzmq's)."""
        text = _check_addr(addr)
        self._no_io_thread(text)
        try:
            actual = self._core.bind(text)
        except ZMQError as exc:
            raise _with_addr(exc, text) from None
        return _EndpointContext(self, "bind", actual)

    def connect(self, addr: str) -> _EndpointContext:
        """Connect to ``addr``; usable as a context manager that disconnects (pyzmq's)."""
        text = _check_addr(addr)
        self._no_io_thread(text)
        try:
            self._core.connect(text)
        except ZMQError as exc:
            raise _with_addr(exc, text) from None
        return _EndpointContext(self, "connect", text)

    def bind_to_random_port(
        self,
        addr: str,
        min_port: int = 49152,
        max_port: int = 65536,
        max_tries: int = 100,
    ) -> int:
        """Bind to ``addr`` on a port in [min_port, max_port); return the port. With the
        default range the system picks a free port; otherwise up to ``max_tries`` random ports
        are tried (ZMQBindError when none was free)."""
        if min_port == 49152 and max_port == 65536:
            # The default range: let the OS pick a free ephemeral port, as pyzmq does.
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

    def connect_peer(self, addr: str) -> int:
        """Connect a PEER socket to ``addr``; returns the routing id that addresses the new peer
        (zmq_connect_peer). ENOTSUP on other types, EFAULT with IMMEDIATE set."""
        text = _check_addr(addr)
        self._no_io_thread(text)
        try:
            return connect_peer(self._core, text)
        except ZMQError as exc:
            raise _with_addr(exc, text) from None

    def join(self, group: str | bytes) -> None:
        """Join a RADIO-DISH group (DISH only; a str is encoded as utf-8). EINVAL for a group
        already joined or longer than 255 bytes."""
        join(self._core, _single_part.group_bytes(group))

    def leave(self, group: str | bytes) -> None:
        """Leave a RADIO-DISH group (DISH only). EINVAL for a group not joined."""
        join(self._core, _single_part.group_bytes(group), joining=False)

    def unbind(self, addr: str) -> None:
        self._core.unbind(_check_addr(addr))

    def disconnect(self, addr: str) -> None:
        self._core.disconnect(_check_addr(addr))

    # -- sending ------------------------------------------------------------------------------

    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | bytes | None = None,
    ) -> MessageTracker | None:
        """Send one frame: bytes, a Frame or any contiguous buffer. Returns a MessageTracker
        when a tracked Frame is sent or with ``copy=False, track=True`` (done at once: purezmq
        holds no buffer of the caller's once send returns; see purezmq.frame), else None."""
        if type(data) is bytes:
            frame = data
            result = None if copy else self._result(data, frame, copy, track)
        else:
            frame = _as_bytes(data)
            result = self._result(data, frame, copy, track)
            if self._tag and isinstance(data, Frame):
                routing_id, group = _single_part.addressed(data, routing_id, group)
        if not flags and not self._send_frames and routing_id is None and group is None:
            # The usual case first: a one-frame message, for most kinds without a list around.
            self._send_message(frame if self._sends_bodies else [frame], 0)
            return result
        # zmq.SNDMORE is an IntFlag, whose & is a Python call (~1.5 µs).
        flags = flags if type(flags) is int else _as_flags(flags)
        if self._tag is not None:
            message = _single_part.outgoing(self._tag, frame, flags, routing_id, group)
            self._send_message(message, flags)
            return result
        if flags & _SNDMORE:
            if not self._send_frames:
                self._core.wait_writable(flags, frame)
            self._send_frames.append(frame)
        elif self._send_frames:
            frames = self._send_frames
            frames.append(frame)
            object.__setattr__(self, "_send_frames", [])
            self._send_message(frames, flags)
        else:
            self._send_message(frame if self._sends_bodies else [frame], flags)
        return result

    def _result(self, data: Any, frame: bytes, copy: bool, track: bool) -> MessageTracker | None:
        """What send returns, as pyzmq: a tracked Frame's tracker (ValueError for ``track``
        with a Frame made without one); with ``copy=False``, a tracker when ``track`` or when
        the frame is shorter than ``copy_threshold`` (pyzmq copies those, and says so with a
        finished tracker); else None. purezmq's trackers are all done (see purezmq.frame)."""
        if isinstance(data, Frame):
            if data.tracker is not None:
                return data.tracker
            if track:
                raise ValueError("Not a tracked message")
            return None
        if copy:
            return None
        return _DONE if track or len(frame) < self.copy_threshold else None

    def send_multipart(
        self,
        msg_parts: Sequence[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | bytes | None = None,
    ) -> MessageTracker | None:
        """Send a message of several frames (each bytes, a Frame or a contiguous buffer); the
        tracker as send's, for the last frame."""
        frames, result = self._frames_of(msg_parts, copy, track)
        if self._send_frames:
            frames = self._send_frames + frames
            object.__setattr__(self, "_send_frames", [])
        flags = flags if type(flags) is int else _as_flags(flags)
        if self._tag is not None:
            flags &= ~_SNDMORE
            message = _single_part.outgoing_parts(
                self._tag, msg_parts, frames, flags, routing_id, group
            )
            self._send_message(message, flags)
            return result
        self._send_message(frames, flags & ~_SNDMORE)
        return result

    def _frames_of(
        self, msg_parts: Any, copy: bool, track: bool
    ) -> tuple[list[bytes], MessageTracker | None]:
        """A message's frames, and what sending them returns (the tracker as send's, for the
        last frame); the errors pyzmq's send_multipart raises for bad parts. (Also the asyncio
        socket's.)"""
        if type(msg_parts) is not list and type(msg_parts) is not tuple:
            msg_parts = list(msg_parts)  # (An iterator: read once.)
        try:
            frames = [part if type(part) is bytes else _as_bytes(part) for part in msg_parts]
        except (TypeError, BufferError):
            for i, part in enumerate(msg_parts):
                try:
                    _as_bytes(part)
                except TypeError:
                    raise TypeError(
                        f"Frame {i} ({_short_repr(part)}) does not support the buffer interface."
                    ) from None
            raise
        if not frames:
            raise IndexError("send_multipart needs at least one frame, got an empty message")
        result: MessageTracker | None = None
        if track:
            for part, frame in zip(msg_parts, frames, strict=True):
                result = self._result(part, frame, copy, True)
        elif not copy:
            result = self._result(msg_parts[-1], frames[-1], False, False)
        else:
            last = msg_parts[-1]
            if type(last) is not bytes and isinstance(last, Frame):
                result = last.tracker
        return frames, result

    def send_string(
        self,
        u: str,
        flags: int = 0,
        copy: bool = True,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> MessageTracker | None:
        """Send a str, encoded with ``encoding``."""
        if not isinstance(u, str):
            raise TypeError("str objects only")
        return self.send(u.encode(encoding), flags=flags, copy=copy, **kwargs)

    send_unicode = send_string

    def send_pyobj(
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL, **kwargs: Any
    ) -> MessageTracker | None:
        """Send a Python object, pickled with ``protocol``."""
        return self.send(pickle.dumps(obj, protocol), flags=flags, **kwargs)

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> MessageTracker | None:
        """Send ``obj`` as JSON (utf-8). ``copy``, ``track``, ``routing_id`` and ``group`` go to
        send, any other keyword to json.dumps."""
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
    ) -> MessageTracker | None:
        """Send ``serialize(msg)`` (a list of frames) as one message."""
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
        peer = self._core.last_peer
        return Frame._received(data, more, None if peer is None else peer.metadata)

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one frame: bytes, or a Frame with ``copy=False``."""
        frames = self._recv_frames
        if copy:
            # The usual cases, kept to one call into the core or none (the per-message cost
            # matters): the next frame of a message begun (a single-part socket never has
            # one), or a new message.
            if frames:
                return frames.popleft()
            message = self._recv_message(flags)
            if isinstance(message, bytes):
                return message
            if len(message) == 1:
                return message[0]
            if type(message) is tuple:
                return message[1]  # (A single-part socket's routing id or group, and body.)
            frames.extend(message)
            return frames.popleft()
        if self._tag is not None:
            message = self._recv_message(flags)
            peer = self._core.last_peer
            metadata = None if peer is None else peer.metadata
            return _single_part.incoming(self._tag, message, copy, metadata)
        data, more = self._next_frame(flags)
        return data if copy else self._as_frame(data, more)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        """Receive a whole message (what is left of it): bytes, or Frames with ``copy=False``."""
        if self._tag is not None:
            return [self.recv(flags, copy)]
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
        """Receive a frame as a str, decoded with ``encoding``."""
        return self.recv(flags=flags).decode(encoding)

    recv_unicode = recv_string

    def recv_pyobj(self, flags: int = 0) -> Any:
        """Receive a pickled Python object."""
        return pickle.loads(self.recv(flags=flags))

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        """Receive a JSON document (``kwargs`` go to json.loads)."""
        return json.loads(self.recv(flags=flags).decode("utf-8"), **kwargs)

    def recv_serialized(
        self, deserialize: Callable[[list[Any]], Any], flags: int = 0, copy: bool = True
    ) -> Any:
        """Receive a message and return ``deserialize(frames)``."""
        return deserialize(self.recv_multipart(flags=flags, copy=copy))

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive one frame into ``buffer``; returns its full size (it is truncated to fit)."""
        view = memoryview(buffer).cast("B")
        if nbytes < 0:
            raise ValueError(f"nbytes={nbytes!r} must be non-negative")
        limit = min(nbytes, len(view)) if nbytes else len(view)
        data = self.recv(flags) if self._tag is not None else self._next_frame(flags)[0]
        count = min(limit, len(data))
        view[:count] = data[:count]
        return len(data)

    # -- polling and closing ------------------------------------------------------------------

    def poll(self, timeout: int | None = None, flags: int = _POLLIN) -> int:
        """Wait until the socket can receive (POLLIN) and/or send (POLLOUT), at most
        ``timeout`` ms (None or negative: forever); the events ready, 0 on timeout."""
        if self.closed:
            raise ZMQError(errno.ENOTSUP)
        if timeout is not None and not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout must be a number of milliseconds, not {timeout!r}")
        flags = flags if type(flags) is int else _as_flags(flags)
        return self._core.poll(timeout, flags)

    def set_compression(
        self, codecs: Sequence[str] | None = ("zstd", "lz4", "zlib"), threshold: int = 256
    ) -> None:
        """Compress message frames on connections whose peer is a purezmq socket that also
        has it on (purezmq's own; nothing changes with other peers, libzmq included): each
        side sends with its first codec the other accepts. ``codecs`` in order of preference
        among "zstd" and "lz4" (the ``compression`` extra) and "zlib"; frames shorter than
        ``threshold`` bytes go as they are. None turns it off. For connections made from now
        on."""
        if not codecs:
            self._core.options.compression = None
            return
        if isinstance(codecs, str):
            codecs = (codecs,)
        from .protocol import compression

        usable = compression.available(codecs)  # (ValueError for an unknown name.)
        missing = [name for name in codecs if name not in usable]
        if missing:
            raise ImportError(
                f"codec {missing[0]!r} needs its package: pip install 'purezmq[compression]'"
            )
        if not isinstance(threshold, int) or threshold < 0:
            raise ValueError(f"threshold must be a number of bytes >= 0, not {threshold!r}")
        self._core.options.compression = (tuple(codecs), threshold)

    def stats(self) -> dict[str, Any]:
        """What this socket did and holds (purezmq's; pyzmq has none): messages and wire bytes
        in and out, connections, disconnections and failed handshakes since it was made, and
        one entry per current tcp/ipc/ws peer: its endpoint, address, whether connected, its
        routing id, and the messages queued to it and from it. A read costs the socket
        nothing: the sessions count per batch. (inproc traffic is not counted.)"""
        return self._core.stats()

    #: The PAIR that get_monitor_socket() made (pyzmq's attribute).
    _monitor_socket: Any = None

    def monitor(
        self,
        addr: str | bytes | None,
        events: int = Event.ALL,
        version: int = 1,
        socket_type: int = SocketType.PAIR,
    ) -> None:
        """Publish this socket's events on an inproc PAIR bound to ``addr`` (zmq_socket_monitor);
        ``addr`` None stops (MONITOR_STOPPED is the last event). ``events``: a mask of EVENT_*.
        purezmq's extension: ``version=2`` (zmq_socket_monitor_versioned's format: local and remote
        endpoints) and ``socket_type`` PUB or PUSH for the internal socket."""
        if isinstance(addr, bytes):
            addr = addr.decode("utf-8")
        elif addr is not None and not isinstance(addr, str):
            raise TypeError(f"Expected addr to be str, got addr={addr!r}")
        if not isinstance(events, int):
            raise TypeError("an integer is required")
        self._core.monitor(addr, events, version, socket_type)

    def get_monitor_socket(self, events: int | None = None, addr: str | None = None) -> Socket:
        """A PAIR socket connected to this socket's monitor (started with ``events``, EVENT_ALL by
        default, on ``addr`` or an inproc endpoint of its own); the same one while it is open."""
        current = self._monitor_socket
        if current is not None:
            if not current.closed:
                return current
            self._monitor_socket = None
        if addr is None:
            addr = f"inproc://monitor.s-{id(self._core)}"
        self.monitor(addr, Event.ALL if events is None else events)
        sock = self.context.socket(SocketType.PAIR)
        sock.connect(addr)
        self._monitor_socket = sock
        return sock

    def disable_monitor(self) -> None:
        """Stop the monitor that get_monitor_socket started (its PAIR receives MONITOR_STOPPED)."""
        self._monitor_socket = None
        self.monitor(None, 0)

    def close(self, linger: int | None = None) -> None:
        """Close the socket (and its shadows), with ``linger`` ms for its queued messages if
        given (else its LINGER). Closing twice is harmless."""
        self._core.close(linger)

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        core = self.__dict__.get("_core")
        if core is not None and not core.closed and not self._shadow:
            warnings.warn(f"Unclosed socket {self!r}", ResourceWarning, stacklevel=2)
            try:
                core.close()
            except Exception:
                pass

    def __repr__(self) -> str:
        cls = type(self)
        name = cls.__dict__.get("_repr_cls") or f"{cls.__module__}.{cls.__name__}"
        core = self.__dict__.get("_core")
        kind = "?" if core is None else core.socket_type.name
        closed = " closed" if core is not None and core.closed else ""
        return f"<{name}(zmq.{kind}) at {id(self):#x}{closed}>"


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

"""Context: pyzmq's Context API over the engine's Runtime (which owns the I/O thread, the inproc
names and the registry of sockets that termination waits on).

Context options (``Context.get``/``set``, ``ctx.io_threads``...) are libzmq 4.3.5's, as pyzmq 27
shows them: the same values taken, refused (EINVAL) and read back. What they do in purezmq:

- ``IO_THREADS``: purezmq runs one I/O thread per context whatever the number; 0 (read when the
  first socket is made) leaves only inproc, as in libzmq (EMTHREAD for tcp and ipc);
- ``MAX_SOCKETS``: read when the first socket is made; a socket beyond it is EMFILE;
- ``BLOCKY`` 0: new sockets get LINGER 0; ``IPV6`` 1: new sockets get IPV6 1;
- ``SOCKET_LIMIT`` and ``MSG_T_SIZE`` are libzmq's constants (a set of SOCKET_LIMIT is taken
  and changes nothing, as libzmq's); the ``THREAD_*`` options are checked and kept but change
  nothing (purezmq's I/O thread is a Python thread); ``MAX_MSGSZ`` is kept.

``Context.setsockopt`` keeps options for the sockets ``Context.socket`` makes from then on
(``ctx.sockopts``, as pyzmq's): checked when a socket is made, where one its type does not take
is skipped.

A *shadow* (``Context.shadow(ctx or ctx.underlying)``, ``Context(ctx)``, ``copy.copy(ctx)``) is
another Context object over the same runtime: the same sockets, inproc names, options and
termination; collected, it never terminates the context.
"""

from __future__ import annotations

import errno
import os
import threading
import types
import warnings
import weakref
from typing import Any, ClassVar, TypeVar

from .constants import ContextOption, Errno, SocketOption
from .engine.metrics import prometheus_text
from .engine.runtime import Runtime, exiting
from .error import ZMQError, zmq_error
from .socket import _OWNERS, Socket

T = TypeVar("T", bound="Context")

Ctx = ContextOption
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
#: What libzmq 4.3.5 answers for options it does not let change.
_SOCKET_LIMIT = 65535
_MSG_T_SIZE = 64
_THREAD_PRIORITY_READ = 65535  # (libzmq 4.3.5 reads this back whatever was set.)
_LINGER = int(SocketOption.LINGER)
_IPV6 = int(SocketOption.IPV6)
#: zmq.BLOCKY and zmq.IPV6: context options with the numbers of socket options (not members of
#: ContextOption, as in pyzmq).
_BLOCKY = int(SocketOption.BLOCKY)

#: The Context that owns each live runtime, by the runtime's id (what ``underlying`` gives).
_OWNERS_BY_RUNTIME: weakref.WeakValueDictionary[int, Context] = weakref.WeakValueDictionary()


def context_at(address: Any) -> Context:
    """The live Context that ``address`` names: a Context (itself), or what a Context's
    ``underlying`` gave. ValueError for anything else."""
    if isinstance(address, Context):
        return address
    if isinstance(address, int) and not isinstance(address, bool):
        found = _OWNERS_BY_RUNTIME.get(address)
        if found is not None and id(found._runtime) == address and not found.closed:
            return found
        raise ValueError(f"no live purezmq context at address {address:#x}")
    raise ValueError(
        f"cannot shadow {address!r}: a purezmq Context or its underlying address (an int)"
    )


def _int_value(value: Any) -> int:
    """A C int, with pyzmq's errors."""
    if not isinstance(value, int):
        raise TypeError(f"expected int, got: {value!r}")
    if not _INT_MIN <= value <= _INT_MAX:
        raise OverflowError("value too large to convert to int")
    return int(value)


class _ContextOptions:
    """The options of one context (shared by its shadows)."""

    def __init__(self, io_threads: int) -> None:
        self.values: dict[int, int] = {
            Ctx.IO_THREADS: io_threads,
            Ctx.MAX_SOCKETS: 1023,
            Ctx.THREAD_SCHED_POLICY: -1,
            Ctx.MAX_MSGSZ: _INT_MAX,
            Ctx.THREAD_NAME_PREFIX: 0,
            _BLOCKY: 1,
            _IPV6: 0,
        }
        self.affinity: set[int] = set()
        #: IO_THREADS and MAX_SOCKETS as the first socket found them (libzmq's "start").
        self.started: tuple[int, int] | None = None

    def get(self, option: int) -> int:
        if option in self.values:
            return self.values[option]
        if option == Ctx.SOCKET_LIMIT:
            return _SOCKET_LIMIT
        if option == Ctx.MSG_T_SIZE:
            return _MSG_T_SIZE
        if option == Ctx.THREAD_PRIORITY:
            return _THREAD_PRIORITY_READ
        raise ZMQError(errno.EINVAL)

    def set(self, option: int, value: int) -> None:
        if option in (Ctx.IO_THREADS, Ctx.MAX_MSGSZ, Ctx.THREAD_SCHED_POLICY):
            if value < 0:
                raise ZMQError(errno.EINVAL)
        elif option == Ctx.MAX_SOCKETS:
            if value < 1:
                raise ZMQError(errno.EINVAL)
        elif option == _BLOCKY or option == _IPV6:
            if value < 0:
                raise ZMQError(errno.EINVAL)
            value = int(value != 0)
        elif option == Ctx.THREAD_NAME_PREFIX:
            pass
        elif option == Ctx.THREAD_PRIORITY:
            if value < 0:
                raise ZMQError(errno.EINVAL)
            return
        elif option == Ctx.THREAD_AFFINITY_CPU_ADD:
            if value < 0:
                raise ZMQError(errno.EINVAL)
            self.affinity.add(value)
            return
        elif option == Ctx.THREAD_AFFINITY_CPU_REMOVE:
            if value not in self.affinity:
                raise ZMQError(errno.EINVAL)
            self.affinity.discard(value)
            return
        elif option == Ctx.SOCKET_LIMIT:
            return  # (Taken, and nothing changes: libzmq's.)
        else:
            raise ZMQError(errno.EINVAL)
        self.values[option] = value


class Context:
    """A pyzmq-compatible Context (zmq.Context).

    ``Context(io_threads=1)``; ``Context(ctx)`` or ``Context(shadow=ctx or ctx.underlying)``
    a shadow of ``ctx`` (see the module's help)."""

    #: pyzmq's are typing.Generic: code annotates ``zmq.Context[Any]`` in class bodies (ipykernel).
    __class_getitem__: ClassVar[Any] = classmethod(types.GenericAlias)

    _instance: ClassVar[Any] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()
    _instance_pid: ClassVar[int | None] = None
    _socket_class: ClassVar[type] = Socket
    #: How repr names the class (a subclass is named by its module and qualified name).
    _repr_cls = "purezmq.Context"
    #: This object shadows a context it does not own: collected, it leaves it running.
    _shadow = False
    _runtime: Runtime
    _context_options: _ContextOptions
    _closed: bool
    sockopts: dict[int, Any]

    def __init__(self, io_threads: Any = 1, shadow: Any = 0) -> None:
        if isinstance(io_threads, Context):
            shadow, io_threads = io_threads, 1
        if shadow:
            source = context_at(shadow)
            object.__setattr__(self, "_runtime", source._runtime)
            object.__setattr__(self, "_context_options", source._context_options)
            # Kept alive with the shadow: collected, the original would end the runtime.
            object.__setattr__(self, "_shadowed", source)
            object.__setattr__(self, "_shadow", True)
        else:
            if not isinstance(io_threads, (int, float)):
                raise TypeError("an integer is required")
            threads = _int_value(int(io_threads))
            if threads < 0:
                raise ZMQError(errno.EINVAL)
            object.__setattr__(self, "_runtime", Runtime())
            object.__setattr__(self, "_context_options", _ContextOptions(threads))
            _OWNERS_BY_RUNTIME[id(self._runtime)] = self
        object.__setattr__(self, "_closed", False)
        #: Options for the sockets socket() makes from now on (option -> value), as pyzmq's.
        object.__setattr__(self, "sockopts", {})

    # -- pyzmq surface ------------------------------------------------------------------------

    @classmethod
    def instance(cls: type[T], io_threads: int = 1) -> T:
        """The process's shared Context of this class (made at first call, again after it was
        terminated, and anew in the child of a fork()). Each subclass has its own."""
        with cls._instance_lock:
            inst = cls.__dict__.get("_instance")
            pid = os.getpid()
            if inst is None or inst.closed or cls.__dict__.get("_instance_pid") != pid:
                inst = cls(io_threads)
                cls._instance = inst
                cls._instance_pid = pid
            return inst

    @classmethod
    def shadow(cls: type[T], address: Any) -> T:
        """A new Context over the same runtime as ``address``: a purezmq Context, or the int its
        ``underlying`` gave. ValueError when it names no live purezmq context."""
        return cls(shadow=address)

    @property
    def underlying(self) -> int:
        """The context's address: an int that ``Context.shadow`` takes back to this context
        (the runtime's id; 0 once terminated, as pyzmq's). Only meaningful in this process."""
        return 0 if self.closed else id(self._runtime)

    def __copy__(self: T) -> T:
        """A shadow of this context (as pyzmq's copy.copy and copy.deepcopy)."""
        return self.__class__.shadow(self)

    def __deepcopy__(self: T, memo: Any) -> T:
        return self.__class__.shadow(self)

    @property
    def closed(self) -> bool:
        """Whether term() (or destroy()) of this Context object returned."""
        return self._closed

    def socket(self, socket_type: int, socket_class: type | None = None, **kwargs: Any) -> Any:
        """A new socket of ``socket_type`` (an instance of ``socket_class``, by default this
        context's socket class), with the options of ``sockopts`` it takes; ``kwargs`` go to
        the socket class."""
        if self.closed:
            raise ZMQError(errno.ENOTSUP)
        runtime = self._runtime
        if runtime.inherited:
            raise runtime.inherited_error()
        if runtime.terminated:  # (By a shadow, or while term() waits.)
            raise zmq_error(Errno.ETERM)
        if not isinstance(socket_type, int):
            raise TypeError("an integer is required")
        options = self._context_options
        if options.started is None:
            options.started = (
                options.values[Ctx.IO_THREADS],
                options.values[Ctx.MAX_SOCKETS],
            )
        if len(runtime.sockets()) >= options.started[1]:
            raise ZMQError(errno.EMFILE)
        cls = socket_class or self._socket_class
        sock = cls(self, socket_type, **kwargs)
        try:
            self._configure(sock)
        except BaseException:
            sock.close(linger=0)
            raise
        return sock

    @property
    def _io_threads_at_start(self) -> int:
        started = self._context_options.started
        return 1 if started is None else started[0]

    def _configure(self, sock: Any) -> None:
        """What a new socket takes from its context: BLOCKY 0 (LINGER 0), IPV6, then
        ``sockopts`` (skipping what its type refuses, as pyzmq)."""
        values = self._context_options.values
        if not values[_BLOCKY]:
            sock.setsockopt(_LINGER, 0)
        if values[_IPV6]:
            sock.setsockopt(_IPV6, 1)
        for option, value in self.sockopts.items():
            try:
                sock.setsockopt(option, value)
            except ZMQError:
                pass

    def stats(self) -> list[dict[str, Any]]:
        """Socket.stats() of each open socket of this context (purezmq's own)."""
        found = []
        for sock in self._runtime.sockets():
            if not getattr(sock, "closed", True) and hasattr(sock, "stats"):
                try:
                    found.append(sock.stats())
                except ZMQError:
                    continue  # (Closed meanwhile.)
        return found

    def metrics_text(self) -> str:
        """stats() in Prometheus' text exposition format (for a /metrics endpoint)."""
        return prometheus_text(self.stats())

    def term(self) -> None:
        """Terminate: blocked and later calls of every socket raise ContextTerminated; wait
        until every socket was closed and has sent what its LINGER allows. Idempotent."""
        if self._closed:
            return
        self._runtime.terminate()
        object.__setattr__(self, "_closed", True)

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket of the context (with ``linger`` if given, else each one's
        LINGER), then terminate. Like Socket.close, not thread-safe."""
        for sock in self._runtime.sockets():
            sock.close(linger)
        self.term()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        """As pyzmq: destroy(), with a ResourceWarning for each socket still open."""
        for core in self._runtime.sockets():
            owner = _OWNERS.get(id(core))
            warnings.warn(
                f"Destroying context with unclosed socket {owner if owner is not None else core!r}",
                ResourceWarning,
                stacklevel=2,
            )
        self.destroy()

    def __del__(self) -> None:
        if self.__dict__.get("_shadow") or "_runtime" not in self.__dict__:
            return  # A shadow never terminates what it shadows.
        if self._closed or exiting():
            return
        warnings.warn(f"Unclosed context {self!r}", ResourceWarning, stacklevel=2, source=self)
        try:
            runtime = self._runtime
            if runtime.started and not runtime.sockets():
                self.term()
        except Exception:
            pass

    def __repr__(self) -> str:
        cls = type(self)
        name = cls.__dict__.get("_repr_cls") or f"{cls.__module__}.{cls.__name__}"
        runtime = self.__dict__.get("_runtime")
        count = 0 if runtime is None else len(runtime.sockets())
        sockets = "" if not count else f"{count} socket{'s' if count > 1 else ''}"
        closed = " closed" if self.__dict__.get("_closed") else ""
        return f"<{name}({sockets}) at {id(self):#x}{closed}>"

    # -- context options ------------------------------------------------------------------------

    def set(self, option: int, optval: int) -> None:
        """zmq_ctx_set: IO_THREADS, MAX_SOCKETS, BLOCKY, IPV6, MAX_MSGSZ, THREAD_*... (see the
        module's help); EINVAL for an unknown option or a value libzmq refuses."""
        if not isinstance(option, int):
            raise TypeError("an integer is required")
        value = _int_value(optval)
        if self.closed:
            raise RuntimeError("Context has been destroyed")
        self._context_options.set(option, value)

    def get(self, option: int) -> int:
        """zmq_ctx_get: an option's value; EINVAL for an unknown or write-only one."""
        if not isinstance(option, int):
            raise TypeError("an integer is required")
        if self.closed:
            raise RuntimeError("Context has been destroyed")
        return self._context_options.get(option)

    setsockopt_ctx = set

    def setsockopt(self, opt: int, value: Any) -> None:
        """Keep a socket option for the sockets made from now on (``sockopts``): checked when a
        socket is made, where one its type does not take is skipped."""
        self.sockopts[opt] = value

    def getsockopt(self, opt: int) -> Any:
        """The socket option kept with setsockopt (KeyError if none was, as pyzmq's)."""
        return self.sockopts[opt]

    # -- options as attributes (ctx.io_threads, ctx.linger = 0) ---------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        upper = name.upper()
        if upper in ContextOption.__members__:
            self.set(ContextOption[upper], value)
        elif upper in SocketOption.__members__:
            self.sockopts[SocketOption[upper]] = value
        else:
            raise AttributeError(f"Context has no such option: {upper}")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        upper = name.upper()
        if upper in ContextOption.__members__:
            if upper.startswith("THREAD_AFFINITY_CPU_"):
                raise AttributeError(f"{name} attribute is write-only")
            return self.get(ContextOption[upper])
        if upper in SocketOption.__members__:
            option = SocketOption[upper]
            if option not in self.sockopts:
                raise AttributeError(upper)
            return self.sockopts[option]
        raise AttributeError(f"Context has no such option: {upper}")

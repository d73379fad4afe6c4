"""The package layout pyzmq programs import from (zmq.backend, zmq.sugar.*, zmq.error,
zmq.constants, zmq.utils.*, zmq.decorators, zmq.log, zmq.curve_keygen) and the small functions in
them: each test body runs against pyzmq and purezmq (the ``lib`` fixture), so an expectation is
pyzmq's before purezmq has to meet it. purezmq-only tests say so in their names."""

from __future__ import annotations

import asyncio
import enum
import errno
import importlib
import json
import logging
import pickle
import socket as _stdlib_socket
import struct
import subprocess
import sys
import threading
import time
import warnings
from types import ModuleType
from typing import Any

import pytest
import zmq as _pyzmq
import zmq.constants as _pyzmq_constants

import purezmq

pytestmark = pytest.mark.timeout(60)

try:
    import nacl.bindings  # noqa: F401

    HAVE_NACL = True
except ImportError:
    HAVE_NACL = False


@pytest.fixture(params=["zmq", "purezmq"])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


def mod(lib: ModuleType, name: str) -> ModuleType:
    """``lib``'s submodule ``name`` (e.g. ``utils.jsonapi``)."""
    return importlib.import_module(f"{lib.__name__}.{name}")


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - compared between the libraries
        return ("error", exc)


# --------------------------------------------------------------------------------------------------
# layout: every module and every public name of pyzmq's


MODULES = [
    "backend",
    "sugar",
    "sugar.attrsettr",
    "sugar.context",
    "sugar.frame",
    "sugar.poll",
    "sugar.socket",
    "sugar.stopwatch",
    "sugar.tracker",
    "sugar.version",
    "error",
    "constants",
    "utils",
    "utils.garbage",
    "utils.interop",
    "utils.jsonapi",
    "utils.monitor",
    "utils.strtypes",
    "utils.win32",
    "utils.z85",
    "decorators",
    "log",
    "log.handlers",
    "curve_keygen",
    "eventloop",
    "eventloop.ioloop",
    "eventloop.zmqstream",
    "eventloop.future",
    "green",
    "green.core",
    "green.poll",
    "green.device",
    "green.eventloop",
    "green.eventloop.ioloop",
    "green.eventloop.zmqstream",
    "ssh",
    "ssh.tunnel",
    "ssh.forward",
    "auth.ioloop",
]

#: Names of pyzmq's modules purezmq leaves out, and why.
NOT_PROVIDED = {
    "constants": {"_OptType"},  # pyzmq's private option-type enum
    "utils.z85": {"Final", "Union", "_85s", "_RawBytes"},  # typing helpers, a private table
    # pyzmq's collector thread: purezmq lends no memory to a C library, nothing to collect.
    "utils.garbage": {"GarbageCollectorThread"},
    "log.handlers": {"TYPE_CHECKING", "_name", "_meth"},  # leftovers of pyzmq's module code
    "eventloop.zmqstream": {"TYPE_CHECKING"},
    # pyzmq's private mixins of its future sockets (purezmq's are purezmq.asyncio's).
    "eventloop.future": {"_AsyncTornado", "_CancellableTornadoTimeout"},
    "green.core": {"_stop"},  # a private helper of pyzmq's waits
    "green.device": {"TYPE_CHECKING"},
}


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(lib: ModuleType, name: str) -> None:
    module = mod(lib, name)
    assert module.__name__ == f"{lib.__name__}.{name}"


@pytest.mark.parametrize("name", MODULES)
def test_purezmq_module_has_pyzmq_public_names(name: str) -> None:
    reference = importlib.import_module(f"zmq.{name}")
    ours = importlib.import_module(f"purezmq.{name}")
    names = getattr(reference, "__all__", None)
    if names is None:  # No __all__: what the module defines (not what it imports).
        names = [
            n
            for n, value in vars(reference).items()
            if not n.startswith("__")
            and getattr(value, "__module__", reference.__name__) == reference.__name__
            and not isinstance(value, ModuleType)
        ]
    missing = sorted(set(names) - set(dir(ours)) - NOT_PROVIDED.get(name, set()))
    assert missing == []
    if hasattr(reference, "__all__"):  # What 'from zmq.X import *' gives (a module without
        exported = set(getattr(ours, "__all__", dir(ours)))  # __all__ gives every public name)
        assert set(reference.__all__) <= exported | NOT_PROVIDED.get(name, set())


def test_purezmq_top_level_has_pyzmq_names() -> None:
    missing = sorted(
        n
        for n in dir(_pyzmq)
        if not n.startswith("_")
        and n not in {"os", "sys", "contextmanager"}  # pyzmq's own imports
        and not isinstance(getattr(_pyzmq, n), ModuleType)  # submodules: as imported so far
        and not hasattr(purezmq, n)
    )
    assert missing == []
    assert set(_pyzmq.__all__) <= set(purezmq.__all__)


def test_submodules_are_attributes_after_import(lib: ModuleType) -> None:
    assert lib.backend.Socket is mod(lib, "backend").Socket
    assert lib.sugar.socket.Socket is lib.Socket
    assert lib.utils.jsonapi.dumps({}) == b"{}"
    assert lib.error.ZMQError is lib.ZMQError
    assert lib.constants.SocketType is lib.SocketType


def test_sugar_reexports_the_real_classes(lib: ModuleType) -> None:
    sugar = lib.sugar
    assert sugar.socket.Socket is sugar.Socket is lib.Socket
    assert sugar.context.Context is sugar.Context is lib.Context
    assert sugar.frame.Frame is sugar.Frame is lib.Frame
    assert sugar.frame.Message is lib.Message
    assert sugar.poll.Poller is sugar.Poller is lib.Poller
    assert sugar.poll.select is lib.select
    assert sugar.tracker.MessageTracker is lib.MessageTracker
    assert sugar.tracker._FINISHED_TRACKER is lib._FINISHED_TRACKER
    assert lib._FINISHED_TRACKER.done
    assert sugar.stopwatch.Stopwatch is lib.Stopwatch
    assert sugar.error is lib.error
    assert sugar.ZMQError is lib.ZMQError and sugar.DraftFDWarning is lib.DraftFDWarning
    assert sugar.device is lib.device and sugar.proxy is lib.proxy
    assert sugar.version.pyzmq_version is lib.pyzmq_version


def test_sync_aliases_make_the_classes(lib: ModuleType) -> None:
    with lib.SyncContext() as ctx:
        sock = ctx.socket(lib.PAIR)
        assert isinstance(sock, lib.Socket) and isinstance(ctx, lib.Context)
        sock.close()
        assert lib.sugar.socket.SyncSocket is lib.SyncSocket
        assert lib.sugar.context.SyncContext is lib.SyncContext


def test_backend(lib: ModuleType) -> None:
    backend = lib.backend
    assert issubclass(lib.Socket, backend.Socket)
    assert issubclass(lib.Context, backend.Context)
    assert issubclass(lib.Frame, backend.Frame)
    assert backend.zmq_poll is lib.zmq_poll or callable(backend.zmq_poll)
    assert backend.zmq_version_info() == lib.zmq_version_info()
    assert backend.IPC_PATH_MAX_LEN == lib.IPC_PATH_MAX_LEN
    assert backend.PYZMQ_DRAFT_API is (lib is purezmq)  # (purezmq has the draft API.)
    assert backend.zmq_errno() == 0
    assert backend.strerror(errno.EAGAIN) == "Resource temporarily unavailable"
    assert backend.strerror(lib.ETERM) == "Context was terminated"
    assert callable(backend.monitored_queue)
    for name in ("proxy", "proxy_steerable", "has", "curve_keypair", "curve_public"):
        assert getattr(backend, name) is getattr(lib, name)


def test_purezmq_backend_classes_are_the_public_ones() -> None:
    assert purezmq.backend.Socket is purezmq.Socket
    assert purezmq.backend.Context is purezmq.Context
    assert purezmq.backend.monitored_queue is purezmq.devices.monitored_queue


# --------------------------------------------------------------------------------------------------
# constants


def _enum_classes(module: ModuleType) -> dict[str, type[enum.Enum]]:
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, enum.Enum)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }


def test_every_enum_class_and_member_of_pyzmq() -> None:
    reference = _enum_classes(_pyzmq_constants)
    assert {"SocketType", "SocketOption", "Event", "Errno", "NormMode"} <= set(reference)
    problems = []
    for name, cls in reference.items():
        ours = getattr(purezmq.constants, name, None)
        if ours is None:
            problems.append((name, "missing"))
            continue
        if not issubclass(ours, int) or issubclass(ours, enum.IntFlag) != issubclass(
            cls, enum.IntFlag
        ):
            problems.append((name, "kind", ours.__mro__[1].__name__, cls.__mro__[1].__name__))
        for member, value in cls.__members__.items():
            if member not in ours.__members__:
                problems.append((name, member, "missing"))
            elif int(ours.__members__[member]) != int(value):
                problems.append((name, member, int(value), int(ours.__members__[member])))
        assert getattr(purezmq, name) is ours
    assert problems == []


def test_every_flat_int_constant_of_pyzmq() -> None:
    names = [
        n
        for n in dir(_pyzmq)
        if isinstance(getattr(_pyzmq, n), int) and not isinstance(getattr(_pyzmq, n), bool)
    ]
    assert len(names) > 240
    mismatched = [
        (n, int(getattr(_pyzmq, n)), getattr(purezmq, n, None))
        for n in names
        if not isinstance(getattr(purezmq, n, None), int)
        or int(getattr(purezmq, n)) != int(getattr(_pyzmq, n))
    ]
    assert mismatched == []
    # (Those of the draft API differ: purezmq has it, pyzmq's wheels do not.)
    flags = [n for n in dir(_pyzmq) if isinstance(getattr(_pyzmq, n), bool) and "DRAFT" not in n]
    assert {n: getattr(purezmq, n, None) for n in flags} == {n: getattr(_pyzmq, n) for n in flags}


def test_constants_module_names(lib: ModuleType) -> None:
    constants = lib.constants
    for name in _pyzmq_constants.__all__:
        assert hasattr(constants, name), name
    assert constants.Enum is enum.Enum and lib.Enum is enum.Enum
    assert lib.COPY_THRESHOLD == 65536
    assert lib.DRAFT_API is (lib is purezmq)  # (pyzmq's wheels leave the draft API out.)
    assert lib.IPC_PATH_MAX_LEN == _pyzmq.IPC_PATH_MAX_LEN


# --------------------------------------------------------------------------------------------------
# versions, has(), build paths


def test_version_functions(lib: ModuleType) -> None:
    info = lib.pyzmq_version_info()
    assert isinstance(info, tuple) and len(info) >= 3
    assert all(isinstance(part, int) for part in info[:3])
    assert lib.pyzmq_version() == lib.__version__
    assert lib.pyzmq_version().startswith(".".join(map(str, info[:3])))
    assert lib.zmq_version() == ".".join(map(str, lib.zmq_version_info()))
    assert lib.zmq_version_info() >= (4, 3, 0)
    version = lib.sugar.version
    assert version.__version__ == lib.__version__
    assert version.__revision__ == lib.__revision__
    assert version.zmq_version is lib.zmq_version


def test_purezmq_reports_the_pyzmq_api_it_implements() -> None:
    """Programs gate features on pyzmq's version; purezmq answers with the one it is tested
    against, and its own release separately."""
    assert purezmq.pyzmq_version_info()[:2] == _pyzmq.pyzmq_version_info()[:2]
    assert purezmq.zmq_version_info() == (4, 3, 5)
    assert purezmq.purezmq_version() == purezmq.VERSION
    assert purezmq.purezmq_version_info() == tuple(map(int, purezmq.VERSION.split(".")))


def test_has(lib: ModuleType) -> None:
    for name in ("ipc", "pgm", "tipc", "norm", "curve", "gssapi", "draft"):
        assert isinstance(lib.has(name), bool)
    for unknown in ("nonsense", "", "IPC", "plain"):
        assert lib.has(unknown) is False
    for bad in (None, 1, b"ipc"):
        with pytest.raises(TypeError):
            lib.has(bad)


def test_purezmq_has_is_truthful() -> None:
    assert purezmq.has("ipc") is hasattr(_stdlib_socket, "AF_UNIX")
    assert purezmq.has("curve") is HAVE_NACL
    assert purezmq.has("draft") is True
    for absent in ("pgm", "tipc", "norm", "gssapi"):
        assert purezmq.has(absent) is False


def test_build_paths(lib: ModuleType) -> None:
    assert isinstance(lib.get_includes(), list)
    assert isinstance(lib.get_library_dirs(), list)


def test_purezmq_has_no_build_paths() -> None:
    assert purezmq.get_includes() == [] and purezmq.get_library_dirs() == []
    assert "Cython" in (purezmq.get_includes.__doc__ or "")


# --------------------------------------------------------------------------------------------------
# error


ERROR_CASES = [
    ("ZMQError", ()),
    ("ZMQError", (errno.EAGAIN,)),
    ("ZMQError", (None, "text")),
    ("ZMQError", (errno.EINVAL, "custom")),
    ("ZMQError", ("just a message",)),
    ("ZMQError", (99999,)),
    ("Again", ()),
    ("Again", (5, "ignored")),
    ("ContextTerminated", ()),
    ("InterruptedSystemCall", ()),
    ("ZMQVersionError", ("4.0",)),
    ("ZMQVersionError", ("5.0", "Thing")),
    ("ZMQBindError", ("no port",)),
    ("NotDone", ()),
]


@pytest.mark.parametrize(("cls_name", "args"), ERROR_CASES)
def test_error_classes_match_pyzmq(lib: ModuleType, cls_name: str, args: tuple) -> None:
    ours = getattr(lib.error, cls_name)(*args)
    theirs = getattr(_pyzmq.error, cls_name)(*args)
    assert [c.__name__ for c in type(ours).__mro__] == [c.__name__ for c in type(theirs).__mro__]
    assert getattr(ours, "errno", "-") == getattr(theirs, "errno", "-")
    assert getattr(ours, "strerror", "-") == getattr(theirs, "strerror", "-")
    assert ours.args == theirs.args
    if cls_name != "InterruptedSystemCall":  # pyzmq's text asks to report to pyzmq
        assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
    clone = pickle.loads(pickle.dumps(ours))
    assert type(clone) is type(ours) and str(clone) == str(ours)


def test_error_module(lib: ModuleType) -> None:
    error = lib.error
    assert issubclass(error.DraftFDWarning, RuntimeWarning)
    assert issubclass(error.InterruptedSystemCall, InterruptedError)
    assert issubclass(error.ZMQVersionError, NotImplementedError)
    error._check_version((4, 0))
    with pytest.raises(error.ZMQVersionError) as info:
        error._check_version((99, 0), "Teleportation")
    assert info.value.min_version == "99.0"
    assert str(info.value).startswith("Teleportation requires libzmq >= 99.0, have ")
    error._check_rc(0)
    with pytest.raises(error.Again):
        error._check_rc(-1, errno.EAGAIN)


# --------------------------------------------------------------------------------------------------
# utils.jsonapi


def test_jsonapi(lib: ModuleType) -> None:
    jsonapi = lib.utils.jsonapi
    assert jsonapi.dumps({"a": "é", "b": [1, 2]}) == b'{"a": "\\u00e9", "b": [1, 2]}'
    assert jsonapi.dumps({"b": 1, "a": 2}, sort_keys=True, separators=(",", ":")) == (
        b'{"a":2,"b":1}'
    )
    assert jsonapi.dumps("é", ensure_ascii=False) == '"é"'.encode()
    assert jsonapi.loads(b'{"a": 1}') == {"a": 1}
    assert jsonapi.loads('[1, "x"]') == [1, "x"]
    assert jsonapi.loads(bytearray(b"2")) == 2
    assert jsonapi.loads('"é"'.encode()) == "é"
    assert jsonapi.loads(b'{"a": 1}', object_hook=lambda d: ("hooked", d)) == ("hooked", {"a": 1})
    assert jsonapi.jsonmod is json


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda j: j.dumps(object()), TypeError),
        (lambda j: j.dumps({1j: 2}), TypeError),
        (lambda j: j.dumps(1, no_such_option=1), TypeError),
        (lambda j: j.dumps(float("nan"), allow_nan=False), ValueError),
        (lambda j: j.loads(b"{"), json.JSONDecodeError),
        (lambda j: j.loads(b"\xff"), UnicodeDecodeError),
        (lambda j: j.loads(b"\xef\xbb\xbf1"), json.JSONDecodeError),
        (lambda j: j.loads(123), TypeError),
        (lambda j: j.loads(None), TypeError),
        (lambda j: j.loads(memoryview(b"1")), TypeError),
        (lambda j: j.loads(b"1", no_such_option=1), TypeError),
    ],
)
def test_jsonapi_rejects_bad_input(lib: ModuleType, call: Any, error: type) -> None:
    with pytest.raises(error):
        call(lib.utils.jsonapi)


# --------------------------------------------------------------------------------------------------
# utils.monitor


def _event_frame(event: int, value: int) -> bytes:
    return struct.pack("=hi", event, value)


def test_parse_monitor_message(lib: ModuleType) -> None:
    monitor = mod(lib, "utils.monitor")
    parsed = monitor.parse_monitor_message([_event_frame(1, 7), b"tcp://127.0.0.1:5555"])
    assert parsed == {"event": 1, "value": 7, "endpoint": b"tcp://127.0.0.1:5555"}
    assert type(parsed["event"]) is lib.Event and parsed["event"] is lib.Event.CONNECTED
    assert type(parsed["value"]) is lib.Event  # pyzmq's choice: the value is an Event too
    assert type(parsed["endpoint"]) is bytes
    listening = monitor.parse_monitor_message([_event_frame(lib.EVENT_LISTENING, 12), b"x"])
    assert listening["event"] == lib.EVENT_LISTENING and listening["value"] == 12


@pytest.mark.parametrize(
    "msg",
    [
        [],
        [b"x"],
        [_event_frame(1, 7)],
        [_event_frame(1, 7), b"a", b"b"],
        [b"abc", b"endpoint"],
        [_event_frame(1, 7) + b"z", b"endpoint"],
        ["ab", "c"],
    ],
    ids=["empty", "one", "no-endpoint", "three", "short-event", "long-event", "str"],
)
def test_parse_monitor_message_rejects_bad_messages(lib: ModuleType, msg: list) -> None:
    monitor = mod(lib, "utils.monitor")
    with pytest.raises(RuntimeError, match="Invalid event message format"):
        monitor.parse_monitor_message(msg)


def test_parse_monitor_message_rejects_non_sequences(lib: ModuleType) -> None:
    monitor = mod(lib, "utils.monitor")
    for bad in (None, 5):
        with pytest.raises(TypeError):
            monitor.parse_monitor_message(bad)


def test_recv_monitor_message(lib: ModuleType) -> None:
    monitor = mod(lib, "utils.monitor")
    with lib.Context() as ctx:
        a, b = ctx.socket(lib.PAIR), ctx.socket(lib.PAIR)
        a.rcvtimeo = 5000
        name = f"inproc://monitor-{lib.__name__}-{time.monotonic_ns()}"
        a.bind(name)
        b.connect(name)
        b.send_multipart([_event_frame(lib.EVENT_ACCEPTED, 9), b"tcp://peer"])
        event = monitor.recv_monitor_message(a)
        assert event == {"event": lib.EVENT_ACCEPTED, "value": 9, "endpoint": b"tcp://peer"}
        with pytest.raises(lib.Again):
            monitor.recv_monitor_message(a, lib.NOBLOCK)
        a.close(linger=0)
        b.close(linger=0)


def test_recv_monitor_message_asyncio(lib: ModuleType) -> None:
    monitor = mod(lib, "utils.monitor")
    aio = mod(lib, "asyncio")

    async def run() -> Any:
        ctx = aio.Context()
        a, b = ctx.socket(lib.PAIR), ctx.socket(lib.PAIR)
        name = f"inproc://amonitor-{lib.__name__}-{time.monotonic_ns()}"
        a.bind(name)
        b.connect(name)
        await b.send_multipart([_event_frame(lib.EVENT_CLOSED, 3), b"ipc://x"])
        pending = monitor.recv_monitor_message(a)
        assert hasattr(pending, "__await__")
        event = await asyncio.wait_for(pending, 5)
        a.close(linger=0)
        b.close(linger=0)
        ctx.term()
        return event

    assert asyncio.run(run()) == {"event": lib.EVENT_CLOSED, "value": 3, "endpoint": b"ipc://x"}


# --------------------------------------------------------------------------------------------------
# utils.z85


Z85_ENCODE = [b"", b"abcd", bytearray(b"abcd"), memoryview(b"abcd"), bytes(range(32)), b"abc"]
Z85_ENCODE += ["abcd", 123, None]
Z85_DECODE = [b"", b"HelloWorld", "HelloWorld", bytearray(b"Hello"), memoryview(b"Hello")]
Z85_DECODE += [b"abcd", b"hello wor", "é1234", 123, None, b"~~~~~", b"\xff\xff\xff\xff\xff"]
Z85_DECODE += [b"%%%%%", b"#####"]


@pytest.mark.parametrize("value", Z85_ENCODE, ids=repr)
def test_z85_encode(lib: ModuleType, value: Any) -> None:
    _same_outcome(lib.utils.z85.encode, _pyzmq.utils.z85.encode, value)


@pytest.mark.parametrize("value", Z85_DECODE, ids=repr)
def test_z85_decode(lib: ModuleType, value: Any) -> None:
    _same_outcome(lib.utils.z85.decode, _pyzmq.utils.z85.decode, value)


def _same_outcome(ours: Any, theirs: Any, value: Any) -> None:
    got, expected = outcome(lambda: ours(value)), outcome(lambda: theirs(value))
    assert got[0] == expected[0], (got, expected)
    if got[0] == "ok":
        assert got[1] == expected[1]
    else:  # pyzmq's exception type (purezmq's may also be a ValueError: see its z85 module)
        assert isinstance(got[1], type(expected[1])), (got, expected)


def test_purezmq_z85_errors_are_also_value_errors() -> None:
    for bad in (b"~~~~~", b"#####", b"abcd"):
        with pytest.raises(ValueError):
            purezmq.utils.z85.decode(bad)


def test_z85_tables(lib: ModuleType) -> None:
    z85 = lib.utils.z85
    assert z85.Z85CHARS == _pyzmq.utils.z85.Z85CHARS
    assert z85.Z85MAP == _pyzmq.utils.z85.Z85MAP


# --------------------------------------------------------------------------------------------------
# utils.strtypes, interop, win32, garbage


def test_strtypes(lib: ModuleType) -> None:
    strtypes = mod(lib, "utils.strtypes")
    assert strtypes.bytes is bytes and strtypes.unicode is str and strtypes.basestring == (str,)
    assert (
        strtypes.b is strtypes.asbytes is strtypes.cast_bytes
        and strtypes.u is strtypes.cast_unicode
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert strtypes.cast_bytes("é") == "é".encode()
        assert strtypes.cast_bytes("é", "latin1") == b"\xe9"
        assert strtypes.cast_bytes("é", "ascii", "replace") == b"?"
        assert strtypes.cast_bytes(b"x") == b"x"
        assert strtypes.cast_unicode(b"\xc3\xa9") == "é"
        assert strtypes.cast_unicode("x", "ascii") == "x"
        with pytest.raises(UnicodeEncodeError):
            strtypes.cast_bytes("é", "ascii")
        for bad in (bytearray(b"x"), memoryview(b"x"), 1, None):
            with pytest.raises(TypeError, match="Expected unicode or bytes"):
                strtypes.cast_bytes(bad)
            with pytest.raises(TypeError, match="Expected unicode or bytes"):
                strtypes.cast_unicode(bad)
    assert caught and all(issubclass(w.category, DeprecationWarning) for w in caught)
    assert all(w.filename == __file__ for w in caught)


def test_cast_int_addr(lib: ModuleType) -> None:
    interop = mod(lib, "utils.interop")
    assert interop.cast_int_addr(5) == 5
    assert interop.cast_int_addr(2**40) == 2**40
    for bad in ("5", 1.5, None, b"1"):
        with pytest.raises(ValueError, match="Cannot cast"):
            interop.cast_int_addr(bad)
    cffi = pytest.importorskip("cffi")
    assert interop.cast_int_addr(cffi.FFI().cast("void *", 12345)) == 12345


def test_allow_interrupt(lib: ModuleType) -> None:
    win32 = mod(lib, "utils.win32")
    calls = []
    with win32.allow_interrupt(lambda: calls.append(1)) as inside:
        assert inside is None
    with win32.allow_interrupt():
        pass
    assert calls == []
    with pytest.raises(TypeError):
        win32.allow_interrupt(1, 2)


def test_purezmq_allow_interrupt_is_also_a_decorator() -> None:
    @purezmq.utils.win32.allow_interrupt(lambda: None)
    def work(x: int) -> int:
        return x * 2

    assert work(21) == 42


def test_garbage_collector(lib: ModuleType) -> None:
    garbage = mod(lib, "utils.garbage")
    assert isinstance(garbage.gc, garbage.GarbageCollector)
    collector = garbage.GarbageCollector()
    assert collector.url.startswith("inproc://")
    assert not collector.is_alive()
    event = threading.Event()
    assert isinstance(collector.store(b"zero-copy", event), int)  # the key of the reference
    assert collector.is_alive()
    collector.stop()
    assert not collector.is_alive() and collector.refs == {}
    assert isinstance(collector.context, lib.Context)
    collector.context.term()


def test_purezmq_garbage_collector_releases_at_once() -> None:
    collector = purezmq.utils.garbage.GarbageCollector()
    event = threading.Event()
    collector.store(b"data", event)
    assert event.is_set() and collector.refs == {}
    collector.stop()


# --------------------------------------------------------------------------------------------------
# sugar: Stopwatch, AttributeSetter, tracker


def test_stopwatch(lib: ModuleType) -> None:
    with pytest.warns(DeprecationWarning):
        watch = lib.Stopwatch()
    assert isinstance(watch.stop(), int)  # before start: no error in pyzmq 27
    watch.start()
    time.sleep(0.02)
    elapsed = watch.stop()
    assert isinstance(elapsed, int) and 15_000 <= elapsed < 5_000_000
    assert watch.stop() >= elapsed  # stop() does not stop: it reads


def test_attribute_setter(lib: ModuleType) -> None:
    setter = lib.sugar.attrsettr.AttributeSetter
    with lib.Context() as ctx:
        sock = ctx.socket(lib.PAIR)
        assert isinstance(sock, setter) and isinstance(ctx, setter)
        assert isinstance(lib.Frame(b"x"), setter)
        sock.close()

    class Options(setter):
        def __init__(self) -> None:
            object.__setattr__(self, "store", {})

        def set(self, option: int, value: Any) -> None:
            self.store[option] = value

        def get(self, option: int) -> Any:
            return self.store.get(option, -1)

    options = Options()
    options.linger = 5
    assert options.store == {lib.LINGER: 5} and options.linger == 5
    assert options.io_threads == -1
    with pytest.raises(AttributeError, match="Options has no such option: NONSENSE"):
        options.nonsense = 1
    with pytest.raises(AttributeError, match="Options has no such option: OTHER"):
        _ = options.other
    with pytest.raises(NotImplementedError):
        setter().get(lib.LINGER)


# --------------------------------------------------------------------------------------------------
# decorators (the examples of pyzmq's documentation)


def test_decorators_doc_example(lib: ModuleType) -> None:
    dec = mod(lib, "decorators")
    seen: dict[str, Any] = {}

    @dec.context()
    @dec.socket(lib.PUSH)
    def work(ctx: Any, push: Any) -> str:
        seen.update(ctx=ctx, push=push)
        assert push.type == lib.PUSH and push.context is ctx
        return "done"

    assert work() == "done"
    assert seen["push"].closed and seen["ctx"].closed
    assert work.__name__ == "work"


def test_decorators_named_and_stacked(lib: ModuleType) -> None:
    dec = mod(lib, "decorators")

    @dec.context("ctx")
    @dec.socket("push", lib.PUSH, context_name="ctx")
    @dec.socket("pull", lib.PULL, context_name="ctx")
    def work(*args: Any, **kwargs: Any) -> tuple:
        assert kwargs["push"].context is kwargs["ctx"] is kwargs["pull"].context
        return args, sorted(kwargs), kwargs["push"].type, kwargs["pull"].type

    assert work(1) == ((1,), ["ctx", "pull", "push"], lib.PUSH, lib.PULL)
    with pytest.raises(TypeError, match="multiple values for argument 'ctx'"):
        work(ctx=None)

    @dec.context(name="c", io_threads=2)
    def threads(c: Any) -> int:
        return c.get(lib.IO_THREADS)

    assert threads() == 2


def test_decorators_find_the_context(lib: ModuleType) -> None:
    dec = mod(lib, "decorators")

    @dec.socket(lib.PUSH)
    def ctx_of(*args: Any, **kwargs: Any) -> Any:
        return args[-1].context

    with lib.Context() as ctx:
        assert ctx_of(ctx) is ctx  # a Context among the positional arguments
        assert ctx_of(1, ctx) is ctx
        assert ctx_of(context=ctx) is ctx  # the context_name keyword
        assert ctx_of() is lib.Context.instance()
        assert ctx_of(context="not a context") is lib.Context.instance()


def test_decorators_close_on_error(lib: ModuleType) -> None:
    dec = mod(lib, "decorators")
    kept: list[Any] = []

    @dec.context()
    @dec.socket(lib.PUSH)
    def fails(ctx: Any, push: Any) -> None:
        kept.extend([ctx, push])
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fails()
    assert kept[1].closed and kept[0].closed


def test_decorators_process_args(lib: ModuleType) -> None:
    dec = mod(lib, "decorators")
    d = dec._Decorator()
    assert d.process_decorator_args() == (None, (), {})
    assert d.process_decorator_args("n", 1, a=2) == ("n", (1,), {"a": 2})
    assert d.process_decorator_args("n", name="x") == ("x", ("n",), {})
    socket_decorator = dec._SocketDecorator()
    assert socket_decorator.process_decorator_args("n", 1, context_name="q") == ("n", (1,), {})
    assert socket_decorator.context_name == "q"
    with pytest.raises(TypeError):
        dec.socket()(lambda s: s)()  # no socket type


# --------------------------------------------------------------------------------------------------
# log.handlers


@pytest.fixture
def log_pair(lib: ModuleType) -> Any:
    ctx = lib.Context()
    pub = ctx.socket(lib.PUB)
    sub = ctx.socket(lib.SUB)
    name = f"inproc://log-{lib.__name__}-{time.monotonic_ns()}"
    pub.bind(name)
    sub.connect(name)
    sub.setsockopt(lib.SUBSCRIBE, b"")
    sub.rcvtimeo = 5000
    yield pub, sub
    pub.close(linger=0)
    sub.close(linger=0)
    ctx.term()


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(f"purezmq-test-{name}-{time.monotonic_ns()}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    return logger


def test_pub_handler(lib: ModuleType, log_pair: Any) -> None:
    handlers = mod(lib, "log.handlers")
    pub, sub = log_pair
    handler = handlers.PUBHandler(pub)
    assert handler.socket is pub and handler.ctx is pub.context and handler.root_topic == ""
    logger = _logger(handler, lib.__name__)
    logger.info("hello %s", "world")
    assert sub.recv_multipart() == [b"INFO", b"hello world\n"]
    logger.debug("sub.topic::the message")
    topic, body = sub.recv_multipart()
    assert topic == b"DEBUG.sub.topic"
    assert body.startswith(b"DEBUG test_modules.py:") and body.endswith(b" - the message\n")
    logger.warning("a::b::c")
    topic, body = sub.recv_multipart()
    assert topic == b"WARNING.a" and body.endswith(b" - b::c\n")
    logger.error("é")
    assert sub.recv_multipart()[1].endswith(" - é - None\n".encode())
    handler.root_topic = "root"
    logger.info("x")
    assert sub.recv_multipart() == [b"root.INFO", b"x\n"]
    handler.setRootTopic("r2")
    logger.info("y")
    assert sub.recv_multipart() == [b"r2.INFO", b"y\n"]
    handler.setRootTopic("")
    handler.setFormatter(logging.Formatter("F:%(message)s"))
    logger.critical("z")
    assert sub.recv_multipart() == [b"CRITICAL", b"F:z"]
    handler.setFormatter(logging.Formatter("I:%(message)s"), logging.INFO)
    logger.info("q")
    logger.error("e")
    assert sub.recv_multipart() == [b"INFO", b"I:q"]
    assert sub.recv_multipart() == [b"ERROR", b"F:e"]
    assert handlers.TOPIC_DELIM == "::"


def test_pub_handler_binds_an_interface(lib: ModuleType) -> None:
    handlers = mod(lib, "log.handlers")
    with lib.Context() as ctx:
        name = f"inproc://log-bind-{lib.__name__}-{time.monotonic_ns()}"
        handler = handlers.PUBHandler(name, context=ctx, root_topic="rt")
        assert handler.socket.type == lib.PUB and handler.socket.context is ctx
        assert handler.root_topic == "rt"
        assert handler.socket.last_endpoint == name.encode()
        handler.close()
        assert not handler.socket.closed  # close() leaves the socket to its owner, as pyzmq
        handler.socket.close(linger=0)
    own = handlers.PUBHandler("tcp://127.0.0.1:*")
    assert own.ctx is not lib.Context.instance()  # a new Context of its own
    own.socket.close(linger=0)
    own.ctx.term()


def test_pub_handler_rejects_what_cannot_be_bound(lib: ModuleType) -> None:
    handlers = mod(lib, "log.handlers")
    with pytest.raises(lib.ZMQError):
        handlers.PUBHandler("not-an-endpoint", context=lib.Context.instance())
    for bad in (5, None):
        with pytest.raises(TypeError):
            handlers.PUBHandler(bad, context=lib.Context.instance())


def test_topic_logger_log(lib: ModuleType, log_pair: Any) -> None:
    handlers = mod(lib, "log.handlers")
    pub, sub = log_pair
    handler = handlers.PUBHandler(pub)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = handlers.TopicLogger(f"topic-{lib.__name__}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.log(logging.INFO, "my.topic", "msg %d", 3)
    assert sub.recv_multipart() == [b"INFO.my.topic", b"msg 3"]


def test_purezmq_topic_logger_level_methods(log_pair: Any) -> None:
    """pyzmq 27's level methods all log at CRITICAL with shifted arguments (a closure bug);
    purezmq's do what its documentation says."""
    pub, sub = log_pair
    handler = purezmq.log.handlers.PUBHandler(pub)
    handler.setFormatter(logging.Formatter("%(message)s %(filename)s"))
    logger = purezmq.log.handlers.TopicLogger("purezmq-topic-levels")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.debug("t", "d %s", 1)
    logger.info("t", "i")
    logger.warning("t.u", "w")
    logger.error("t", "e")
    logger.critical("t", "c")
    got = [sub.recv_multipart() for _ in range(5)]
    assert got == [
        [b"DEBUG.t", b"d 1 test_modules.py"],
        [b"INFO.t", b"i test_modules.py"],
        [b"WARNING.t.u", b"w test_modules.py"],
        [b"ERROR.t", b"e test_modules.py"],
        [b"CRITICAL.t", b"c test_modules.py"],
    ]


def test_purezmq_pub_handler_formats_custom_levels(log_pair: Any) -> None:
    pub, sub = log_pair
    handler = purezmq.log.handlers.PUBHandler(pub)
    logging.addLevelName(25, "NOTICE")
    _logger(handler, "custom").log(25, "custom level")
    assert sub.recv_multipart() == [b"NOTICE", b"custom level\n"]  # INFO's formatter


# --------------------------------------------------------------------------------------------------
# python -m <lib>.log, python -m <lib>.curve_keygen


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)


def test_log_watcher_help_matches_pyzmq() -> None:
    ours = _run("-m", "purezmq.log", "--help")
    theirs = _run("-m", "zmq.log", "--help")
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout
    bad = _run("-m", "purezmq.log")
    assert bad.returncode == 2 and "zmq_pub_url" in bad.stderr


def _watch(
    lib: ModuleType, options: list[str], messages: list[list[bytes]], prefix: bytes = b""
) -> list[str]:
    """Lines the watcher of ``lib`` prints for ``messages``, between a readiness message and an
    end one (their topics start with ``prefix``, for a watcher that filters by topic)."""
    ctx = lib.Context()
    pub = ctx.socket(lib.PUB)
    pub.linger = 0
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    proc = subprocess.Popen(
        [sys.executable, "-m", f"{lib.__name__}.log", *options, f"tcp://127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while not lines:  # The subscription takes a moment to arrive (slow joiner).
            assert time.monotonic() < deadline, "the watcher printed nothing"
            pub.send_multipart([prefix + b"READY", b"ready"])
            time.sleep(0.1)
        for message in messages:
            pub.send_multipart(message)
        pub.send_multipart([prefix + b"END", b"end"])
        while not any("END" in line for line in lines):
            assert time.monotonic() < deadline, f"no END line: {lines}"
            time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(10)
        reader.join(5)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
        pub.close()
        ctx.term()
    return [line for line in lines if "READY" not in line and "END" not in line]


WATCHED = [
    [b"INFO", b"hello\n"],
    [b"WARNING.sub", b"careful\n"],
    [b"root.ERROR.x.y", b"  bad  "],
    [b"DEBUG", b"multi\nline\n"],
    [b"", b"empty topic"],
]


@pytest.mark.parametrize(
    "options", [[], ["--separator", " :: ", "--align"]], ids=["plain", "align"]
)
def test_log_watcher_output_matches_pyzmq(options: list[str]) -> None:
    ours = _watch(purezmq, options, WATCHED)
    theirs = _watch(_pyzmq, options, WATCHED)
    assert ours == theirs
    assert ours[0] == ("INFO | hello\n" if not options else "INFO  :: hello\n")


def test_purezmq_log_watcher_timestamp_topic_and_odd_messages() -> None:
    lines = _watch(
        purezmq,
        ["--timestamp", "--dateformat", "%Y", "-t", "WARN"],
        [[b"INFO", b"skipped"], [b"WARNING", b"w"], [b"WARN"], [b"WARN", b"\xff"]],
        prefix=b"WARN.",
    )
    year = time.strftime("%Y")
    # Not two frames, or not UTF-8: printed rather than ending the watcher (pyzmq's ends).
    assert lines == [f"{year} WARNING | w\n", f"{year}  | WARN\n", f"{year} WARN | \ufffd\n"]


def test_curve_keygen_matches_pyzmq(lib: ModuleType) -> None:
    if not HAVE_NACL:
        pytest.skip("CURVE needs PyNaCl")
    pair = _run("-m", f"{lib.__name__}.curve_keygen")
    assert pair.returncode == 0
    lines = pair.stdout.splitlines()
    assert lines[0] == "== CURVE PUBLIC KEY ==" and lines[3] == "== CURVE SECRET KEY =="
    public, secret = lines[1], lines[4]
    assert _pyzmq.curve_public(secret.encode()).decode() == public
    derived = _run("-m", f"{lib.__name__}.curve_keygen", "--secret", secret)
    assert derived.stdout == pair.stdout
    as_json = _run("-m", f"{lib.__name__}.curve_keygen", "--json", "--secret", secret)
    assert json.loads(as_json.stdout) == {"public": public, "secret": secret}
    assert as_json.stdout == json.dumps({"public": public, "secret": secret}, indent=1) + "\n"
    assert _run("-m", f"{lib.__name__}.curve_keygen", "--secret", "short").returncode == 1
    assert _run("-m", f"{lib.__name__}.curve_keygen", "extra").returncode == 2


def test_curve_keygen_help_matches_pyzmq() -> None:
    ours = _run("-m", "purezmq.curve_keygen", "--help").stdout
    theirs = _run("-m", "zmq.curve_keygen", "--help").stdout
    assert ours.replace("purezmq.", "zmq.") == theirs


# --------------------------------------------------------------------------------------------------
# curve_keypair / curve_public arguments


@pytest.mark.skipif(not HAVE_NACL, reason="CURVE needs PyNaCl")
def test_curve_public_arguments(lib: ModuleType) -> None:
    public, secret = lib.curve_keypair()
    assert isinstance(public, bytes) and len(public) == len(secret) == 40
    assert lib.curve_public(secret) == public
    assert lib.curve_public(secret.decode()) == public
    assert lib.curve_public(bytearray(secret)) == public
    for wrong_length in (b"x" * 32, secret + b"a", b""):
        with pytest.raises(ValueError, match="40 byte z85"):
            lib.curve_public(wrong_length)
    with pytest.raises(lib.ZMQError) as info:
        lib.curve_public(b"~" * 40)
    assert info.value.errno == errno.EINVAL
    for bad in (None, 5, memoryview(secret)):
        with pytest.raises(TypeError):
            lib.curve_public(bad)


def test_purezmq_curve_without_pynacl_is_enotsup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nacl.bindings", None)
    monkeypatch.setitem(sys.modules, "nacl", None)
    assert purezmq.has("curve") is False
    with pytest.raises(purezmq.ZMQError) as info:
        purezmq.curve_keypair()
    assert info.value.errno == errno.ENOTSUP
    assert isinstance(info.value, ImportError)  # and what it comes from

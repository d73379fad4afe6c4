"""Context surface against pyzmq: repr, underlying/shadow/copy, instance() (subclasses, fork),
context options (zmq_ctx_get/zmq_ctx_set as libzmq 4.3.5 takes them, and what they do), options
as attributes, socket options kept for new sockets (sockopts), the context manager, destroy,
term, and what a closed context refuses.

Each test body runs against purezmq and against pyzmq (the ``lib`` fixture), except where a
comment marks a deliberate difference.
"""

from __future__ import annotations

import copy
import errno
import gc
import os
import re
import time
import warnings
from types import ModuleType

import pytest
import zmq as pyzmq_module

import purezmq

from ._helpers import Worker

pytestmark = pytest.mark.timeout(30)

LIBS = {"purezmq": purezmq, "pyzmq": pyzmq_module}


@pytest.fixture(params=list(LIBS))
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return LIBS[request.param]


def _name(lib: ModuleType) -> str:
    return "zmq.Context" if lib is pyzmq_module else "purezmq.Context"


# --------------------------------------------------------------------------------------------------
# repr


def test_repr_counts_open_sockets_and_says_closed(lib) -> None:
    c = lib.Context()
    name = re.escape(_name(lib))
    assert re.fullmatch(rf"<{name}\(\) at 0x[0-9a-f]+>", repr(c)), repr(c)
    assert f"at {id(c):#x}" in repr(c)
    a = c.socket(lib.PUSH)
    assert re.fullmatch(rf"<{name}\(1 socket\) at 0x[0-9a-f]+>", repr(c)), repr(c)
    b = c.socket(lib.PULL)
    assert "(2 sockets)" in repr(c)
    b.close()
    assert "(1 socket)" in repr(c)
    a.close()
    c.term()
    assert re.fullmatch(rf"<{name}\(\) at 0x[0-9a-f]+ closed>", repr(c)), repr(c)


# --------------------------------------------------------------------------------------------------
# underlying, shadow, copy


def test_underlying_shadow_and_copy(lib) -> None:
    c = lib.Context()
    try:
        address = c.underlying
        assert isinstance(address, int) and address != 0
        for shadow in (
            lib.Context.shadow(address),
            lib.Context.shadow(c),
            lib.Context(shadow=address),
            lib.Context(c),
            copy.copy(c),
            copy.deepcopy(c),
        ):
            assert type(shadow) is lib.Context and shadow is not c
            assert shadow.underlying == address
            assert not shadow.closed
        # A shadow's sockets are the context's: inproc names are shared.
        shadow = lib.Context.shadow(address)
        server = c.socket(lib.PAIR)
        client = shadow.socket(lib.PAIR)
        server.bind("inproc://shadowed")
        client.connect("inproc://shadowed")
        client.send(b"across")
        assert server.recv() == b"across"
        client.close()
        server.close()
        del shadow
        gc.collect()
        assert not c.closed  # a collected shadow does not terminate the context
        c.socket(lib.PUSH).close()
    finally:
        c.term()
    assert c.underlying == 0


# (pyzmq's original, collected after its libzmq context is gone, fails in __del__.)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_shadow_term_terminates_the_context(lib) -> None:
    c = lib.Context()
    shadow = lib.Context.shadow(c.underlying)
    shadow.term()
    assert shadow.closed
    with pytest.raises(lib.ZMQError) as info:
        c.socket(lib.PUSH)
    # The libzmq context is gone: pyzmq says EFAULT (and so does a term() of the original);
    # purezmq, whose runtime is still there, terminated, says ETERM (and term() is harmless).
    assert info.value.errno == (errno.EFAULT if lib is pyzmq_module else lib.ETERM)
    if lib is purezmq:
        c.term()
    del c, shadow, info  # (the traceback holds the context)
    gc.collect()


def test_shadow_of_what_is_not_an_address(lib) -> None:
    with pytest.raises(ValueError):
        lib.Context.shadow("x")


def test_shadow_subclass(lib) -> None:
    class MyContext(lib.Context):
        pass

    c = lib.Context()
    try:
        assert type(MyContext.shadow(c.underlying)) is MyContext
    finally:
        c.term()


# --------------------------------------------------------------------------------------------------
# instance()


def test_instance_is_per_class_and_renewed_after_term(lib) -> None:
    class MyContext(lib.Context):
        pass

    base = lib.Context.instance()
    if lib is pyzmq_module:
        # pyzmq looks _instance up through the class hierarchy: a subclass without its own
        # ``_instance = None`` gets the base class's instance once there is one.
        assert MyContext.instance() is base
        MyContext._instance = None
    # Deliberate: in purezmq each class has its own instance (an instance of that class).
    mine = MyContext.instance()
    try:
        assert type(mine) is MyContext and type(base) is lib.Context
        assert mine is not base
        assert MyContext.instance() is mine and lib.Context.instance() is base
        assert lib.Context.instance(io_threads=3).get(lib.IO_THREADS) == 1  # (the existing one)
    finally:
        mine.term()
        base.term()
    renewed = lib.Context.instance()
    assert renewed is not base and not renewed.closed
    renewed.term()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_instance_in_a_forked_child_is_a_new_one(lib) -> None:
    parent = lib.Context.instance()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            child = lib.Context.instance()
            ok = child is not parent and lib.Context.instance() is child
            s = child.socket(lib.PAIR)
            s.bind("inproc://in-the-child")
            s.close()
            os.write(w, b"1" if ok else b"0")
        except BaseException:
            os.write(w, b"E")
        finally:
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    answer = os.read(r, 1)
    os.close(r)
    parent.term()
    assert answer == b"1"


# --------------------------------------------------------------------------------------------------
# context options


def test_option_defaults(lib) -> None:
    c = lib.Context()
    try:
        assert c.get(lib.IO_THREADS) == c.io_threads == 1
        assert c.get(lib.MAX_SOCKETS) == c.max_sockets == 1023
        assert c.get(lib.SOCKET_LIMIT) == c.socket_limit == 65535
        assert c.get(lib.MAX_MSGSZ) == c.max_msgsz == 2**31 - 1
        assert c.get(lib.MSG_T_SIZE) == c.msg_t_size == 64
        assert c.get(lib.THREAD_SCHED_POLICY) == -1
        assert c.get(lib.THREAD_NAME_PREFIX) == 0
        assert c.get(lib.THREAD_PRIORITY) == 65535  # (what libzmq 4.3.5 reads back)
        assert c.get(lib.BLOCKY) == 1
        assert c.get(lib.IPV6) == 0
        for option in (lib.THREAD_AFFINITY_CPU_ADD, lib.THREAD_AFFINITY_CPU_REMOVE, 9999):
            with pytest.raises(lib.ZMQError) as info:
                c.get(option)
            assert info.value.errno == errno.EINVAL
        with pytest.raises(AttributeError, match="write-only"):
            c.thread_affinity_cpu_add  # noqa: B018
    finally:
        c.term()


@pytest.mark.parametrize(
    ("name", "value", "reads"),
    [
        ("IO_THREADS", 2, 2),
        ("IO_THREADS", 0, 0),
        ("MAX_SOCKETS", 100, 100),
        ("MAX_SOCKETS", 100_000, 100_000),
        ("MAX_MSGSZ", 100, 100),
        ("MAX_MSGSZ", 0, 0),
        ("BLOCKY", 0, 0),
        ("BLOCKY", 5, 1),
        ("IPV6", 1, 1),
        ("IPV6", 7, 1),
        ("THREAD_SCHED_POLICY", 1, 1),
        ("THREAD_NAME_PREFIX", 5, 5),
        ("THREAD_NAME_PREFIX", -1, -1),
        ("THREAD_PRIORITY", 0, 65535),
        ("SOCKET_LIMIT", 5, 65535),  # taken, and nothing changes
    ],
)
def test_option_set_and_read_back(lib, name, value, reads) -> None:
    c = lib.Context()
    try:
        option = getattr(lib, name)
        assert c.set(option, value) is None
        assert c.get(option) == reads
    finally:
        c.term()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("IO_THREADS", -1),
        ("MAX_SOCKETS", 0),
        ("MAX_SOCKETS", -1),
        ("MAX_MSGSZ", -1),
        ("MSG_T_SIZE", 5),
        ("BLOCKY", -1),
        ("IPV6", -1),
        ("THREAD_PRIORITY", -1),
        ("THREAD_SCHED_POLICY", -5),
        ("THREAD_AFFINITY_CPU_ADD", -1),
        ("THREAD_AFFINITY_CPU_REMOVE", 3),
    ],
)
def test_option_values_refused(lib, name, value) -> None:
    c = lib.Context()
    try:
        with pytest.raises(lib.ZMQError) as info:
            c.set(getattr(lib, name), value)
        assert info.value.errno == errno.EINVAL
    finally:
        c.term()


def test_affinity_add_then_remove(lib) -> None:
    c = lib.Context()
    try:
        c.set(lib.THREAD_AFFINITY_CPU_ADD, 0)
        c.set(lib.THREAD_AFFINITY_CPU_REMOVE, 0)
        with pytest.raises(lib.ZMQError):
            c.set(lib.THREAD_AFFINITY_CPU_REMOVE, 0)
        c.thread_affinity_cpu_add = 1  # write-only, but settable as an attribute
    finally:
        c.term()


def test_option_type_errors(lib) -> None:
    c = lib.Context()
    try:
        for bad in ("1", 1.0, b"1", None):
            with pytest.raises(TypeError, match="expected int"):
                c.set(lib.IO_THREADS, bad)
        with pytest.raises(OverflowError):
            c.set(lib.IO_THREADS, 2**40)
        with pytest.raises(TypeError, match="an integer is required"):
            c.set("IO_THREADS", 1)
        with pytest.raises(lib.ZMQError) as info:
            c.set(9999, 1)
        assert info.value.errno == errno.EINVAL
        c.set(lib.MAX_SOCKETS, True)  # a bool is an int
    finally:
        c.term()


def test_constructor_arguments(lib) -> None:
    c = lib.Context(2)
    assert c.get(lib.IO_THREADS) == 2
    c.term()
    c = lib.Context(io_threads=0)
    assert c.io_threads == 0
    c.term()
    with pytest.raises(lib.ZMQError) as info:
        lib.Context(io_threads=-1)
    assert info.value.errno == errno.EINVAL
    with pytest.raises(TypeError):
        lib.Context("x")
    with pytest.raises(TypeError):
        lib.Context(no_such_argument=1)


def test_blocky_0_gives_new_sockets_linger_0_and_ipv6_1_ipv6(lib) -> None:
    c = lib.Context()
    try:
        c.set(lib.BLOCKY, 0)
        c.set(lib.IPV6, 1)
        s = c.socket(lib.PUSH)
        assert s.linger == 0 and s.ipv6 == 1
        s.close()
        c.set(lib.BLOCKY, 1)
        c.set(lib.IPV6, 0)
        s = c.socket(lib.PUSH)
        assert s.linger == -1 and s.ipv6 == 0
        s.close()
    finally:
        c.term()


def test_max_sockets_is_read_when_the_first_socket_is_made(lib) -> None:
    c = lib.Context()
    c.set(lib.MAX_SOCKETS, 2)
    sockets = [c.socket(lib.PUSH), c.socket(lib.PUSH)]
    try:
        with pytest.raises(lib.ZMQError) as info:
            c.socket(lib.PUSH)
        assert info.value.errno == errno.EMFILE
        sockets.pop().close()
        time.sleep(0.2)  # (libzmq frees a closed socket's slot in its reaper thread)
        sockets.append(c.socket(lib.PUSH))
        c.set(lib.MAX_SOCKETS, 10)  # too late: the context started
        with pytest.raises(lib.ZMQError) as info:
            c.socket(lib.PUSH)
        assert info.value.errno == errno.EMFILE
    finally:
        for s in sockets:
            s.close()
        c.term()


def test_io_threads_0_leaves_only_inproc(lib) -> None:
    c = lib.Context(io_threads=0)
    s = c.socket(lib.PUSH)
    try:
        s.bind("inproc://no-io-thread")
        with pytest.raises(lib.ZMQError) as info:
            s.connect("tcp://127.0.0.1:5555")
        assert info.value.errno == lib.EMTHREAD
        assert "(addr='tcp://127.0.0.1:5555')" in str(info.value)
    finally:
        s.close()
        c.term()


def test_get_and_set_after_term(lib) -> None:
    c = lib.Context()
    c.term()
    with pytest.raises(RuntimeError, match="Context has been destroyed"):
        c.get(lib.IO_THREADS)
    with pytest.raises(RuntimeError, match="Context has been destroyed"):
        c.set(lib.IO_THREADS, 1)
    with pytest.raises(RuntimeError):
        c.io_threads  # noqa: B018
    c.setsockopt(lib.LINGER, 1)  # (kept for sockets that will never be made: no error)


# --------------------------------------------------------------------------------------------------
# options as attributes, sockopts


def test_attributes(lib) -> None:
    c = lib.Context()
    try:
        c.max_sockets = 50
        assert c.max_sockets == 50 == c.get(lib.MAX_SOCKETS)
        with pytest.raises(AttributeError, match="LINGER"):
            c.linger  # noqa: B018  (no socket option kept yet)
        c.linger = 50
        assert c.linger == 50 == c.getsockopt(lib.LINGER)
        assert c.sockopts == {lib.LINGER: 50}
        # BLOCKY and IPV6 share their numbers with socket options: as attributes they are
        # socket options, as in pyzmq.
        c.ipv6 = 1
        assert c.sockopts[lib.IPV6] == 1 and c.get(lib.IPV6) == 0
        with pytest.raises(AttributeError):
            c.blocky  # noqa: B018
        with pytest.raises(AttributeError, match="Context has no such option: FOOBAR"):
            c.foobar  # noqa: B018
        with pytest.raises(AttributeError, match="Context has no such option: FOOBAR"):
            c.foobar = 3
        with pytest.raises(lib.ZMQError):
            c.msg_t_size = 5
        s = c.socket(lib.PULL)
        assert s.linger == 50 and s.ipv6 == 1
        s.close()
    finally:
        c.term()


def test_sockopts_are_checked_when_a_socket_is_made(lib) -> None:
    c = lib.Context()
    try:
        with pytest.raises(KeyError):
            c.getsockopt(lib.SNDHWM)
        c.setsockopt(9999, 1)  # unknown: kept; skipped (EINVAL) at socket creation
        c.setsockopt(lib.SUBSCRIBE, b"topic")  # taken by SUB sockets only
        c.setsockopt(lib.SNDHWM, 7)
        assert c.getsockopt(lib.SUBSCRIBE) == b"topic"
        push = c.socket(lib.PUSH)
        assert push.sndhwm == 7
        push.close()
        sub = c.socket(lib.SUB)
        assert sub.sndhwm == 7
        sub.close()
        c.setsockopt(lib.LINGER, 1.5)  # taken here...
        with pytest.raises(TypeError, match="expected int, got: 1.5"):
            c.socket(lib.PUSH)  # ... refused when a socket is made
        c.sockopts.clear()
        c.setsockopt(lib.IDENTITY, "x")
        with pytest.raises(TypeError, match="unicode not allowed"):
            c.socket(lib.DEALER)
        c.sockopts.clear()
    finally:
        c.destroy(linger=0)


def test_socket_class_argument(lib) -> None:
    class MySocket(lib.Socket):
        pass

    c = lib.Context()
    try:
        s = c.socket(lib.PUSH, socket_class=MySocket)
        assert type(s) is MySocket and s.context is c
        s.close()
        with pytest.raises(TypeError):
            c.socket("PUSH")
    finally:
        c.term()


# --------------------------------------------------------------------------------------------------
# context manager, destroy, term


def test_context_manager_destroys_and_warns_for_open_sockets(lib) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lib.Context() as c:
            assert isinstance(c, lib.Context)
            s = c.socket(lib.PUSH)
            s.linger = 0
            s.connect("tcp://127.0.0.1:1")
            s.send(b"never delivered")
            closed_one = c.socket(lib.PULL)
            closed_one.close()
    assert s.closed and c.closed
    texts = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert len(texts) == 1 and texts[0].startswith("Destroying context with unclosed socket <")
    assert "(zmq.PUSH)" in texts[0]


def test_context_manager_on_an_exception(lib) -> None:
    with pytest.raises(ValueError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.Context() as c:
                s = c.socket(lib.PUSH)
                s.linger = 0
                raise ValueError("boom")
    assert s.closed and c.closed


def test_context_manager_honours_linger(lib) -> None:
    t0 = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.Context() as c:
            s = c.socket(lib.PUSH)
            s.linger = 300
            s.connect("tcp://127.0.0.1:1")
            s.send(b"never delivered")
    assert 0.2 < time.monotonic() - t0 < 3


def test_destroy_with_and_without_linger(lib) -> None:
    c = lib.Context()
    s = c.socket(lib.PUSH)
    s.linger = 300
    s.connect("tcp://127.0.0.1:1")
    s.send(b"never delivered")
    t0 = time.monotonic()
    c.destroy(linger=0)
    assert time.monotonic() - t0 < 1
    assert s.closed and c.closed
    c.destroy()  # again: harmless
    c.term()


def test_term_is_idempotent_and_socket_after_term_is_enotsup(lib) -> None:
    c = lib.Context()
    assert c.closed is False
    c.term()
    c.term()
    assert c.closed is True
    with pytest.raises(lib.ZMQError) as info:
        c.socket(lib.PUSH)
    assert info.value.errno == errno.ENOTSUP


def test_unterminated_context_warns_when_collected(lib) -> None:
    c = lib.Context()
    c.socket(lib.PUSH).close()
    with pytest.warns(ResourceWarning, match="Unclosed context <"):
        del c
        gc.collect()


def test_term_waits_for_sockets_then_closed(lib) -> None:
    c = lib.Context()
    s = c.socket(lib.PULL)
    worker = Worker(c.term, "term")
    worker.start()
    assert not worker.done.wait(0.3)
    assert not c.closed  # (closed once term returned)
    s.close()
    worker.finish(5)
    assert c.closed

"""Constants, enums, aliases, errors and versions compared with pyzmq itself."""

from __future__ import annotations

import errno

import pytest
import zmq as _pyzmq
import zmq.constants as _pyzmq_constants

pytestmark = pytest.mark.timeout(30)

ENUMS = ["SocketType", "SocketOption", "Flag", "PollEvent", "Event", "Errno", "ContextOption"]


@pytest.mark.parametrize("enum_name", ENUMS)
def test_enum_members_match_pyzmq(zmq_impl, pyzmq, enum_name: str) -> None:
    reference = getattr(pyzmq, enum_name)
    ours = getattr(zmq_impl, enum_name)
    mismatched = []
    for name, member in reference.__members__.items():
        try:
            value = ours[name]
        except KeyError:
            mismatched.append((name, int(member), "missing"))
            continue
        if int(value) != int(member):
            mismatched.append((name, int(member), int(value)))
    assert not mismatched, f"{enum_name}: {mismatched}"


@pytest.mark.parametrize("enum_name", ENUMS)
def test_enum_flat_names_match_pyzmq(zmq_impl, pyzmq, enum_name: str) -> None:
    """Every enum member pyzmq also exposes at module level (Event ones as EVENT_*)."""
    reference = getattr(pyzmq, enum_name)
    mismatched = []
    for name, member in reference.__members__.items():
        for flat in (name, f"EVENT_{name}"):
            if getattr(pyzmq, flat, None) == int(member) and isinstance(getattr(pyzmq, flat), int):
                value = getattr(zmq_impl, flat, None)
                if value is None or int(value) != int(member):
                    mismatched.append((flat, int(member), value))
    assert not mismatched, f"{enum_name}: {mismatched}"


def test_every_module_level_constant_matches_pyzmq(zmq_impl, pyzmq) -> None:
    names = [n for n in _pyzmq_constants.__all__ if isinstance(getattr(pyzmq, n, None), int)]
    assert len(names) > 200
    mismatched = [
        (n, int(getattr(pyzmq, n)), getattr(zmq_impl, n, None))
        for n in names
        if getattr(zmq_impl, n, None) is None or int(getattr(zmq_impl, n)) != int(getattr(pyzmq, n))
    ]
    assert not mismatched, mismatched


def test_aliases(zmq_impl) -> None:
    assert zmq_impl.NOBLOCK == zmq_impl.DONTWAIT == 1
    assert zmq_impl.IDENTITY == zmq_impl.ROUTING_ID == 5
    assert zmq_impl.XREQ == zmq_impl.DEALER == 5
    assert zmq_impl.XREP == zmq_impl.ROUTER == 6
    assert zmq_impl.HWM == 1
    assert zmq_impl.EVENT_CONNECTED == 1
    assert zmq_impl.EVENT_LISTENING == 8
    assert zmq_impl.EVENT_ACCEPTED == 32
    assert zmq_impl.EVENT_CLOSED == 128
    assert zmq_impl.EVENT_DISCONNECTED == 512
    assert zmq_impl.EVENT_MONITOR_STOPPED == 1024
    assert zmq_impl.EVENT_HANDSHAKE_SUCCEEDED == 4096
    assert zmq_impl.EVENT_ALL == 0xFFFF
    assert zmq_impl.POLLIN == 1 and zmq_impl.POLLOUT == 2 and zmq_impl.POLLERR == 4
    assert zmq_impl.SNDMORE == 2 and zmq_impl.RCVMORE == 13 and zmq_impl.MORE == 1


def test_enum_types(zmq_impl) -> None:
    assert zmq_impl.SocketType.PUSH == zmq_impl.PUSH
    assert zmq_impl.SocketOption.LINGER == zmq_impl.LINGER
    assert zmq_impl.Flag.SNDMORE == zmq_impl.SNDMORE
    assert zmq_impl.PollEvent.POLLIN | zmq_impl.PollEvent.POLLOUT == 3
    assert zmq_impl.Errno.ETERM == zmq_impl.ETERM
    assert zmq_impl.ContextOption.IO_THREADS == zmq_impl.IO_THREADS
    assert zmq_impl.Event.CONNECTED == zmq_impl.EVENT_CONNECTED


# --------------------------------------------------------------------------------------------------
# errors

ERRNO_NAMES = ["EAGAIN", "EINVAL", "EFSM", "ETERM", "EHOSTUNREACH", "ENOTSUP"]


@pytest.mark.parametrize("name", ERRNO_NAMES)
def test_zmqerror_text_matches_pyzmq(zmq_impl, pyzmq, name: str) -> None:
    number = getattr(pyzmq, name)
    assert getattr(zmq_impl, name) == number
    ours = zmq_impl.ZMQError(number)
    theirs = pyzmq.ZMQError(number)
    assert ours.errno == theirs.errno == number
    assert ours.strerror == theirs.strerror
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("name", sorted(_pyzmq.Errno.__members__))
def test_strerror_matches_pyzmq(zmq_impl, pyzmq, name: str) -> None:
    number = int(getattr(pyzmq.Errno, name))
    assert zmq_impl.strerror(number) == pyzmq.strerror(number)


def test_exception_hierarchy(zmq_impl) -> None:
    assert issubclass(zmq_impl.ZMQError, zmq_impl.ZMQBaseError)
    assert issubclass(zmq_impl.ZMQBaseError, Exception)
    assert issubclass(zmq_impl.Again, zmq_impl.ZMQError)
    assert issubclass(zmq_impl.ContextTerminated, zmq_impl.ZMQError)
    assert issubclass(zmq_impl.InterruptedSystemCall, zmq_impl.ZMQError)
    assert issubclass(zmq_impl.NotDone, zmq_impl.ZMQBaseError)
    assert issubclass(zmq_impl.ZMQBindError, zmq_impl.ZMQBaseError)


def test_exception_defaults(zmq_impl, pyzmq) -> None:
    again = zmq_impl.Again()
    assert again.errno == errno.EAGAIN
    assert str(again) == str(pyzmq.Again())
    term = zmq_impl.ContextTerminated()
    assert term.errno == zmq_impl.ETERM
    assert str(term) == str(pyzmq.ContextTerminated())
    with pytest.raises(zmq_impl.ZMQError) as info:
        raise zmq_impl.Again()
    assert info.value.errno == zmq_impl.EAGAIN
    custom = zmq_impl.ZMQError(errno.EINVAL, "custom text")
    assert custom.errno == errno.EINVAL
    assert str(custom) == "custom text"


def test_versions(zmq_impl, pyzmq) -> None:
    info = zmq_impl.zmq_version_info()
    assert isinstance(info, tuple) and len(info) == 3
    assert all(isinstance(part, int) for part in info)
    assert info >= (4, 3, 0)
    assert zmq_impl.zmq_version() == ".".join(map(str, info))
    assert isinstance(zmq_impl.pyzmq_version(), str)
    assert isinstance(zmq_impl.__version__, str)

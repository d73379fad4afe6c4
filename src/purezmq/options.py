"""Socket options: their types, defaults and checks, as libzmq defines them (zmq_setsockopt)."""

from __future__ import annotations

import builtins
import errno
from dataclasses import dataclass

from .constants import SecurityMechanism
from .constants import SocketOption as Opt
from .error import OptionTypeError, ZMQError
from .routing.sockets import RoutingOptions


@dataclass(frozen=True)
class OptionSpec:
    kind: str  # "int", "int64" or "bytes"
    default: int | bytes
    minimum: int = -1
    maximum: int | None = None
    readable: bool = True
    writable: bool = True


def _int(default: int, minimum: int = -1, maximum: int | None = None) -> OptionSpec:
    return OptionSpec("int", default, minimum, maximum)


def _flag(default: int = 0) -> OptionSpec:
    return OptionSpec("int", default, 0, 1)


SPECS: dict[int, OptionSpec] = {
    Opt.SNDHWM: _int(1000, 0),
    Opt.RCVHWM: _int(1000, 0),
    Opt.LINGER: _int(-1),
    Opt.RCVTIMEO: _int(-1),
    Opt.SNDTIMEO: _int(-1),
    Opt.ROUTING_ID: OptionSpec("bytes", b""),
    Opt.RECONNECT_IVL: _int(100),
    Opt.RECONNECT_IVL_MAX: _int(0, 0),
    Opt.BACKLOG: _int(100, 0),
    Opt.MAXMSGSIZE: OptionSpec("int64", -1),
    Opt.IPV6: _flag(),
    Opt.IPV4ONLY: _flag(1),
    Opt.IMMEDIATE: _flag(),
    Opt.SNDBUF: _int(-1),
    Opt.RCVBUF: _int(-1),
    Opt.ROUTER_MANDATORY: _int(0, 0),
    Opt.REQ_RELAXED: _int(0, 0),
    Opt.REQ_CORRELATE: _int(0, 0),
    Opt.XPUB_VERBOSE: _int(0, 0),
    Opt.HANDSHAKE_IVL: _int(30000, 0),
    Opt.TCP_KEEPALIVE: _int(-1, -1, 1),
    Opt.TCP_KEEPALIVE_CNT: _int(-1),
    Opt.TCP_KEEPALIVE_IDLE: _int(-1),
    Opt.TCP_KEEPALIVE_INTVL: _int(-1),
    Opt.CONNECT_TIMEOUT: _int(0, 0),
    Opt.TOS: _int(0, 0),
    Opt.PLAIN_SERVER: _flag(),
    Opt.PLAIN_USERNAME: OptionSpec("bytes", b""),
    Opt.PLAIN_PASSWORD: OptionSpec("bytes", b""),
    Opt.CURVE_SERVER: _flag(),
    Opt.CURVE_PUBLICKEY: OptionSpec("bytes", b""),
    Opt.CURVE_SECRETKEY: OptionSpec("bytes", b""),
    Opt.CURVE_SERVERKEY: OptionSpec("bytes", b""),
    Opt.ZAP_DOMAIN: OptionSpec("bytes", b""),
    Opt.ZAP_ENFORCE_DOMAIN: _flag(),
    Opt.SUBSCRIBE: OptionSpec("bytes", b"", readable=False),
    Opt.UNSUBSCRIBE: OptionSpec("bytes", b"", readable=False),
    # Read-only, computed by the socket.
    Opt.TYPE: OptionSpec("int", 0, writable=False),
    Opt.RCVMORE: OptionSpec("int", 0, writable=False),
    Opt.EVENTS: OptionSpec("int", 0, writable=False),
    Opt.FD: OptionSpec("int", -1, writable=False),
    Opt.LAST_ENDPOINT: OptionSpec("bytes", b"", writable=False),
    Opt.MECHANISM: OptionSpec("int", 0, writable=False),
}


_CURVE_KEYS = (Opt.CURVE_PUBLICKEY, Opt.CURVE_SECRETKEY, Opt.CURVE_SERVERKEY)
_SECURITY = (Opt.CURVE_SERVER, *_CURVE_KEYS)


def _curve_key(data: bytes) -> bytes:
    """CURVE keys are given as 32 raw bytes or 40 Z85 characters; kept raw."""
    from .protocol.mechanisms.curve import _sodium
    from .utils import z85

    _sodium()  # A clear ImportError naming the extra when PyNaCl is missing.
    if len(data) == 32:
        return data
    if len(data) == 40:
        try:
            return z85.decode(data)
        except ValueError:
            raise ZMQError(errno.EINVAL) from None
    raise ZMQError(errno.EINVAL)


def check_value(option: int, value: object) -> int | bytes:
    """The value as stored, or the error pyzmq/libzmq give for it."""
    spec = SPECS.get(option)
    if spec is None or not spec.writable:
        raise ZMQError(errno.EINVAL)
    if spec.kind == "bytes":
        if isinstance(value, str):
            raise OptionTypeError("unicode not allowed, use setsockopt_string")
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise OptionTypeError(f"expected bytes, got: {value!r}")
        data = bytes(value)
        if option in _CURVE_KEYS:
            return _curve_key(data)
        if option in (Opt.PLAIN_USERNAME, Opt.PLAIN_PASSWORD) and len(data) > 255:
            raise ZMQError(errno.EINVAL)
        if option == Opt.ROUTING_ID and not 0 < len(data) < 256:
            raise ZMQError(errno.EINVAL)
        return data
    if isinstance(value, str):
        raise OptionTypeError("unicode not allowed, use setsockopt_string")
    if not isinstance(value, int):
        raise OptionTypeError(f"expected int, got: {value!r}")
    number = int(value)
    if number < spec.minimum or (spec.maximum is not None and number > spec.maximum):
        raise ZMQError(errno.EINVAL)
    if option == Opt.CURVE_SERVER:
        from .protocol.mechanisms.curve import _sodium

        _sodium()
    return number


class Options(RoutingOptions):
    """The stored option values of one socket (or a context's defaults for new sockets)."""

    #: Which end of a PLAIN or CURVE handshake this socket plays.
    as_server = False

    def __init__(self) -> None:
        self.values: dict[int, int | bytes] = {
            option: spec.default for option, spec in SPECS.items() if spec.readable
        }

    #: RCVTIMEO and SNDTIMEO, read at every blocking receive and send: kept at hand.
    rcvtimeo = -1
    sndtimeo = -1

    def set(self, option: int, value: int | bytes) -> None:
        self.values[option] = value
        if option == Opt.RCVTIMEO:
            self.rcvtimeo = value  # type: ignore[assignment]
        elif option == Opt.SNDTIMEO:
            self.sndtimeo = value  # type: ignore[assignment]
        elif option == Opt.ROUTER_MANDATORY:
            self.router_mandatory = bool(value)
        elif option == Opt.REQ_RELAXED:
            self.req_relaxed = bool(value)
        elif option == Opt.REQ_CORRELATE:
            self.req_correlate = bool(value)
        elif option == Opt.XPUB_VERBOSE:
            self.xpub_verbose = bool(value)
        elif option == Opt.IPV6:
            self.values[Opt.IPV4ONLY] = 0 if value else 1
        elif option == Opt.IPV4ONLY:
            self.values[Opt.IPV6] = 0 if value else 1
        elif option == Opt.PLAIN_SERVER:
            self._mechanism(SecurityMechanism.PLAIN if value else SecurityMechanism.NULL, value)
        elif option in (Opt.PLAIN_USERNAME, Opt.PLAIN_PASSWORD):
            self._mechanism(SecurityMechanism.PLAIN if value else SecurityMechanism.NULL, 0)
        elif option == Opt.CURVE_SERVER:
            self._mechanism(SecurityMechanism.CURVE if value else SecurityMechanism.NULL, value)
        elif option == Opt.CURVE_SERVERKEY:
            self._mechanism(SecurityMechanism.CURVE, 0)

    def _mechanism(self, mechanism: int, as_server: object) -> None:
        """libzmq's rule: the last security option set decides the mechanism and the role."""
        self.values[Opt.MECHANISM] = int(mechanism)
        self.as_server = bool(as_server)

    def int(self, option: builtins.int) -> builtins.int:
        value = self.values[option]
        assert isinstance(value, int)
        return value

    def bytes(self, option: builtins.int) -> builtins.bytes:
        value = self.values[option]
        assert isinstance(value, bytes)
        return value

    def copy_from(self, other: Options) -> None:
        for option, value in other.values.items():
            self.set(option, value)
        self.values[Opt.MECHANISM] = other.values[Opt.MECHANISM]
        self.as_server = other.as_server

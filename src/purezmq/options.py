"""Socket options: every option of zmq_setsockopt(3) and zmq_getsockopt(3), as in libzmq 4.3.5.

``SPECS`` is the table, one line per option, grouped by what the options are about. A line gives:

- the kind of value: ``int`` (a C int), ``int64``, ``bytes`` (binary data) or ``str`` (a character
  string). Both ``bytes`` and ``str`` are ``bytes`` in Python, as in pyzmq; set_string and
  get_string encode and decode them. pyzmq's type checks come first: a ``str`` value is a
  TypeError ("use setsockopt_string"), a number out of the C type an OverflowError;
- the default, and the socket types whose default differs (``by_type``: LINGER is 0 on SUB and
  XSUB, THREAD_SAFE is 1 on the thread-safe types);
- the values it takes: a range of numbers, a range of lengths for bytes, or a check of its own
  (``convert``, which also gives the value as stored: HEARTBEAT_TTL is kept in deciseconds, a
  CURVE key as its 32 raw bytes, and the "any number is a boolean" options as 0 or 1);
- whether getsockopt reads it and setsockopt writes it: many options are write-only in libzmq,
  and getsockopt of them is EINVAL;
- the socket types that take it (``types``; None: all). Others get EINVAL, on set and on get.

Where the manual and libzmq disagree, libzmq as seen through pyzmq 27 decides: INVERT_MATCHING,
ZAP_ENFORCE_DOMAIN, LOOPBACK_FASTPATH and MULTICAST_LOOP take any number (kept as 0 or 1) on every
socket type; the flags of one socket type (ROUTER_MANDATORY, XPUB_VERBOSE, PROBE_ROUTER...) take
any number >= 0; TOS and the TCP keepalive numbers take 0; REP takes the ROUTER options and PUB the
XPUB ones (in libzmq a REP is a ROUTER and a PUB an XPUB); SUB does not take ONLY_FIRST_SUBSCRIBE;
PLAIN_USERNAME, ZAP_DOMAIN and SOCKS_PROXY refuse b"" where SOCKS_USERNAME takes it; BINDTODEVICE
takes 1 to 16 bytes; HEARTBEAT_TIMEOUT reads -1 until set.

DRAFT options (``draft=True``), which pyzmq's wheel (libzmq built without the draft API) refuses,
follow their manual page; purezmq offers them. The manual says "0, 1" for flags of one socket
type; XSUB_VERBOSE_UNSUBSCRIBE is taken like its stable XPUB siblings (any number >= 0). The
manual has no page for WSS_*: they are taken as libzmq's wss transport takes them (PEM texts and a
host name, a boolean), write-only.

Refused with EINVAL on set and on get (``unsupported`` says why), as libzmq itself does when built
without them, which is how pyzmq's wheel is built:

- GSSAPI_*: purezmq has no GSSAPI mechanism (libzmq has it only when built with libgssapi_krb5);
- VMCI_*: purezmq has no vmci:// transport (libzmq has it only when built with VMware's VMCI);
- HWM: gone since libzmq 3 (SNDHWM and RCVHWM replace it; Socket.hwm sets both, as pyzmq's);
- BLOCKY: a context option (zmq_ctx_set), not a socket option.

RATE, RECOVERY_IVL, MULTICAST_HOPS, MULTICAST_LOOP and MULTICAST_MAXTPDU act on pgm, epgm and
udp endpoints. An option whose behaviour is not there is still taken, checked and read back:
NORM_*, which libzmq takes only when built with norm, as the DRAFT options purezmq offers,
though it has no norm transport. The options that gather values (METADATA, TCP_ACCEPT_FILTER,
IPC_FILTER_*) keep them in ``Options.metadata``, ``Options.tcp_accept_filters`` and
``Options.ipc_filters`` (the listeners' filters: transport/policy.py).
"""

from __future__ import annotations

import builtins
import errno
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .constants import SecurityMechanism, SocketType
from .constants import SocketOption as Opt
from .error import ZMQError
from .routing.sockets import RoutingOptions

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: The kinds whose values are bytes in Python.
BYTES_KINDS = frozenset({"bytes", "str"})


@dataclass(frozen=True)
class OptionSpec:
    """One line of the table (see the module's docstring)."""

    kind: str  # "int", "int64", "bytes" (binary data) or "str" (a character string)
    default: int | bytes
    #: Numbers: the smallest and largest values. Bytes: the shortest and longest lengths.
    minimum: int = INT_MIN
    maximum: int | None = None
    readable: bool = True
    writable: bool = True
    #: The socket types that take the option, as numbers; None: every type.
    types: frozenset[int] | None = None
    #: Defaults that differ by socket type (socket type number -> default).
    by_type: Mapping[int, int] | None = None
    #: A check of its own, after the range: (value, options or None) -> the value as stored.
    convert: Callable[[Any, Any], Any] | None = None
    #: A DRAFT option of libzmq (purezmq offers them).
    draft: bool = False
    #: Why purezmq refuses the option altogether (EINVAL on set and get); "" when it does not.
    unsupported: str = ""

    def default_for(self, socket_type: int | None) -> int | bytes:
        if self.by_type is not None and socket_type is not None:
            return self.by_type.get(socket_type, self.default)
        return self.default

    def applies_to(self, socket_type: int | None) -> bool:
        return self.types is None or socket_type is None or socket_type in self.types


def _types(names: Iterable[str]) -> frozenset[int]:
    return frozenset(int(SocketType[name]) for name in names)


def _int(
    default: int,
    minimum: int = -1,
    maximum: int = INT_MAX,
    *,
    get: bool = True,
    types: Iterable[str] | None = None,
    by_type: Mapping[str, int] | None = None,
    convert: Callable[[Any, Any], Any] | None = None,
    draft: bool = False,
) -> OptionSpec:
    """A C int option taking minimum..maximum."""
    return OptionSpec(
        "int",
        default,
        minimum,
        maximum,
        readable=get,
        types=None if types is None else _types(types),
        by_type=None if by_type is None else {int(SocketType[k]): v for k, v in by_type.items()},
        convert=convert,
        draft=draft,
    )


def _int64(default: int) -> OptionSpec:
    """An int64 option taking any value."""
    return OptionSpec("int64", default, INT64_MIN, INT64_MAX)


def _bool(default: int = 0, *, get: bool = True, **kwargs: Any) -> OptionSpec:
    """A boolean that takes 0 or 1 only (libzmq's strict booleans)."""
    return _int(default, 0, 1, get=get, **kwargs)


def _as_bool(value: int, options: Any) -> int:
    return int(value != 0)


def _any_bool(default: int = 0) -> OptionSpec:
    """A boolean that takes any number, kept as 0 or 1."""
    return _int(default, INT_MIN, convert=_as_bool)


def _flag(types: Iterable[str], *, draft: bool = False) -> OptionSpec:
    """A write-only flag of some socket types: any number >= 0, kept as 0 or 1."""
    return _int(0, 0, get=False, types=types, convert=_as_bool, draft=draft)


def _any_int(default: int = 0, *, get: bool = True) -> OptionSpec:
    """Any C int."""
    return _int(default, INT_MIN, get=get)


def _bytes(
    minimum: int = 0,
    maximum: int | None = None,
    *,
    kind: str = "bytes",
    get: bool = True,
    types: Iterable[str] | None = None,
    convert: Callable[[Any, Any], Any] | None = None,
    draft: bool = False,
) -> OptionSpec:
    """Binary data of minimum..maximum bytes (maximum None: no limit); default b""."""
    return OptionSpec(
        kind,
        b"",
        minimum,
        maximum,
        readable=get,
        types=None if types is None else _types(types),
        convert=convert,
        draft=draft,
    )


def _str(minimum: int = 0, maximum: int | None = None, **kwargs: Any) -> OptionSpec:
    """A character string of minimum..maximum bytes; default b""."""
    return _bytes(minimum, maximum, kind="str", **kwargs)


def _read_only(
    default: int | bytes, *, types: Iterable[str] | None = None, by_type: Any = None
) -> OptionSpec:
    """A value the socket gives (getsockopt only)."""
    return OptionSpec(
        "bytes" if isinstance(default, bytes) else "int",
        default,
        writable=False,
        types=None if types is None else _types(types),
        by_type=None if by_type is None else {int(SocketType[k]): v for k, v in by_type.items()},
    )


def _refused(kind: str, reason: str) -> OptionSpec:
    """An option purezmq does not offer: EINVAL on set and get."""
    return OptionSpec(kind, 0, readable=False, writable=False, unsupported=reason)


# -- the checks of their own -------------------------------------------------------------------


def _deciseconds(value: int, options: Any) -> int:
    """HEARTBEAT_TTL: libzmq keeps it in deciseconds (rounded toward zero, at most 2**16 - 1):
    -99..6553599 ms are taken, and read back rounded down to a multiple of 100."""
    return (value // 100) * 100 if value > 0 else 0


def _curve_key(data: bytes, options: Any, option: int = 0) -> bytes:
    """A CURVE key: 32 raw bytes, or its Z85 text in 40 bytes or 41 with a final NUL; kept raw.

    As libzmq, the Z85 text is read as a C string (up to a NUL: some multiple of 5 characters,
    not none), and what it decodes to replaces the start of the key held so far."""
    from .protocol.mechanisms.curve import _sodium
    from .utils import z85

    _sodium()  # A clear ImportError naming the extra when PyNaCl is missing.
    if len(data) == 32:
        return data
    if len(data) in (40, 41):
        text = data.split(b"\0", 1)[0]
        if not text or len(text) > 40 or len(text) % 5:
            raise ZMQError(errno.EINVAL)
        try:
            key = z85.decode(text)
        except ValueError:
            raise ZMQError(errno.EINVAL) from None
        held = options.values.get(option, b"") if options is not None else b""
        return key + (held or bytes(32))[len(key) :]
    raise ZMQError(errno.EINVAL)


def _curve_key_of(option: int) -> Callable[[bytes, Any], bytes]:
    return lambda data, options: _curve_key(data, options, option)


def _needs_sodium(value: int, options: Any) -> int:
    from .protocol.mechanisms.curve import _sodium

    _sodium()
    return value


_PUBLISHERS = frozenset(_types(("PUB", "XPUB")))


def _subscription(topic: bytes, options: Any) -> bytes:
    """SUBSCRIBE and UNSUBSCRIBE: a SUB's; a PUB's or XPUB's only with XPUB_MANUAL (or
    XPUB_MANUAL_LAST_VALUE) set."""
    if options is not None and options.socket_type in _PUBLISHERS and not options.xpub_manual:
        raise ZMQError(errno.EINVAL)
    return topic


def parse_metadata(data: bytes) -> tuple[bytes, bytes]:
    """METADATA's "X-name:value" as (name, value): the name starts with "X-", has something
    after it and at most 255 bytes in all; the value (after the first colon) is not empty."""
    name, colon, value = data.partition(b":")
    if not colon or not name.startswith(b"X-") or not 2 < len(name) <= 255 or not value:
        raise ZMQError(errno.EINVAL)
    return name, value


def _metadata(data: bytes, options: Any) -> bytes:
    parse_metadata(data)
    return data


def _atoi(text: str) -> int:
    """C's atoi: leading blanks, a sign, the digits up to the first other character; else 0."""
    text = text.lstrip(" \t\n\v\f\r")
    sign, digits = 1, ""
    if text[:1] in ("+", "-"):
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    for char in text:
        if not "0" <= char <= "9":
            break
        digits += char
    return sign * int(digits) if digits else 0


def parse_accept_filter(data: bytes, ipv6: bool) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """TCP_ACCEPT_FILTER's "address[/bits]", a C string, as the network it lets in.

    As libzmq reads it: a numeric address, maybe in brackets and with a %scope (an interface
    name or number); an IPv6 one only when the IPV6 option is on, and then an IPv4 one stands for
    its IPv4-mapped IPv6 address; the bits after the last "/" read as C's atoi, 1 up to the
    address's width, or exactly "0"."""
    try:
        text = data.split(b"\0", 1)[0].decode("ascii")
    except UnicodeDecodeError:
        raise ZMQError(errno.EINVAL) from None
    host, slash, bits_text = text.rpartition("/")
    if not slash:
        host = text
    elif not bits_text:
        raise ZMQError(errno.EINVAL)
    if host.startswith("[") or host.endswith("]"):
        if not (host.startswith("[") and host.endswith("]")):
            raise ZMQError(errno.EINVAL)
        host = host[1:-1]
    host, percent, scope = host.partition("%")
    if percent and not scope.isdigit():
        try:
            socket.if_nametoindex(scope)
        except OSError:
            raise ZMQError(errno.EINVAL) from None
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    flags = socket.AI_NUMERICHOST | (socket.AI_V4MAPPED if ipv6 else 0)
    try:
        found = socket.getaddrinfo(host, None, family, socket.SOCK_STREAM, 0, flags)
    except (OSError, UnicodeError, ValueError):
        raise ZMQError(errno.EINVAL) from None
    address = ipaddress.ip_address(str(found[0][4][0]).partition("%")[0])
    width: int = address.max_prefixlen
    if not slash:
        bits = width
    elif bits_text == "0":
        bits = 0
    else:
        bits = _atoi(bits_text)
        if not 1 <= bits <= width:
            raise ZMQError(errno.EINVAL)
    return ipaddress.ip_network((address, bits), strict=False)


def _accept_filter(data: bytes, options: Any) -> bytes:
    ipv6 = bool(options.values.get(Opt.IPV6)) if options is not None else False
    parse_accept_filter(data, ipv6)
    return data


# -- the table ---------------------------------------------------------------------------------

_GSSAPI = "no GSSAPI mechanism (libzmq has one only when built with libgssapi_krb5)"
_VMCI = "no vmci:// transport (libzmq has one only when built with VMware's VMCI)"

_ROUTERS = ("ROUTER", "REP")  # In libzmq a REP is a ROUTER: it takes the ROUTER options.
_XPUBS = ("PUB", "XPUB")  # ... and a PUB an XPUB.
_HELLO_TYPES = ("ROUTER", "DEALER", "CLIENT", "SERVER", "PEER")
_THREAD_SAFE = ("SERVER", "CLIENT", "RADIO", "DISH", "GATHER", "SCATTER", "PEER", "CHANNEL")

# How to read a line: _int(default, smallest=-1, largest=INT_MAX) and _int64(default) are numbers;
# _bool(default) takes 0 or 1 only; _any_bool(default) any number, kept as 0 or 1; _any_int any C
# int; _flag(types) is a write-only flag of those socket types (any number >= 0, kept as 0 or 1);
# _bytes and _str(shortest=0, longest=None) give the lengths taken, their default is b"";
# get=False: write-only; types=: only those socket types (others: EINVAL); by_type=: defaults that
# differ by type; convert=: a check of its own; _read_only: getsockopt only; _refused: EINVAL on
# both (see the module's docstring); draft=True: a DRAFT option.
# fmt: off
SPECS: dict[int, OptionSpec] = {
    # -- Queues, timeouts and closing -------------------------------------------------------------
    Opt.SNDHWM:                   _int(1000, 0),
    Opt.RCVHWM:                   _int(1000, 0),
    Opt.SNDTIMEO:                 _int(-1),
    Opt.RCVTIMEO:                 _int(-1),
    Opt.LINGER:                   _int(-1, by_type={"SUB": 0, "XSUB": 0, "DISH": 0}),
    Opt.MAXMSGSIZE:               _int64(-1),
    Opt.AFFINITY:                 _int64(0),
    Opt.CONFLATE:                 _bool(),
    Opt.IMMEDIATE:                _bool(),                    # alias DELAY_ATTACH_ON_CONNECT
    Opt.ROUTING_ID:               _bytes(1, 255),             # alias IDENTITY
    Opt.IN_BATCH_SIZE:            _int(8192, 1, draft=True),
    Opt.OUT_BATCH_SIZE:           _int(8192, 1, draft=True),
    # -- Connecting, reconnecting, heartbeats -----------------------------------------------------
    Opt.BACKLOG:                  _int(100, 0),
    Opt.RECONNECT_IVL:            _int(100),
    Opt.RECONNECT_IVL_MAX:        _int(0, 0),
    Opt.RECONNECT_STOP:           _any_int(),                 # CONN_REFUSED|HANDSHAKE_FAILED|...
    Opt.CONNECT_TIMEOUT:          _int(0, 0),
    Opt.HANDSHAKE_IVL:            _int(30000, 0),
    Opt.HEARTBEAT_IVL:            _int(0, 0),
    Opt.HEARTBEAT_TIMEOUT:        _int(-1, 0),
    Opt.HEARTBEAT_TTL:            _int(0, -99, 6553599, convert=_deciseconds),
    Opt.USE_FD:                   _int(-1),
    # -- TCP, IPC and the kernel's socket ---------------------------------------------------------
    Opt.IPV6:                     _bool(),
    Opt.IPV4ONLY:                 _bool(1),
    Opt.SNDBUF:                   _int(-1),
    Opt.RCVBUF:                   _int(-1),
    Opt.TOS:                      _int(0, 0),
    Opt.PRIORITY:                 _int(0, 0, draft=True),
    Opt.BUSY_POLL:                _bool(get=False, draft=True),
    Opt.BINDTODEVICE:             _str(1, 16),
    Opt.TCP_KEEPALIVE:            _int(-1, -1, 1),
    Opt.TCP_KEEPALIVE_CNT:        _int(-1),
    Opt.TCP_KEEPALIVE_IDLE:       _int(-1),
    Opt.TCP_KEEPALIVE_INTVL:      _int(-1),
    Opt.TCP_MAXRT:                _int(0, 0),
    Opt.LOOPBACK_FASTPATH:        _any_bool(),                # (Windows only in libzmq)
    Opt.TCP_ACCEPT_FILTER:        _str(1, 255, get=False, convert=_accept_filter),
    Opt.IPC_FILTER_PID:           _any_int(get=False),
    Opt.IPC_FILTER_UID:           _any_int(get=False),
    Opt.IPC_FILTER_GID:           _any_int(get=False),
    Opt.SOCKS_PROXY:              _str(1),
    Opt.SOCKS_USERNAME:           _str(0, 255),
    Opt.SOCKS_PASSWORD:           _str(0, 255),
    # -- Security ---------------------------------------------------------------------------------
    Opt.MECHANISM:                _read_only(int(SecurityMechanism.NULL)),
    Opt.PLAIN_SERVER:             _bool(),
    Opt.PLAIN_USERNAME:           _str(1, 255),
    Opt.PLAIN_PASSWORD:           _str(1, 255),
    Opt.CURVE_SERVER:             _bool(convert=_needs_sodium),
    Opt.CURVE_PUBLICKEY:          _bytes(convert=_curve_key_of(Opt.CURVE_PUBLICKEY)),  # read: Z85
    Opt.CURVE_SECRETKEY:          _bytes(convert=_curve_key_of(Opt.CURVE_SECRETKEY)),
    Opt.CURVE_SERVERKEY:          _bytes(convert=_curve_key_of(Opt.CURVE_SERVERKEY)),
    Opt.ZAP_DOMAIN:               _str(1, 255),
    Opt.ZAP_ENFORCE_DOMAIN:       _any_bool(),
    Opt.METADATA:                 _str(get=False, convert=_metadata),   # "X-name:value"
    Opt.GSSAPI_SERVER:            _refused("int", _GSSAPI),
    Opt.GSSAPI_PLAINTEXT:         _refused("int", _GSSAPI),
    Opt.GSSAPI_PRINCIPAL:         _refused("str", _GSSAPI),
    Opt.GSSAPI_SERVICE_PRINCIPAL: _refused("str", _GSSAPI),
    Opt.GSSAPI_PRINCIPAL_NAMETYPE:         _refused("int", _GSSAPI),
    Opt.GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: _refused("int", _GSSAPI),
    # -- Publish-subscribe ------------------------------------------------------------------------
    Opt.SUBSCRIBE:                _bytes(get=False, types=("SUB", *_XPUBS), convert=_subscription),
    Opt.UNSUBSCRIBE:              _bytes(get=False, types=("SUB", *_XPUBS), convert=_subscription),
    Opt.INVERT_MATCHING:          _any_bool(),
    Opt.TOPICS_COUNT:             _read_only(0, types=("PUB", "SUB", "XPUB", "XSUB")),
    Opt.XPUB_VERBOSE:             _flag(_XPUBS),
    Opt.XPUB_VERBOSER:            _flag(_XPUBS),
    Opt.XPUB_NODROP:              _flag((*_XPUBS, "RADIO")),
    Opt.XPUB_MANUAL:              _flag(_XPUBS),
    Opt.XPUB_MANUAL_LAST_VALUE:   _flag(_XPUBS),
    Opt.XPUB_WELCOME_MSG:         _bytes(get=False, types=_XPUBS),
    Opt.ONLY_FIRST_SUBSCRIBE:     _flag(("PUB", "XPUB", "XSUB")),
    Opt.XSUB_VERBOSE_UNSUBSCRIBE: _flag(("XSUB",), draft=True),
    # -- Request-reply, ROUTER, STREAM ------------------------------------------------------------
    Opt.REQ_CORRELATE:            _flag(("REQ",)),
    Opt.REQ_RELAXED:              _flag(("REQ",)),
    Opt.PROBE_ROUTER:             _flag(("REQ", "DEALER", *_ROUTERS)),
    Opt.ROUTER_MANDATORY:         _flag(_ROUTERS),    # aliases FAIL_UNROUTABLE, ROUTER_BEHAVIOR
    Opt.ROUTER_HANDOVER:          _flag(_ROUTERS),
    Opt.ROUTER_RAW:               _flag(_ROUTERS),
    Opt.ROUTER_NOTIFY:            _int(0, 0, 3, types=("ROUTER",), draft=True),  # NOTIFY_*
    Opt.CONNECT_ROUTING_ID:       _bytes(1, get=False, types=(*_ROUTERS, "STREAM")),  # CONNECT_RID
    Opt.STREAM_NOTIFY:            _bool(1, get=False, types=("STREAM",)),
    Opt.HELLO_MSG:                _bytes(get=False, types=_HELLO_TYPES, draft=True),
    Opt.DISCONNECT_MSG:           _bytes(get=False, types=("ROUTER", "SERVER", "PEER"), draft=True),
    Opt.HICCUP_MSG:               _bytes(get=False, types=("DEALER", "CLIENT", "PEER"), draft=True),
    # -- Multicast: pgm, epgm, udp (purezmq has none of these transports) -------------------------
    Opt.RATE:                     _int(100, 1),
    Opt.RECOVERY_IVL:             _int(10000, 0),
    Opt.MULTICAST_HOPS:           _int(1, 1),
    Opt.MULTICAST_MAXTPDU:        _int(1500, 1),
    Opt.MULTICAST_LOOP:           _any_bool(1),
    # -- NORM (no norm:// transport in purezmq) ---------------------------------------------------
    Opt.NORM_MODE:                _int(1, 0, 4, draft=True),  # NORM_FIXED..NORM_CCE_ECNONLY
    Opt.NORM_UNICAST_NACK:        _bool(draft=True),
    Opt.NORM_BUFFER_SIZE:         _int(2048, 1, draft=True),
    Opt.NORM_SEGMENT_SIZE:        _int(1400, 1, draft=True),
    Opt.NORM_BLOCK_SIZE:          _int(16, 1, 255, draft=True),
    Opt.NORM_NUM_PARITY:          _int(4, 1, 254, draft=True),
    Opt.NORM_NUM_AUTOPARITY:      _int(0, 0, 254, draft=True),
    Opt.NORM_PUSH:                _bool(draft=True),
    # -- WebSocket over TLS (no wss:// transport in purezmq) --------------------------------------
    Opt.WSS_KEY_PEM:              _str(get=False, draft=True),
    Opt.WSS_CERT_PEM:             _str(get=False, draft=True),
    Opt.WSS_TRUST_PEM:            _str(get=False, draft=True),
    Opt.WSS_HOSTNAME:             _str(get=False, draft=True),
    Opt.WSS_TRUST_SYSTEM:         _bool(1, get=False, draft=True),
    # -- VMCI (no vmci:// transport) --------------------------------------------------------------
    Opt.VMCI_BUFFER_SIZE:         _refused("int64", _VMCI),
    Opt.VMCI_BUFFER_MIN_SIZE:     _refused("int64", _VMCI),
    Opt.VMCI_BUFFER_MAX_SIZE:     _refused("int64", _VMCI),
    Opt.VMCI_CONNECT_TIMEOUT:     _refused("int", _VMCI),
    # -- The socket's state (getsockopt only) -----------------------------------------------------
    Opt.TYPE:                     _read_only(0),
    Opt.RCVMORE:                  _read_only(0),
    Opt.EVENTS:                   _read_only(0),
    Opt.FD:                       _read_only(-1),
    Opt.LAST_ENDPOINT:            _read_only(b""),
    Opt.THREAD_SAFE:              _read_only(0, by_type={name: 1 for name in _THREAD_SAFE}),
    # -- Not socket options -----------------------------------------------------------------------
    Opt.HWM:                      _refused("int", "gone since libzmq 3: SNDHWM and RCVHWM"),
    Opt.BLOCKY:                   _refused("int", "a context option (zmq_ctx_set)"),
}
# fmt: on

#: Options whose setting adds to a collection rather than replacing a value.
_IPC_FILTERS = (Opt.IPC_FILTER_PID, Opt.IPC_FILTER_UID, Opt.IPC_FILTER_GID)
_GATHERING = frozenset({Opt.METADATA, Opt.TCP_ACCEPT_FILTER, *_IPC_FILTERS})
_SUBSCRIPTIONS = (Opt.SUBSCRIBE, Opt.UNSUBSCRIBE)
_CURVE_KEYS = frozenset({Opt.CURVE_PUBLICKEY, Opt.CURVE_SECRETKEY, Opt.CURVE_SERVERKEY})
_ZERO_KEY_Z85 = b"0" * 40  # What libzmq reads for a CURVE key never set (32 zero bytes).


_DEFAULTS: dict[int | None, dict[int, int | bytes]] = {}


def _defaults(socket_type: int | None) -> dict[int, int | bytes]:
    """Every option's default for a socket type (made once per type)."""
    values = _DEFAULTS.get(socket_type)
    if values is None:
        values = _DEFAULTS[socket_type] = {
            option: spec.default_for(socket_type)
            for option, spec in SPECS.items()
            if not spec.unsupported
        }
    return values


def check_value(option: int, value: object, options: Options | None = None) -> int | bytes:
    """The value as stored, or the error pyzmq and libzmq give for it.

    With ``options`` (a socket's), the socket type and the other options count too (a ROUTER
    option on a DEALER is EINVAL); without (a context's defaults), only the value itself."""
    spec = SPECS.get(option)
    kind = "int" if spec is None else spec.kind  # pyzmq takes an unknown option for an int one.
    # pyzmq's type checks, before libzmq sees anything:
    if isinstance(value, str):
        raise TypeError("unicode not allowed, use setsockopt_string")
    if kind in BYTES_KINDS:
        if not isinstance(value, bytes):
            raise TypeError(f"expected bytes, got: {value!r}")
        size = len(value)
    else:
        if not isinstance(value, int):
            raise TypeError(f"expected int, got: {value!r}")
        value = int(value)  # (True is 1; an IntEnum its number.)
        if not INT_MIN <= value <= INT_MAX and (kind != "int64" or value.bit_length() > 63):
            # (pyzmq's texts: Python's for a number beyond a C long, Cython's for an int.)
            if not INT64_MIN <= value <= INT64_MAX:
                raise OverflowError("Python int too large to convert to C long")
            raise OverflowError("value too large to convert to int")
        size = value
    # libzmq's:
    if spec is None or not spec.writable:
        raise ZMQError(errno.EINVAL)
    if options is not None and not spec.applies_to(options.socket_type):
        raise ZMQError(errno.EINVAL)
    if size < spec.minimum or (spec.maximum is not None and size > spec.maximum):
        raise ZMQError(errno.EINVAL)
    if spec.convert is not None:
        return spec.convert(value, options)
    if kind in BYTES_KINDS and type(value) is not bytes:
        return bytes(value)  # (A subclass of bytes, as plain bytes.)
    return value


class Options(RoutingOptions):
    """The option values of one socket, or of a context (its defaults for new sockets).

    ``values`` holds every option's value as stored (write-only ones too); the attributes below
    keep at hand what hot paths and routing read."""

    #: Which end of a PLAIN or CURVE handshake this socket plays.
    as_server = False
    #: purezmq's negotiated compression (Socket.set_compression): (codecs, threshold) or None.
    compression: tuple[tuple[str, ...], int] | None = None
    #: RCVTIMEO and SNDTIMEO, read at every blocking receive and send.
    rcvtimeo = -1
    sndtimeo = -1

    def __init__(self, socket_type: int | None = None) -> None:
        #: The socket's type; None for a context's defaults (any type's options are taken).
        self.socket_type = socket_type
        self.values: dict[int, int | bytes] = dict(_defaults(socket_type))
        if socket_type is not None:
            self.values[Opt.TYPE] = socket_type
        #: The options set, in the order last set (what a context passes on to its sockets).
        self.changed: dict[int, int | bytes] = {}
        #: METADATA: name -> value, for the handshake's properties.
        self.metadata: dict[bytes, bytes] = {}
        #: TCP_ACCEPT_FILTER: the networks a listener lets in (none: everyone).
        self.tcp_accept_filters: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        #: IPC_FILTER_PID, _UID, _GID: option -> the ids an ipc listener lets in.
        self.ipc_filters: dict[int, list[int]] = {}

    @classmethod
    def for_socket(cls, socket_type: int, defaults: Options | None = None) -> Options:
        """A new socket's options: its type's defaults, then what its context set."""
        options = cls(socket_type)
        if defaults is not None:
            options.copy_from(defaults)
        return options

    def check(self, option: int, value: object) -> int | bytes:
        """check_value for this socket (its type and its other options count)."""
        return check_value(option, value, self)

    def set(self, option: int, value: int | bytes) -> None:
        """Store a value that check() gave."""
        self.values[option] = value
        changed = self.changed
        if option in changed:
            del changed[option]  # (Moved to the end: the last security option set decides.)
        changed[option] = value
        after = _AFTER_SET.get(option)
        if after is not None:
            after(self, value)

    def get(self, option: int) -> int | bytes:
        """The value getsockopt gives, for what the options alone decide."""
        if option == Opt.PLAIN_SERVER or option == Opt.CURVE_SERVER:
            # As libzmq: a server flag reads 1 only while that mechanism is the one in force.
            plain = option == Opt.PLAIN_SERVER
            mechanism = SecurityMechanism.PLAIN if plain else SecurityMechanism.CURVE
            return int(self.as_server and self.values[Opt.MECHANISM] == mechanism)
        if option in _CURVE_KEYS:
            from .utils import z85

            key = self.values[option]
            assert isinstance(key, bytes)
            return z85.encode(key) if key else _ZERO_KEY_Z85
        return self.values[option]

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
        """Take the options ``other`` (a context's defaults) set, those this socket type takes,
        as pyzmq's Context.socket does (it ignores the others)."""
        socket_type = self.socket_type
        for option, value in other.changed.items():
            if option in _SUBSCRIPTIONS or not SPECS[option].applies_to(socket_type):
                continue
            if option in _GATHERING:
                self.values[option] = value  # (The gathered values are copied below.)
            else:
                self.set(option, value)
        self.values[Opt.MECHANISM] = other.values[Opt.MECHANISM]
        self.as_server = other.as_server
        self.metadata.update(other.metadata)
        self.tcp_accept_filters.extend(other.tcp_accept_filters)
        for option, ids in other.ipc_filters.items():
            self.ipc_filters.setdefault(option, []).extend(ids)


# -- what setting an option changes besides its value -------------------------------------------


def _attribute(name: str) -> Callable[[Options, Any], None]:
    def after(options: Options, value: Any) -> None:
        setattr(options, name, value)

    return after


def _flag_attribute(name: str) -> Callable[[Options, Any], None]:
    def after(options: Options, value: Any) -> None:
        setattr(options, name, bool(value))

    return after


def _xpub_verbose(options: Options, value: Any) -> None:
    # libzmq: VERBOSE passes duplicate subscriptions; VERBOSER duplicate unsubscriptions too.
    options.xpub_verbose = bool(value)
    options.xpub_verboser = False


def _xpub_verboser(options: Options, value: Any) -> None:
    options.xpub_verbose = options.xpub_verboser = bool(value)


def _xpub_manual_last_value(options: Options, value: Any) -> None:
    options.xpub_manual = options.xpub_manual_last_value = bool(value)


def _ipv6(options: Options, value: Any) -> None:
    options.values[Opt.IPV4ONLY] = 0 if value else 1


def _ipv4only(options: Options, value: Any) -> None:
    options.values[Opt.IPV6] = 0 if value else 1


def _plain_server(options: Options, value: Any) -> None:
    options._mechanism(SecurityMechanism.PLAIN if value else SecurityMechanism.NULL, value)


def _plain_client(options: Options, value: Any) -> None:
    options._mechanism(SecurityMechanism.PLAIN if value else SecurityMechanism.NULL, 0)


def _curve_server(options: Options, value: Any) -> None:
    options._mechanism(SecurityMechanism.CURVE if value else SecurityMechanism.NULL, value)


def _curve_client(options: Options, value: Any) -> None:
    options._mechanism(SecurityMechanism.CURVE, 0)


def _add_metadata(options: Options, value: Any) -> None:
    name, text = parse_metadata(value)
    options.metadata[name] = text


def _add_accept_filter(options: Options, value: Any) -> None:
    options.tcp_accept_filters.append(parse_accept_filter(value, bool(options.values[Opt.IPV6])))


def _ipc_filter(option: int) -> Callable[[Options, Any], None]:
    def after(options: Options, value: Any) -> None:
        options.ipc_filters.setdefault(option, []).append(value)

    return after


_AFTER_SET: dict[int, Callable[[Options, Any], None]] = {
    Opt.RCVTIMEO: _attribute("rcvtimeo"),
    Opt.SNDTIMEO: _attribute("sndtimeo"),
    Opt.ROUTER_MANDATORY: _flag_attribute("router_mandatory"),
    Opt.ROUTER_HANDOVER: _flag_attribute("router_handover"),
    Opt.ROUTER_NOTIFY: _attribute("router_notify"),
    Opt.PROBE_ROUTER: _flag_attribute("probe_router"),
    Opt.DISCONNECT_MSG: _attribute("disconnect_msg"),
    Opt.REQ_RELAXED: _flag_attribute("req_relaxed"),
    Opt.REQ_CORRELATE: _flag_attribute("req_correlate"),
    Opt.XPUB_VERBOSE: _xpub_verbose,
    Opt.XPUB_VERBOSER: _xpub_verboser,
    Opt.XPUB_MANUAL: _flag_attribute("xpub_manual"),
    Opt.XPUB_MANUAL_LAST_VALUE: _xpub_manual_last_value,
    Opt.XPUB_NODROP: _flag_attribute("xpub_nodrop"),
    Opt.XPUB_WELCOME_MSG: _attribute("xpub_welcome_msg"),
    Opt.ONLY_FIRST_SUBSCRIBE: _flag_attribute("only_first_subscribe"),
    Opt.INVERT_MATCHING: _flag_attribute("invert_matching"),
    Opt.XSUB_VERBOSE_UNSUBSCRIBE: _flag_attribute("xsub_verbose_unsubscribe"),
    Opt.CONFLATE: _flag_attribute("conflate"),
    Opt.IPV6: _ipv6,
    Opt.IPV4ONLY: _ipv4only,
    Opt.PLAIN_SERVER: _plain_server,
    Opt.PLAIN_USERNAME: _plain_client,
    Opt.PLAIN_PASSWORD: _plain_client,
    Opt.CURVE_SERVER: _curve_server,
    Opt.CURVE_SERVERKEY: _curve_client,
    Opt.METADATA: _add_metadata,
    Opt.TCP_ACCEPT_FILTER: _add_accept_filter,
    Opt.IPC_FILTER_PID: _ipc_filter(Opt.IPC_FILTER_PID),
    Opt.IPC_FILTER_UID: _ipc_filter(Opt.IPC_FILTER_UID),
    Opt.IPC_FILTER_GID: _ipc_filter(Opt.IPC_FILTER_GID),
}

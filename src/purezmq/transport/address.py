"""Endpoint syntax and address resolution for tcp://, ipc:// and ws:// (zmq_tcp, zmq_ipc,
zmq_ws: ws://host:port/path, tcp underneath)."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import struct
import tempfile
from dataclasses import dataclass

from ..constants import Errno
from ..error import ZMQError, strerror

TRANSPORTS = ("tcp", "ipc", "inproc", "ws", "wss", "udp", "pgm", "epgm")
#: The transports without connections: an endpoint is one peer (engine/udp.py, engine/pgm.py).
DATAGRAM = ("udp", "pgm", "epgm")
#: The transports that run over a tcp connection.
OVER_TCP = ("tcp", "ws", "wss")
IPC_PATH_MAX_LEN = 107


_WEB = ("ws", "wss")


@dataclass(frozen=True)
class Endpoint:
    transport: str
    address: str

    def __str__(self) -> str:
        return f"{self.transport}://{self.address}"

    @property
    def tcp_address(self) -> str:
        """host:port (a ws:// endpoint's without its path)."""
        return self.address.partition("/")[0] if self.transport in _WEB else self.address

    @property
    def path(self) -> str:
        """A ws:// endpoint's HTTP path ("/" when none is given)."""
        return "/" + self.address.partition("/")[2]


def endpoint_error(code: int, endpoint: str, detail: str | None = None) -> ZMQError:
    """pyzmq's wording: the error text, then the address the user gave."""
    text = detail if detail is not None else strerror(code)
    return ZMQError(code, f"{text} (addr={endpoint!r})")


def parse_endpoint(endpoint: str) -> Endpoint:
    if not isinstance(endpoint, str):
        raise TypeError(f"endpoint must be str, not {type(endpoint).__name__}")
    transport, sep, address = endpoint.partition("://")
    if not sep or not transport:
        raise endpoint_error(errno.EINVAL, endpoint)
    if transport not in TRANSPORTS:
        raise endpoint_error(errno.EPROTONOSUPPORT, endpoint)
    if not address:
        raise endpoint_error(errno.EINVAL, endpoint)
    return Endpoint(transport, address)


def split_host_port(endpoint: str, address: str) -> tuple[str, str]:
    host, sep, port = address.rpartition(":")
    if not sep or not port:
        raise endpoint_error(errno.EINVAL, endpoint)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def parse_port(endpoint: str, port: str, *, wildcard_ok: bool) -> int:
    if port == "*" and wildcard_ok:
        return 0
    if not port.isdigit() or int(port) > 65535:
        raise endpoint_error(errno.EINVAL, endpoint)
    return int(port)


def interface_ipv4(name: str) -> str | None:
    """The IPv4 address of a network interface such as ``lo`` or ``eth0`` (Linux), if any."""
    if len(name) >= 16 or not name.isprintable():
        return None
    try:
        names = {entry[1] for entry in socket.if_nameindex()}
    except OSError:
        return None
    if name not in names:
        return None
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = struct.pack("256s", name.encode())
        result = fcntl.ioctl(probe.fileno(), 0x8915, packed)  # SIOCGIFADDR
        return socket.inet_ntoa(result[20:24])
    except OSError:
        return None
    finally:
        probe.close()


def resolve_tcp_bind(endpoint: str, address: str, ipv6: bool) -> tuple[int, tuple]:
    """(family, sockaddr) to bind: ``*``, an interface name, an IP address or a host name."""
    host, port_text = split_host_port(endpoint, address)
    port = parse_port(endpoint, port_text, wildcard_ok=True)
    if host == "*":
        return (socket.AF_INET6, ("::", port)) if ipv6 else (socket.AF_INET, ("0.0.0.0", port))
    interface = interface_ipv4(host)
    if interface is not None:
        return socket.AF_INET, (interface, port)
    family = socket.AF_UNSPEC if ipv6 else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM) if host else []
    except (socket.gaierror, UnicodeError):
        infos = []
    if not infos:
        raise endpoint_error(errno.ENODEV, endpoint)
    info = infos[0]
    return info[0], info[4][:2] if info[0] == socket.AF_INET else info[4]


def parse_tcp_connect(endpoint: str, address: str) -> tuple[str, int, str | None]:
    """(host, port, source address) of a connect endpoint; resolution happens when connecting."""
    source = None
    if ";" in address:
        source, address = address.split(";", 1)
    host, port_text = split_host_port(endpoint, address)
    port = parse_port(endpoint, port_text, wildcard_ok=False)
    if host == "*":
        raise endpoint_error(errno.EINVAL, endpoint)
    return host, port, source


def resolve_tcp_connect(host: str, port: int, ipv6: bool) -> list[tuple[int, tuple]]:
    family = socket.AF_UNSPEC if ipv6 else socket.AF_INET
    if ":" in host and not ipv6:
        family = socket.AF_INET6  # A literal IPv6 address is used as given.
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    return [(info[0], info[4]) for info in infos]


def tcp_endpoint_text(family: int, sockaddr: tuple) -> str:
    host, port = sockaddr[0], sockaddr[1]
    if family == socket.AF_INET6:
        return f"tcp://[{host}]:{port}"
    return f"tcp://{host}:{port}"


def ipc_path(endpoint: str, address: str) -> tuple[str, str]:
    """(socket path as given to bind, the path text for LAST_ENDPOINT); ``@name`` is abstract."""
    if address == "*":
        folder = tempfile.mkdtemp(prefix="purezmq-")
        path = os.path.join(folder, "socket")
        return path, path
    if len(address.encode()) > IPC_PATH_MAX_LEN:
        raise endpoint_error(
            errno.ENAMETOOLONG,
            endpoint,
            f'ipc path "{address}" is longer than {IPC_PATH_MAX_LEN} characters '
            "(sizeof(sockaddr_un.sun_path)).",
        )
    if address.startswith("@"):
        return "\0" + address[1:], address
    return address, address


def ipc_bind_error(exc: OSError, endpoint: str, path: str) -> ZMQError:
    code = exc.errno or Errno.EINVAL
    if code == errno.ENOENT:
        return endpoint_error(code, endpoint, f'No such file or directory for ipc path "{path}".')
    return endpoint_error(code, endpoint)

"""udp:// for RADIO and DISH, as libzmq carries it: one datagram per message, a byte giving the
group's length, the group, then the body (a DGRAM's datagrams are its bodies as they are,
routing/dgram.py). ``udp://[interface;]address:port``: a DISH binds (to
``*``, an address of this host, or a multicast group it then joins) or connects to a multicast
group; a RADIO connects (to a unicast or multicast address).

This module turns endpoints into configured UDP sockets and messages into datagrams and back;
the engine (engine/udp.py) moves them between the sockets and the pipes.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from .address import endpoint_error, interface_ipv4, split_host_port

#: The largest datagram libzmq sends or takes (MAX_UDP_MSG): larger messages are dropped.
MAX_DATAGRAM = 8192


@dataclass(frozen=True)
class UdpAddress:
    host: str  # "" for any address of this host.
    port: int
    interface: str  # An interface's IPv4 address or name ("": the system's choice).

    @property
    def multicast(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_multicast
        except ValueError:
            return False


def parse(endpoint: str, address: str, binding: bool) -> UdpAddress:
    """EINVAL for a malformed address; ``*`` only where a DISH binds."""
    interface, _, rest = address.rpartition(";")
    host, port_text = split_host_port(endpoint, rest)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise endpoint_error(errno.EINVAL, endpoint)
    if host == "*":
        if not binding:
            raise endpoint_error(errno.EINVAL, endpoint)
        host = ""
    else:
        try:
            host = socket.gethostbyname(host)
        except (OSError, UnicodeError):
            raise endpoint_error(errno.EINVAL, endpoint) from None
    return UdpAddress(host, int(port_text), interface)


def interface_address(endpoint: str, interface: str) -> str:
    """The IPv4 address of ``interface`` (an address already, or a name such as ``eth0``);
    0.0.0.0 for none given. ENODEV for a name with no IPv4 address."""
    if not interface or interface == "*":
        return "0.0.0.0"
    try:
        ipaddress.IPv4Address(interface)
        return interface
    except ValueError:
        pass
    found = interface_ipv4(interface)
    if found is None:
        raise endpoint_error(
            errno.ENODEV, endpoint, f"no interface {interface!r} with an IPv4 address"
        )
    return found


@contextlib.contextmanager
def configuring(endpoint: str, sock: socket.socket) -> Iterator[socket.socket]:
    """Close ``sock`` if configuring it fails; an OSError becomes the endpoint's ZMQError."""
    try:
        yield sock
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise endpoint_error(exc.errno or errno.EINVAL, endpoint) from None
    except BaseException:
        sock.close()
        raise


def receiving_socket(endpoint: str, where: UdpAddress) -> socket.socket:
    """A DISH's socket: bound to the port, a member of the multicast group if it is one."""
    with configuring(endpoint, socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((where.host, where.port))  # (A group's address: its datagrams only.)
        if where.multicast:
            membership = socket.inet_aton(where.host) + socket.inet_aton(
                interface_address(endpoint, where.interface)
            )
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    return sock


def sending_socket(endpoint: str, where: UdpAddress, hops: int, loop: bool) -> socket.socket:
    """A RADIO's socket (MULTICAST_HOPS and MULTICAST_LOOP apply to a multicast address)."""
    with configuring(endpoint, socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as sock:
        if where.multicast:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, max(hops, 1))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(loop))
            if where.interface:
                interface = interface_address(endpoint, where.interface)
                sock.setsockopt(
                    socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface)
                )
    return sock


def datagram(group: bytes, body: bytes) -> bytes | None:
    """A message as libzmq sends it; None when it does not fit one datagram (it is dropped)."""
    if len(group) > 255 or 1 + len(group) + len(body) > MAX_DATAGRAM:
        return None
    return bytes((len(group),)) + group + body


def message(data: bytes) -> tuple[bytes, bytes] | None:
    """(group, body) of a datagram; None for one that is malformed (it is dropped)."""
    if not data or 1 + data[0] > len(data):
        return None
    size = data[0]
    return data[1 : 1 + size], data[1 + size :]

"""pgm:// and epgm:// endpoints: ``[e]pgm://[interface;]group:port``, for PUB/XPUB (sending) and
SUB/XSUB (receiving), as libzmq takes them (bind and connect alike). epgm carries PGM packets in
UDP datagrams to the group's port; pgm puts them straight into IP (protocol 113), which needs a
raw socket, so root (or CAP_NET_RAW)."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from .address import endpoint_error
from .udp import UdpAddress, configuring, interface_address, parse

IPPROTO_PGM = 113


@dataclass(frozen=True)
class PgmAddress:
    where: UdpAddress
    encapsulated: bool  # epgm (over UDP) rather than pgm (over IP).
    interface_ip: str


def parse_pgm(endpoint: str, transport: str, address: str) -> PgmAddress:
    """EINVAL unless the address is a multicast group with a port."""
    where = parse(endpoint, address, binding=False)
    if not where.multicast:
        raise endpoint_error(errno.EINVAL, endpoint, f"{transport} needs a multicast group")
    interface = interface_address(endpoint, where.interface)
    if interface == "0.0.0.0":
        interface = _route_source(where)
    return PgmAddress(where, transport == "epgm", interface)


def _route_source(where: UdpAddress) -> str:
    """The address this host sends to the group from (its SPMs name it, for NAKs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((where.host, where.port))
            return str(probe.getsockname()[0])
        except OSError:
            return "0.0.0.0"


def _raw(endpoint: str) -> socket.socket:
    try:
        return socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_PGM)
    except PermissionError:
        raise endpoint_error(
            errno.EACCES, endpoint, "pgm:// needs a raw socket (root); epgm:// does not"
        ) from None


def sending_socket(endpoint: str, address: PgmAddress, hops: int, loop: bool) -> socket.socket:
    """Also where the receivers' NAKs arrive: epgm's is bound to the port on the interface's
    address (the address its SPMs give), pgm's raw socket reads every PGM packet."""
    raw = not address.encapsulated
    sock = _raw(endpoint) if raw else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with configuring(endpoint, sock):
        if not raw:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((address.interface_ip, address.where.port))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, max(hops, 1))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(loop))
        sock.setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address.interface_ip)
        )
    return sock


def receiving_socket(endpoint: str, address: PgmAddress) -> socket.socket:
    raw = not address.encapsulated
    sock = _raw(endpoint) if raw else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with configuring(endpoint, sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if not raw:
            # (OpenPGM's sockets on the same port, in the same host, share it this way.) Bound
            # to the group's address, it takes the group's datagrams only: a NAK sent to a
            # sender on this host, to the same port, is not taken from that sender.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((address.where.host, address.where.port))
        membership = socket.inet_aton(address.where.host) + socket.inet_aton(address.interface_ip)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    return sock


def strip_ip_header(data: bytes) -> bytes:
    """What a raw socket reads starts with the IP header: its length is in its first byte."""
    return data[(data[0] & 0x0F) * 4 :] if data else data

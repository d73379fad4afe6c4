"""Who may connect, where sockets are bound, and whose descriptor a listener uses: the
transport options libzmq applies to the kernel sockets (TCP_ACCEPT_FILTER, IPC_FILTER_*,
BINDTODEVICE, USE_FD), shared by the I/O thread's and asyncio's listeners and connecters."""

from __future__ import annotations

import errno
import grp
import ipaddress
import pwd
import socket
import struct
from typing import Any

from ..constants import SocketOption as Opt
from ..options import Options
from . import address as addr

_UCRED = struct.Struct("3i")  # Linux's struct ucred: pid, uid, gid.


def filters_accepts(options: Options) -> bool:
    """Whether new connections are checked at all (the common case: no)."""
    return bool(options.tcp_accept_filters or options.ipc_filters)


def accept_allowed(sock: socket.socket, options: Options) -> bool:
    """Whether an accepted connection passes the listener's filters: a tcp peer's address
    within one of the TCP_ACCEPT_FILTER networks; an ipc peer whose process, user or group
    (its own, or one it is a member of) is in IPC_FILTER_PID/UID/GID. No filters: all pass."""
    if sock.family == socket.AF_UNIX:
        return _ipc_allowed(sock, options.ipc_filters)
    networks = options.tcp_accept_filters
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(sock.getpeername()[0].split("%")[0])
    except (OSError, ValueError):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates: tuple[Any, ...] = (ip, ip.ipv4_mapped)  # A dual-stack listener's IPv4 peer.
    else:
        candidates = (ip,)
    return any(candidate in network for candidate in candidates for network in networks)


def _ipc_allowed(sock: socket.socket, filters: dict[int, list[int]]) -> bool:
    if not filters:
        return True
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    except (OSError, AttributeError):
        return False
    pid, uid, gid = _UCRED.unpack(raw)
    if pid in filters.get(Opt.IPC_FILTER_PID, ()) or uid in filters.get(Opt.IPC_FILTER_UID, ()):
        return True
    groups = filters.get(Opt.IPC_FILTER_GID, ())
    if not groups:
        return False
    if gid in groups:
        return True
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        return False
    for group in groups:
        try:
            if user in grp.getgrgid(group).gr_mem:
                return True
        except KeyError:
            continue
    return False


def bind_to_device(sock: socket.socket, options: Options) -> None:
    """SO_BINDTODEVICE for a tcp socket when BINDTODEVICE names an interface (OSError, e.g.
    ENODEV for an unknown one, as libzmq's)."""
    device = options.bytes(Opt.BINDTODEVICE)
    if device and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device)


def adopted_listener(endpoint: str, transport: str, options: Options) -> socket.socket | None:
    """USE_FD's already bound and listening socket for a bind, None when USE_FD is -1. The
    socket takes the descriptor over: closing it closes the descriptor, as libzmq does."""
    fd = options.int(Opt.USE_FD)
    if fd < 0:
        return None
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise addr.endpoint_error(exc.errno or errno.EBADF, endpoint) from None
    wanted = (socket.AF_UNIX,) if transport == "ipc" else (socket.AF_INET, socket.AF_INET6)
    if sock.family not in wanted or sock.type != socket.SOCK_STREAM:
        sock.detach()  # (Not ours to close: the caller's descriptor, the wrong kind.)
        raise addr.endpoint_error(
            errno.EINVAL, endpoint, f"USE_FD {fd} is not a listening {transport} socket"
        )
    return sock

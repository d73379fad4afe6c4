"""Socket.stats(): what a socket did and what it holds now, counted where it costs least.

Sessions count per batch, not per message: a read's bytes, a delivered batch's messages, a
written batch, a flush's bytes, a connection's start and end. Bytes are wire bytes (framing
and handshakes included) over tcp, ipc and ws; inproc moves messages without a wire and is
counted in messages only where a session is involved (not at all today: no session).
"""

from __future__ import annotations

from typing import Any


class Counters:
    """A socket's running totals (its sessions add to them)."""

    __slots__ = (
        "messages_in",
        "messages_out",
        "bytes_in",
        "bytes_out",
        "connections",
        "disconnections",
        "handshake_failures",
    )

    def __init__(self) -> None:
        self.messages_in = 0
        self.messages_out = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.connections = 0
        self.disconnections = 0
        self.handshake_failures = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


def _peer_of(session: Any) -> dict[str, Any]:
    engine = session.engine
    address = None
    if engine is not None and engine.transport is not None:
        peername = engine.transport.get_extra_info("peername")
        if isinstance(peername, tuple):
            address = f"{peername[0]}:{peername[1]}"
        elif peername:
            address = str(peername)
    peer = session.peer
    return {
        "endpoint": session.endpoint.split(" <- ")[0],
        "address": address,
        "connected": bool(engine is not None and engine.ready),
        "routing_id": peer.routing_id or None,
        "queued_out": len(peer.outbound),
        "queued_in": len(peer.inbound),
    }


def socket_stats(counters: Counters, sessions: Any, socket_type: str) -> dict[str, Any]:
    """The totals, and one entry per current tcp/ipc/ws peer."""
    stats: dict[str, Any] = {"type": socket_type, **counters.as_dict()}
    stats["peers"] = [_peer_of(session) for session in list(sessions)]
    return stats

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
        "reconnects",
        "handshake_failures",
    )

    def __init__(self) -> None:
        self.messages_in = 0
        self.messages_out = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.connections = 0
        self.disconnections = 0
        self.reconnects = 0
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


def socket_stats(
    counters: Counters, sessions: Any, socket_type: str, dropped: int = 0
) -> dict[str, Any]:
    """The totals (with the messages its routing dropped), and one entry per current
    tcp/ipc/ws peer."""
    stats: dict[str, Any] = {"type": socket_type, **counters.as_dict(), "dropped": dropped}
    stats["peers"] = [_peer_of(session) for session in list(sessions)]
    return stats


_TOTALS = (
    ("messages_in", "counter", "Messages received"),
    ("messages_out", "counter", "Messages sent (handed to a connection)"),
    ("bytes_in", "counter", "Bytes received on the wire"),
    ("bytes_out", "counter", "Bytes sent on the wire"),
    ("connections", "counter", "Connections made or accepted"),
    ("disconnections", "counter", "Connections ended"),
    ("reconnects", "counter", "Connections made again after one ended"),
    ("handshake_failures", "counter", "Handshakes that failed"),
    ("dropped", "counter", "Messages dropped (a full peer at its high-water mark, no route)"),
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(sockets: list[dict[str, Any]]) -> str:
    """Socket stats (as Socket.stats() gives them) in Prometheus' text format: one series per
    socket (labels: its type and index), and the messages queued per socket."""
    lines: list[str] = []
    for name, kind, text in _TOTALS:
        lines.append(f"# HELP purezmq_{name}_total {text}.")
        lines.append(f"# TYPE purezmq_{name}_total {kind}")
        for index, stats in enumerate(sockets):
            labels = f'socket="{index}",type="{_label(stats["type"])}"'
            lines.append(f"purezmq_{name}_total{{{labels}}} {stats[name]}")
    lines.append("# HELP purezmq_peers Current tcp/ipc/ws peers.")
    lines.append("# TYPE purezmq_peers gauge")
    lines.append("# HELP purezmq_queued_messages Messages queued to and from the peers.")
    lines.append("# TYPE purezmq_queued_messages gauge")
    for index, stats in enumerate(sockets):
        labels = f'socket="{index}",type="{_label(stats["type"])}"'
        peers = stats["peers"]
        lines.append(f"purezmq_peers{{{labels}}} {len(peers)}")
        outbound = sum(peer["queued_out"] for peer in peers)
        inbound = sum(peer["queued_in"] for peer in peers)
        lines.append(f'purezmq_queued_messages{{{labels},direction="out"}} {outbound}')
        lines.append(f'purezmq_queued_messages{{{labels},direction="in"}} {inbound}')
    return "\n".join(lines) + "\n"

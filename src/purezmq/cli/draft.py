"""The CLI commands of the thread-safe draft socket types: scatter, gather, client, server, peer,
radio, dish and channel. They run as the other socket commands (streams.py), over a socket that
turns their single-part messages, with a routing id or group, into the frames the commands
read and print:

- server and peer print ``routing-id<TAB>message`` and send a line of that shape to that peer;
- dish prints the message, or ``group<TAB>message`` with ``--format multipart`` or ``json``;
  radio sends each line to ``--group``, or a ``group<TAB>message`` line to its group.
"""

from __future__ import annotations

import sys
from typing import Any

import purezmq as zmq
from purezmq.cli.common import CommandError

#: The commands of the draft types, and their socket types.
DRAFT_TYPES = {
    "scatter": zmq.SCATTER,
    "gather": zmq.GATHER,
    "client": zmq.CLIENT,
    "server": zmq.SERVER,
    "peer": zmq.PEER,
    "radio": zmq.RADIO,
    "dish": zmq.DISH,
    "channel": zmq.CHANNEL,
}
_ADDRESSED = ("server", "peer")


class SinglePartSocket(zmq.Socket):
    """A draft-type socket whose send_multipart/recv_multipart speak the commands' frames."""

    _kind = ""
    _group = b""
    _with_group = False

    def configure(self, kind: str, group: str, with_group: bool) -> None:
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_group", group.encode("utf-8", "surrogateescape"))
        object.__setattr__(self, "_with_group", with_group)

    def send_multipart(self, msg_parts: Any, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
        frames = [bytes(part) for part in msg_parts]
        if self._kind in _ADDRESSED:
            if len(frames) != 2 or not frames[0].isdigit():
                raise CommandError(
                    f"a {self._kind} sends 'routing-id<TAB>message' lines (--format multipart)"
                )
            return self.send(frames[1], flags, routing_id=int(frames[0]))
        if self._kind == "radio":
            group, body = (frames[0], frames[1]) if len(frames) == 2 else (self._group, frames[0])
            if len(frames) > 2:
                raise CommandError("a radio sends 'message' or 'group<TAB>message' lines")
            return self.send(body, flags, group=group)
        if len(frames) != 1:
            raise CommandError(f"a {self._kind} sends messages of one part (no tabs)")
        return self.send(frames[0], flags)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        frame = self.recv(flags, copy=False)
        if self._kind in _ADDRESSED:
            return [str(frame.routing_id).encode(), frame.bytes]
        if self._kind == "dish" and self._with_group:
            return [(frame.group or "").encode("utf-8", "surrogateescape"), frame.bytes]
        return [frame.bytes]


def make_socket(ctx: zmq.Context, kind: str, args: Any) -> SinglePartSocket:
    sock = SinglePartSocket(ctx, DRAFT_TYPES[kind])
    sock.configure(kind, getattr(args, "group", None) or "", args.format in ("multipart", "json"))
    for group in getattr(args, "join", None) or ([""] if kind == "dish" else []):
        sock.join(group.encode("utf-8", "surrogateescape"))
    return sock


def connect_peers(sock: SinglePartSocket, endpoints: list[str]) -> None:
    """A peer connects with connect_peer: the routing id of each is told on stderr."""
    for endpoint in endpoints:
        try:
            routing_id = sock.connect_peer(endpoint)
        except zmq.ZMQError as exc:
            raise CommandError(f"cannot connect to {endpoint}: {exc}") from None
        print(f"purezmq: peer {endpoint} has routing id {routing_id}", file=sys.stderr)


DESCRIPTIONS = {
    "scatter": "Send each line of stdin on a SCATTER socket (a thread-safe PUSH): messages are "
    "dealt round-robin to the GATHER peers.",
    "gather": "Print each message a GATHER socket (a thread-safe PULL) receives. With --exec, "
    "run a command per message instead and print its output.",
    "client": "Send stdin lines and print received messages, both at once, on a CLIENT socket "
    "(talks to a SERVER).",
    "server": "Send stdin lines and print received messages, both at once, on a SERVER socket. "
    "Each received message is printed as routing-id<TAB>message; a line to send names the "
    "routing id of its client the same way.",
    "peer": "Send stdin lines and print received messages, both at once, on a PEER socket. "
    "Each endpoint connected to gets a routing id (told on stderr); messages are "
    "routing-id<TAB>message both ways.",
    "radio": "Send each line of stdin to a group on a RADIO socket: to --group, or a "
    "group<TAB>message line to its group. Dishes that did not join the group do not get it.",
    "dish": "Print each message a DISH socket receives from the groups it joined (--join; "
    "default: the empty group). --format multipart prints group<TAB>message.",
    "channel": "Send stdin lines and print received messages, both at once, on a CHANNEL "
    "socket (a thread-safe PAIR).",
}

EXAMPLES = {
    "scatter": "  seq 1000 | purezmq scatter --bind 'tcp://*:5555'",
    "gather": "  purezmq gather tcp://localhost:5555 --count 1000",
    "client": "  echo hello | purezmq client --count 1 tcp://localhost:5555",
    "server": "  purezmq server --bind 'tcp://*:5555'        # prints: routing-id<TAB>message",
    "peer": "  purezmq peer --bind 'tcp://*:5555'\n  purezmq peer tcp://localhost:5555",
    "radio": """\
  tail -f app.log | purezmq radio --group logs udp://239.0.0.1:5556
  purezmq radio --group news --bind 'tcp://*:5556'""",
    "dish": """\
  purezmq dish --bind 'udp://239.0.0.1:5556' --join logs
  purezmq dish tcp://localhost:5556 --join news --format multipart""",
    "channel": "  purezmq channel --bind 'tcp://*:5555'",
}

"""What the API does for the thread-safe draft sockets, whose messages have one part: a routing
id (SERVER, PEER) or a group (RADIO, DISH) goes along with the body (see routing/draft.py)."""

from __future__ import annotations

import errno
from typing import Any

from .constants import GROUP_MAX_LENGTH, Flag
from .error import ZMQError
from .frame import Frame

_SNDMORE = int(Flag.SNDMORE)

#: What goes along with a message's body, by socket type ("": nothing).
TAG_BY_TYPE = {
    "SERVER": "routing_id",
    "PEER": "routing_id",
    "RADIO": "group",
    "DISH": "group",
    "CLIENT": "",
    "SCATTER": "",
    "GATHER": "",
    "CHANNEL": "",
}


def group_bytes(group: Any) -> bytes:
    """A group as the wire has it: EINVAL past 255 bytes (ZMQ_GROUP_MAX_LENGTH), as
    zmq_msg_set_group and zmq_join."""
    if isinstance(group, str):
        group = group.encode("utf-8")
    elif not isinstance(group, bytes):
        raise TypeError(f"a group is str or bytes, not {type(group).__name__}")
    if len(group) > GROUP_MAX_LENGTH:
        raise ZMQError(errno.EINVAL, f"a group has at most {GROUP_MAX_LENGTH} bytes")
    return group


def addressed(frame: Frame, routing_id: Any, group: Any) -> tuple[Any, Any]:
    """The routing id and group of a Frame sent, where send's arguments do not give them."""
    return (
        frame.routing_id if routing_id is None else routing_id,
        frame.group if group is None else group,
    )


def outgoing(tag: str, body: bytes, flags: int, routing_id: Any, group: Any) -> Any:
    """The message a single-part socket's routing takes for ``body``. EINVAL for a part with
    SNDMORE, as libzmq."""
    if flags & _SNDMORE:
        raise ZMQError(errno.EINVAL, "this socket type sends messages of one part only")
    if tag == "routing_id":
        if routing_id is None:
            routing_id = 0  # (No peer has it: EHOSTUNREACH, as libzmq.)
        elif not isinstance(routing_id, int) or isinstance(routing_id, bool):
            raise TypeError(f"a routing id is an int, not {type(routing_id).__name__}")
        return (routing_id, body)
    if tag == "group":
        return (b"" if group is None else group_bytes(group), body)
    return body


def outgoing_parts(
    tag: str, parts: Any, frames: list[bytes], flags: int, routing_id: Any, group: Any
) -> Any:
    """send_multipart's message on a single-part socket: EINVAL for more than one part; the
    part, when a Frame, may carry the routing id or group."""
    if len(frames) > 1:
        raise ZMQError(errno.EINVAL, "this socket type sends messages of one part only")
    if tag and isinstance(parts[0], Frame):
        routing_id, group = addressed(parts[0], routing_id, group)
    return outgoing(tag, frames[0], flags, routing_id, group)


def incoming(tag: str, message: Any, copy: bool, metadata: Any) -> Any:
    """What recv returns for a received single-part message: its body, or with ``copy=False``
    a Frame that has its routing id or group."""
    if tag:
        label, body = message
    else:
        label, body = None, message if type(message) is bytes else message[0]
    if copy:
        return body
    frame = Frame._received(body, False, metadata)
    if tag == "routing_id":
        frame.routing_id = label
    elif tag == "group":
        frame.group = label.decode("utf-8", "surrogateescape")
    return frame

"""Socket monitor events (pyzmq's ``zmq.utils.monitor``): decode the two-frame messages that a
monitor socket (``Socket.get_monitor_socket()``) receives.

purezmq's sockets emit them in libzmq's format (``Socket.monitor``, engine/monitor.py), so these
functions decode a libzmq socket's events and a purezmq socket's alike."""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Sequence
from typing import Any, TypedDict

from ..constants import Event
from ..error import _check_version

_EVENT = struct.Struct("=hi")  # 16-bit event id, 32-bit value, no padding (libzmq's layout)


class _MonitorMessage(TypedDict):
    event: int
    value: int
    endpoint: bytes


def parse_monitor_message(msg: list[bytes]) -> _MonitorMessage:
    """decode zmq_monitor event messages.

    Parameters
    ----------
    msg : list(bytes)
        zmq multipart message that has arrived on a monitor PAIR socket.

        First frame is::

            16 bit event id
            32 bit event value
            no padding

        Second frame is the endpoint as a bytestring

    Returns
    -------
    event : dict
        event description as dict with the keys `event`, `value`, and `endpoint`
        (``event`` and ``value`` as :class:`Event` flags, as pyzmq gives them).

    Raises RuntimeError for a message of another shape, TypeError for what is not a sequence.
    """
    if len(msg) != 2 or len(msg[0]) != 6:
        raise RuntimeError(f"Invalid event message format: {msg}")
    event_id, value = _EVENT.unpack(msg[0])
    return {"event": Event(event_id), "value": Event(value), "endpoint": msg[1]}


async def _parse_when_received(future: Awaitable[Sequence[bytes]]) -> _MonitorMessage:
    return parse_monitor_message(list(await future))


def recv_monitor_message(
    socket: Any, flags: int = 0
) -> _MonitorMessage | Awaitable[_MonitorMessage]:
    """Receive and decode the given raw message from the monitoring socket and return a dict.

    The returned dict will have the following entries:
      event : int
        the event id as described in `libzmq.zmq_socket_monitor`
      value : int
        the event value associated with the event, see `libzmq.zmq_socket_monitor`
      endpoint : bytes
        the affected endpoint

    With an asyncio socket (whose ``recv_multipart`` returns a future), returns an awaitable
    for the monitor message.

    Parameters
    ----------
    socket : zmq.Socket
        The PAIR socket (created by other.get_monitor_socket()) on which to recv the message
    flags : int
        standard zmq recv flags
    """
    _check_version((4, 0), "libzmq event API")
    received = socket.recv_multipart(flags)
    if hasattr(received, "__await__"):
        return _parse_when_received(received)
    return parse_monitor_message(received)


__all__ = ["parse_monitor_message", "recv_monitor_message"]

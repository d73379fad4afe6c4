"""Socket monitors (zmq_socket_monitor): a socket's events as messages on an internal socket.

``SocketBase.monitor`` binds an internal socket (PAIR, or PUB/PUSH for version 2) to an inproc
endpoint and hands it to a ``Monitor``; listeners, connecters and sessions then report what
happens to their connections through ``SocketBase.monitor_sink`` (``None`` without a monitor: the
only cost anywhere is that check, made at connection events, never per message).

Events come from the socket's own thread (bind, unbind, close, its fast paths) and from the I/O
thread or event loop (accepting, connecting, handshakes): the internal socket is written under a
lock. A write never blocks: an event that finds no peer connected, or the peer's queue at its
high-water mark, is dropped (libzmq 4.3's monitor blocks the emitting thread instead).

The wire formats are libzmq's, in native byte order:

- version 1: ``[uint16 event, uint32 value]``, then the endpoint (two frames);
- version 2: ``[uint64 event]``, ``[uint64 count]``, ``count`` frames ``[uint64 value]``, then
  the local endpoint and the remote endpoint.
"""

from __future__ import annotations

import errno
import re
import struct
import threading
from typing import Any

from ..constants import Event

_V1 = struct.Struct("=HI")
_U64 = struct.Struct("=Q")
_ONE = _U64.pack(1)
_NOBLOCK = 1

#: What a version-1 monitor can be asked for (libzmq refuses more with EINVAL).
ALL_V1 = int(Event.ALL_V1)
ALL_V2 = int(Event.ALL_V2)


def _text(endpoint: str) -> bytes:
    return endpoint.encode("utf-8", "surrogateescape")


class Monitor:
    """Where a monitored socket's events go: the internal socket bound to the monitor's
    endpoint, the events asked for, and the format (``version`` 1 or 2)."""

    def __init__(self, socket: Any, events: int, version: int) -> None:
        self._socket = socket
        self.events = events
        self.version = version
        self._lock = threading.Lock()
        self._stopped = False
        #: Events dropped because nobody could take them at once.
        self.dropped = 0

    def emit(
        self, event: int, value: int, endpoint: str, local: str = "", remote: str = ""
    ) -> None:
        """Publish one event. ``endpoint`` is what version 1 reports (libzmq's choice: the local
        address of a connection the socket accepted, the address it connected to); ``local``
        and ``remote`` are version 2's pair. From any thread; never blocks."""
        if not self.events & event:
            return
        if self.version == 1:
            message = [_V1.pack(event, value & 0xFFFFFFFF), _text(endpoint)]
        else:
            message = [
                _U64.pack(event),
                _ONE,
                _U64.pack(value & 0xFFFFFFFFFFFFFFFF),
                _text(local),
                _text(remote),
            ]
        with self._lock:
            if self._stopped:
                return
            try:
                self._socket.send_message(message, _NOBLOCK)
            except Exception:  # Again (no peer, or its queue full), or the context ended.
                self.dropped += 1

    def stop(self) -> None:
        """MONITOR_STOPPED (when asked for), then close the internal socket: its peer still
        reads what was queued."""
        self.emit(int(Event.MONITOR_STOPPED), 0, "")
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._socket.close(0)


# -- handshake failures ------------------------------------------------------------------------

_NO_DETAIL = int(Event.HANDSHAKE_FAILED_NO_DETAIL)
_PROTOCOL = int(Event.HANDSHAKE_FAILED_PROTOCOL)
_AUTH = int(Event.HANDSHAKE_FAILED_AUTH)
_MISSING = object()

#: A ZAP status code that libzmq reports as HANDSHAKE_FAILED_AUTH: 300, 400 or 500.
_STATUS = re.compile(r"([345]00)(?: |$)")
_PEER_REFUSED = "peer refused the handshake: "

#: The protocol layer's error texts, in the order they are tried, and what libzmq reports for the
#: same fault: (event, value), or None where libzmq reports nothing but the disconnection.
_BY_TEXT: list[tuple[str, tuple[int, int] | None]] = [
    ("mechanism", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH))),
    ("cannot talk to", None),  # Incompatible socket types.
    ("metadata", None),
    ("not a ZMTP 3 greeting", None),
    # libzmq takes these for an older ZMTP peer and fails later, when it leaves.
    ("not a ZMTP greeting", (_NO_DETAIL, errno.EPROTO)),
    ("unsupported ZMTP version", (_NO_DETAIL, errno.EPROTO)),
    ("before the handshake", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND))),
    ("invalid frame flags", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND))),
    ("unexpected", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND))),
    ("malformed HELLO", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO))),
    ("PLAIN HELLO", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO))),
    ("unsupported version", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO))),
    ("malformed INITIATE", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE))),
    ("malformed WELCOME", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME))),
    ("malformed READY", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY))),
    ("malformed MESSAGE", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE))),
    ("malformed ERROR", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR))),
    ("exceeds", (_NO_DETAIL, errno.EMSGSIZE)),
    ("command", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED))),
    ("nonce", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE))),
    ("CURVE", (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))),
]


def handshake_failure(exc: Exception, refused: bool, tell_peer: bool) -> tuple[int, int] | None:
    """The monitor event (event, value) for a handshake that failed with ``exc``, a protocol
    error (``refused``: a HandshakeRefused, which ``tell_peer`` or not); None when libzmq
    reports only the disconnection.

    A protocol error may say itself: ``protocol_error`` (a ZMQ_PROTOCOL_ERROR_* code, or None
    for no event) or, for a refusal, ``status`` (the ZAP status code). Otherwise its text is
    read."""
    code: Any = getattr(exc, "protocol_error", _MISSING)
    if code is not _MISSING:
        return None if code is None else (_PROTOCOL, int(code))
    text = str(getattr(exc, "reason", None) or exc)
    if refused:
        status = getattr(exc, "status", None)
        if status is not None:
            return (_AUTH, int(status)) if status else (_NO_DETAIL, errno.EFAULT)
        if not tell_peer:
            if text.startswith(_PEER_REFUSED):
                # The peer's ERROR: an authentication failure when its reason is a status code.
                found = _STATUS.match(text[len(_PEER_REFUSED) :])
                return (_AUTH, int(found.group(1))) if found else None
            if "ZAP" in text:  # Nobody answered for ZAP (no handler): libzmq's EFAULT.
                return (_NO_DETAIL, errno.EFAULT)
        found = _STATUS.match(text)
        if found:
            return (_AUTH, int(found.group(1)))
        if tell_peer:  # Our ZAP handler refused with a status libzmq does not know.
            return (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE))
    for words, outcome in _BY_TEXT:
        if words in text:
            return outcome
    return (_PROTOCOL, int(Event.PROTOCOL_ERROR_ZMTP_UNSPECIFIED))

"""The ZAP client (RFC 27): servers ask the handler bound at inproc://zeromq.zap.01 about peers.

One ZapClient per Context talks to the handler over an inproc pipe, like a DEALER: requests carry
an id, replies come back (in the handler's thread) and are handed to the waiting session's loop.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..constants import SocketOption as Opt
from ..options import Options
from ..protocol.commands import decode_properties
from ..protocol.errors import ProtocolError
from ..routing.pipe import Peer, Pipe

if TYPE_CHECKING:
    from ..transport.inproc import InprocLink, InprocRegistry

log = logging.getLogger("purezmq")

ZAP_ENDPOINT = "zeromq.zap.01"
ZAP_VERSION = b"1.0"
Reply = Callable[[bytes, str, bytes, dict[str, bytes]], None]


class _Routing:
    attach_before_handshake = True


class ZapClient:
    """Speaks to the ZAP handler for all the sockets of one context."""

    socket_type_name = "DEALER"
    routing = _Routing()

    def __init__(self, registry: InprocRegistry) -> None:
        self.registry = registry
        self.options = Options()
        self.options.set(Opt.SNDHWM, 0)  # requests and replies are never dropped
        self.options.set(Opt.RCVHWM, 0)
        self._lock = threading.Lock()
        self._link: InprocLink | None = None
        self._waiting: dict[bytes, Reply] = {}
        self._ids = itertools.count(1)

    def request(self, frames: list[bytes], reply: Reply) -> bool:
        """Send a request (domain, address, identity, mechanism, credentials...); False when no
        handler is bound. ``reply`` is called from the handler's thread."""
        with self._lock:
            binder = self.registry.bound_socket(ZAP_ENDPOINT)
            if binder is None:
                return False
            link = self._link
            if link is None or link.closed or link.binder is not binder:
                link = self._link = self.registry.connect(ZAP_ENDPOINT, self)
            request_id = str(next(self._ids)).encode()
            self._waiting[request_id] = reply
        link.connecter_peer.outbound.write([b"", ZAP_VERSION, request_id, *frames])
        return True

    # What the inproc registry expects of a connecting socket -----------------------------------

    def post(self, command: str, peer: Peer) -> None:
        if command == "attach":
            peer.attached_requested = True

    def on_writable(self, pipe: Pipe) -> None:
        pass

    def on_readable(self, pipe: Pipe) -> None:
        while (message := pipe.read()) is not None:
            self._reply(message)

    def _reply(self, message: list[bytes]) -> None:
        try:
            frames = message[message.index(b"") + 1 :]
        except ValueError:
            frames = message
        if len(frames) != 6 or frames[0] != ZAP_VERSION:
            log.warning("purezmq: malformed ZAP reply ignored: %r", frames[:3])
            return
        _, request_id, status, text, user_id, raw_metadata = frames
        with self._lock:
            reply = self._waiting.pop(request_id, None)
        if reply is None:
            return
        try:
            metadata = decode_properties(raw_metadata)
        except ProtocolError:
            metadata = {}
        reply(status, text.decode("utf-8", "replace"), user_id, metadata)

    def reject(self) -> None:
        pass

    def __repr__(self) -> str:
        return "<ZapClient>"

    def close(self) -> None:
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close_from(self)


__all__ = ["ZAP_ENDPOINT", "ZapClient"]

"""Choosing a socket's security mechanism from its options, and asking ZAP about peers."""

from __future__ import annotations

import functools
from typing import Any

from ..constants import SecurityMechanism
from ..constants import SocketOption as Opt
from ..options import Options
from ..protocol.mechanisms import (
    AuthRequest,
    CurveClient,
    CurveServer,
    NullMechanism,
    PlainClient,
    PlainServer,
)
from .ports import SocketPort


def mechanism_for(options: Options) -> tuple[Any, bool]:
    """(mechanism factory for Connection, whether this end is the handshake's server)."""
    mechanism = options.int(Opt.MECHANISM)
    if mechanism == SecurityMechanism.PLAIN:
        if options.as_server:
            return PlainServer, True
        return functools.partial(
            PlainClient,
            username=options.bytes(Opt.PLAIN_USERNAME),
            password=options.bytes(Opt.PLAIN_PASSWORD),
        ), False
    if mechanism == SecurityMechanism.CURVE:
        if options.as_server:
            return functools.partial(
                CurveServer, secret_key=options.bytes(Opt.CURVE_SECRETKEY)
            ), True
        return functools.partial(
            CurveClient,
            public_key=options.bytes(Opt.CURVE_PUBLICKEY),
            secret_key=options.bytes(Opt.CURVE_SECRETKEY),
            server_key=options.bytes(Opt.CURVE_SERVERKEY),
        ), False
    zap = bool(options.bytes(Opt.ZAP_DOMAIN))
    return functools.partial(NullMechanism, zap=zap), False


def authenticate(socket: SocketPort, request: AuthRequest, address: bytes, answer: Any) -> None:
    """Ask the ZAP handler about a peer; ``answer(status, text, user_id, metadata)`` is called
    on the socket's I/O loop. Without a handler every peer is accepted, as in libzmq, unless
    ZAP_ENFORCE_DOMAIN is set."""
    options = socket.options

    def deliver(status: bytes, text: str, user_id: bytes, metadata: dict[str, bytes]) -> None:
        socket.schedule_io(lambda: answer(status, text, user_id, metadata))

    if options.int(Opt.ZAP_ENFORCE_DOMAIN) and not options.bytes(Opt.ZAP_DOMAIN):
        # RFC 27 wants a domain in every ZAP request; libzmq 4.3.5 aborts here (an assertion).
        answer(b"", "ZAP_ENFORCE_DOMAIN is set and ZAP_DOMAIN is empty: peers are refused", b"", {})
        return
    frames = [
        options.bytes(Opt.ZAP_DOMAIN),
        address,
        options.bytes(Opt.ROUTING_ID),
        request.mechanism,
        *request.credentials,
    ]
    if socket.runtime.zap_client().request(frames, deliver):
        return
    if request.mechanism == b"PLAIN" or options.int(Opt.ZAP_ENFORCE_DOMAIN):
        # libzmq 4.3 refuses PLAIN clients when no ZAP handler is there to check passwords.
        answer(b"", "no ZAP handler to authenticate the peer", b"", {})
    else:
        answer(b"200", "OK", b"", {})

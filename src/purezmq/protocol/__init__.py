"""ZMTP 3.1 (RFC 37) as pure state machines over bytes: no sockets, no threads, no clock."""

from .connection import (
    Connection,
    ConnectionEvent,
    GroupChange,
    HandshakeComplete,
    PeerError,
    PeerTtl,
    SubscriptionChange,
)
from .errors import ProtocolError
from .greeting import Greeting

__all__ = [
    "Connection",
    "ConnectionEvent",
    "Greeting",
    "GroupChange",
    "HandshakeComplete",
    "PeerError",
    "PeerTtl",
    "ProtocolError",
    "SubscriptionChange",
]

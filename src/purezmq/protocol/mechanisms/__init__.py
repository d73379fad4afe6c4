"""Security mechanisms: each runs the handshake that follows the greeting."""

from .base import AuthRequest, HandshakeRefused, Mechanism
from .curve import CurveClient, CurveServer
from .null import NullMechanism
from .plain import PlainClient, PlainServer

__all__ = [
    "AuthRequest",
    "CurveClient",
    "CurveServer",
    "HandshakeRefused",
    "Mechanism",
    "NullMechanism",
    "PlainClient",
    "PlainServer",
]

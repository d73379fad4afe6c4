"""Security mechanisms: each runs the handshake that follows the greeting."""

from .base import Mechanism
from .null import NullMechanism

__all__ = ["Mechanism", "NullMechanism"]

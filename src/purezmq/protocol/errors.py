"""The one exception of the protocol layer."""


class ProtocolError(Exception):
    """The peer broke ZMTP; the connection must be dropped. The text says how."""

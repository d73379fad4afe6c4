"""Routing, sans-IO: pipes between a socket and its peers, and how each socket type routes
messages over them. Pure logic: no sockets, threads or clocks; imports only constants and errors."""

from . import (
    dgram,  # noqa: F401, E402 - registers DGRAM in sockets.ROUTING_BY_TYPE
    draft,  # noqa: F401, E402 - registers the draft types in sockets.ROUTING_BY_TYPE
    stream,  # noqa: F401, E402 - registers STREAM in sockets.ROUTING_BY_TYPE
)

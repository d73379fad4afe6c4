"""pyzmq's zmq.green.eventloop.ioloop: tornado's IOLoop (deprecated, as pyzmq's)."""

from ...eventloop.ioloop import *  # noqa: F403
from ...eventloop.ioloop import IOLoop

__all__ = ["IOLoop"]

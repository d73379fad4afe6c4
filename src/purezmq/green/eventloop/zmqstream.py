"""pyzmq's zmq.green.eventloop.zmqstream: ZMQStream (on tornado's IOLoop)."""

from ...eventloop.zmqstream import *  # noqa: F403
from ...eventloop.zmqstream import ZMQStream
from .ioloop import IOLoop

__all__ = ["IOLoop", "ZMQStream"]

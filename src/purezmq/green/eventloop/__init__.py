"""pyzmq's zmq.green.eventloop: tornado's IOLoop and ZMQStream, over green sockets."""

from .ioloop import IOLoop

__all__ = ["IOLoop"]

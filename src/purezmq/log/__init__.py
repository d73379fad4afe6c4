"""Logging over ZeroMQ (pyzmq's ``zmq.log``): :mod:`purezmq.log.handlers` publishes log records
on a PUB socket; ``python -m purezmq.log URL`` prints what a publisher sends."""

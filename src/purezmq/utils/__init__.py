"""Helpers with the same names as pyzmq's zmq.utils."""

"""Interop tests: the library under test (``zmq_impl``) against real libzmq (pyzmq)."""

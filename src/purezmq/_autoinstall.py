"""Imported at interpreter start-up by the ``purezmq-as-zmq.pth`` file that purezmq installs, when
the environment variable ``PUREZMQ_AS_ZMQ`` is set (to anything but ``0``, ``false``, ``no``,
``off`` or nothing): makes ``import zmq`` give purezmq in this process (see
:func:`purezmq.install_as_zmq`). Importing it by hand does the same."""

from __future__ import annotations

from ._as_zmq import install_as_zmq

install_as_zmq()

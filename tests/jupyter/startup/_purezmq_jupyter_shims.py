"""What ipykernel needs of pyzmq that purezmq does not have yet, filled in for tests/jupyter
(imported by the ``sitecustomize`` next to it when ``PUREZMQ_JUPYTER_SHIMS=1``). Each shim
applies only while the gap is there, and says so in ``APPLIED``: the tests report it, and a
strict test fails once a shim is no longer needed, so that it is removed.

- ``stream``: ipykernel's kernel application makes a ``zmq.STREAM`` socket at start-up for the
  debugger (``IPKernelApp.init_control``), which purezmq does not have. Here ``ctx.socket(STREAM)``
  gives an unconnected DEALER instead: the kernel starts and runs code; the debugger (which
  would connect it to debugpy's TCP adapter and exchange raw bytes) does not work.
"""

from __future__ import annotations

from typing import Any

import purezmq
from purezmq.error import ZMQError

APPLIED: list[str] = []


def _has_stream_sockets() -> bool:
    ctx = purezmq.Context(io_threads=0)
    try:
        ctx.socket(purezmq.STREAM).close(linger=0)
    except ZMQError:
        return False
    finally:
        ctx.term()
    return True


if not _has_stream_sockets():
    _socket = purezmq.Context.socket

    def socket(self: Any, socket_type: int, *args: Any, **kwargs: Any) -> Any:
        if socket_type == purezmq.STREAM:
            socket_type = purezmq.DEALER  # A stand-in, never connected (see above).
        return _socket(self, socket_type, *args, **kwargs)

    purezmq.Context.socket = socket  # type: ignore[method-assign]
    APPLIED.append("stream")

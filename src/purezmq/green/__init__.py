"""purezmq.green: purezmq for gevent programs (pyzmq's zmq.green).

``import purezmq.green as zmq`` (or, after install_as_zmq, ``import zmq.green as zmq``) gives
purezmq with a Context, Socket, Poller, poll/select and proxies whose blocking calls yield to
other greenlets instead of blocking the thread. Needs gevent (the ``gevent`` extra).
"""

from __future__ import annotations

import purezmq as _purezmq
from purezmq import *  # noqa: F403

from .core import _Context, _Socket
from .device import device, proxy, proxy_steerable
from .poll import _Poller, select, zmq_poll

Context = _Context
Socket = _Socket
Poller = _Poller

# (vars: the package's root may be a bare namespace, as when a layer is imported alone.)
__all__ = [*vars(_purezmq).get("__all__", []), "_Context", "_Socket", "_Poller"]
__all__ += ["device", "proxy", "proxy_steerable", "select", "zmq_poll"]

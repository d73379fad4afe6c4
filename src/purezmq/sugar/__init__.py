"""pyzmq's ``zmq.sugar``: the Python layer over the backend. In purezmq everything is Python, so
these are the public classes themselves (``purezmq.sugar.socket.Socket is purezmq.Socket``),
under the module names pyzmq code imports them from."""

from __future__ import annotations

import purezmq.error as error  # noqa: F401 - zmq.sugar.error, as in pyzmq

from ..devices.functions import device, proxy  # noqa: F401 - proxy: not in pyzmq's __all__
from ..error import (
    Again,
    ContextTerminated,
    DraftFDWarning,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
)
from . import (  # noqa: F401 - the submodules, as in pyzmq
    attrsettr,
    context,
    frame,
    poll,
    socket,
    stopwatch,
    tracker,
    version,
)
from .context import Context, SyncContext
from .frame import Frame, Message
from .poll import Poller, select
from .socket import Socket, SyncSocket
from .stopwatch import Stopwatch
from .tracker import _FINISHED_TRACKER, MessageTracker
from .version import (
    __revision__,
    __version__,
    pyzmq_version,
    pyzmq_version_info,
    zmq_version,
    zmq_version_info,
)

__all__ = [
    "device",
    "Context",
    "SyncContext",
    "DraftFDWarning",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "NotDone",
    "ContextTerminated",
    "InterruptedSystemCall",
    "Again",
    "ZMQVersionError",
    "Frame",
    "Message",
    "Poller",
    "select",
    "Socket",
    "SyncSocket",
    "MessageTracker",
    "_FINISHED_TRACKER",
    "zmq_version",
    "zmq_version_info",
    "pyzmq_version",
    "pyzmq_version_info",
    "__version__",
    "__revision__",
    "Stopwatch",
]

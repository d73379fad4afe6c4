"""Logging handlers that publish log records on a PUB socket (pyzmq's ``zmq.log.handlers``).

The :class:`PUBHandler` can be used with the regular logging module, as in::

    >>> import logging
    >>> handler = PUBHandler('tcp://127.0.0.1:12345')
    >>> handler.root_topic = 'foo'
    >>> logger = logging.getLogger('foobar')
    >>> logger.setLevel(logging.DEBUG)
    >>> logger.addHandler(handler)

or named in a ``logging.config.dictConfig`` (``'class': 'purezmq.log.handlers.PUBHandler'``,
with ``'interface_or_socket'`` and ``'root_topic'`` among its keys).

Each record is a two-frame message: the topic (``root_topic.LEVEL.subtopic``, empty parts left
out) and the formatted record, both UTF-8. A message ``"sub.topic::text"`` is published under
the subtopic ``sub.topic`` as ``text``. Watch them with ``python -m purezmq.log URL``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from ..constants import SocketType
from ..context import Context

#: What separates a subtopic from the message in a log call (``log.debug("sub::message")``).
TOPIC_DELIM = "::"

_STANDARD_LEVELS = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)


class PUBHandler(logging.Handler):
    """A basic logging handler that emits log messages through a PUB socket.

    Takes a PUB socket already bound to interfaces or an interface to bind to.

    Example::

        sock = context.socket(zmq.PUB)
        sock.bind('inproc://log')
        handler = PUBHandler(sock)

    Or::

        handler = PUBHandler('inproc://loc')

    These are equivalent. (Given an interface, the handler makes a PUB socket in ``context``, or
    in a new Context, and binds it.)

    Log messages handled by this handler are broadcast with ZMQ topics
    ``this.root_topic`` comes first, followed by the log level
    (DEBUG,INFO,etc.), followed by any additional subtopics specified in the
    message by: log.debug("subtopic.subsub::the real message")
    """

    ctx: Any
    socket: Any

    def __init__(
        self,
        interface_or_socket: str | Any,
        context: Any | None = None,
        root_topic: str = "",
    ) -> None:
        super().__init__()
        self.root_topic = root_topic
        self.formatters: dict[int, logging.Formatter] = {
            logging.DEBUG: logging.Formatter(
                "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"
            ),
            logging.INFO: logging.Formatter("%(message)s\n"),
            logging.WARNING: logging.Formatter(
                "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"
            ),
            logging.ERROR: logging.Formatter(
                "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n"
            ),
            logging.CRITICAL: logging.Formatter(
                "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"
            ),
        }
        if isinstance(interface_or_socket, str) or not hasattr(interface_or_socket, "send"):
            self.ctx = context or Context()
            self.socket = self.ctx.socket(SocketType.PUB)
            self.socket.bind(interface_or_socket)
        else:
            self.socket = interface_or_socket
            self.ctx = self.socket.context

    @property
    def root_topic(self) -> str:
        return self._root_topic

    @root_topic.setter
    def root_topic(self, value: str) -> None:
        self.setRootTopic(value)

    def setRootTopic(self, root_topic: str) -> None:  # noqa: N802 - logging's naming, pyzmq's name
        """Set the root topic for this handler.

        This value is prepended to all messages published by this handler, and it defaults to
        the empty string ''. A subscriber must subscribe to it (or to a prefix of it) to get
        the messages; with the empty root topic, messages begin with the level name (INFO,
        WARNING, ...)."""
        self._root_topic = root_topic

    def setFormatter(self, fmt: logging.Formatter | None, level: int = 0) -> None:  # noqa: N802
        """Set the Formatter for this handler.

        If no level is provided, the same format is used for all levels. This
        will overwrite all selective formatters set in the object constructor.
        """
        if level == 0:
            for key in self.formatters:
                self.formatters[key] = fmt  # type: ignore[assignment]
        else:
            self.formatters[level] = fmt  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        """Format a record, with the formatter of its level (a level without one of its own, such
        as a custom level, takes the formatter of the nearest standard level below it)."""
        formatter = self.formatters.get(record.levelno)
        if formatter is None:
            below = [level for level in self.formatters if level <= record.levelno]
            key = max(below) if below else min(self.formatters, default=logging.DEBUG)
            formatter = self.formatters.get(key)
        if formatter is None:
            return logging.Formatter().format(record)
        return formatter.format(record)

    def emit(self, record: logging.LogRecord) -> None:
        """Emit a log message on my socket."""
        try:
            topic = ""
            if isinstance(record.msg, str) and TOPIC_DELIM in record.msg:
                # The first delimiter ends the subtopic; the message keeps any later ones.
                topic, message = record.msg.split(TOPIC_DELIM, 1)
                record = copy.copy(record)  # Other handlers still see the record as logged.
                record.msg = message
            parts = [self.root_topic, record.levelname, topic]
            topic_bytes = ".".join(part for part in parts if part).encode("utf8")
            body = self.format(record).encode("utf8")
            self.socket.send_multipart([topic_bytes, body])
        except Exception:
            self.handleError(record)


class TopicLogger(logging.Logger):
    """A simple wrapper that takes an additional argument to log methods.

    All the regular methods exist, but instead of one msg argument, two
    arguments: topic, msg are passed.

    That is::

        logger.debug('msg')

    Would become::

        logger.debug('topic.sub', 'msg')
    """

    def log(  # type: ignore[override]
        self, level: int, topic: str, msg: str, *args: Any, **kwargs: Any
    ) -> None:
        """Log 'msg % args' with level and topic.

        To pass exception information, use the keyword argument exc_info
        with a True value::

            logger.log(level, "zmq.fun", "We have a %s",
                    "mysterious problem", exc_info=1)
        """
        kwargs.setdefault("stacklevel", 2)
        super().log(level, topic + TOPIC_DELIM + msg, *args, **kwargs)

    def _topic_log(self, level: int, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 2
        super().log(level, topic + TOPIC_DELIM + msg, *args, **kwargs)

    def debug(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.DEBUG, topic, msg, *args, **kwargs)

    def info(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.INFO, topic, msg, *args, **kwargs)

    def warning(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.WARNING, topic, msg, *args, **kwargs)

    warn = warning  # type: ignore[assignment]

    def error(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.ERROR, topic, msg, *args, **kwargs)

    def exception(  # type: ignore[override]
        self, topic: str, msg: str, *args: Any, exc_info: Any = True, **kwargs: Any
    ) -> None:
        self._topic_log(logging.ERROR, topic, msg, *args, exc_info=exc_info, **kwargs)

    def critical(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._topic_log(logging.CRITICAL, topic, msg, *args, **kwargs)

    fatal = critical  # type: ignore[assignment]


__all__ = ["PUBHandler", "TopicLogger", "TOPIC_DELIM"]

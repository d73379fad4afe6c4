"""AttributeSetter: options as attributes (``sock.linger = 0``, ``ctx.io_threads``), pyzmq's
``zmq.sugar.attrsettr`` mixin.

A subclass gets, for any attribute name that is not its own, the option of that name
(upper-cased) from ``purezmq.constants``, through its ``set``/``get``. purezmq's own Socket,
Context and Frame do this with properties (faster than ``__getattr__``) rather than by inheriting
the mixin; they are registered as its virtual subclasses, so ``isinstance(sock, AttributeSetter)``
is True as in pyzmq."""

from __future__ import annotations

import abc
from typing import Any

from .. import constants
from ..context import Context
from ..frame import Frame
from ..socket import Socket


class AttributeSetter(metaclass=abc.ABCMeta):  # noqa: B024 - ABCMeta for register() only
    """Set and get zmq options by attribute (the class name in errors: ``Socket has no such
    option: NAME``)."""

    def __setattr__(self, key: str, value: Any) -> None:
        """set zmq options by attribute"""
        if key in self.__dict__ or hasattr(type(self), key):
            object.__setattr__(self, key, value)
            return
        upper_key = key.upper()
        opt = getattr(constants, upper_key, None)
        if not isinstance(opt, int):
            raise AttributeError(f"{type(self).__name__} has no such option: {upper_key}")
        self._set_attr_opt(upper_key, opt, value)

    def _set_attr_opt(self, name: str, opt: int, value: Any) -> None:
        """override if setattr should do something other than call self.set"""
        self.set(opt, value)

    def __getattr__(self, key: str) -> Any:
        """get zmq options by attribute"""
        upper_key = key.upper()
        opt = getattr(constants, upper_key, None)
        if key.startswith("__") or not isinstance(opt, int):
            raise AttributeError(f"{type(self).__name__} has no such option: {upper_key}")
        return self._get_attr_opt(upper_key, opt)

    def _get_attr_opt(self, name: str, opt: int) -> Any:
        """override if getattr should do something other than call self.get"""
        return self.get(opt)

    def get(self, option: int) -> Any:
        """Override in subclass"""
        raise NotImplementedError("override in subclass")

    def set(self, option: int, value: Any) -> None:
        """Override in subclass"""
        raise NotImplementedError("override in subclass")


for _cls in (Socket, Context, Frame):
    AttributeSetter.register(_cls)

__all__ = ["AttributeSetter"]

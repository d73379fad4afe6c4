"""Decorators for running functions with context/sockets (pyzmq's ``zmq.decorators``).

Like using Contexts and Sockets as context managers, but with decorator syntax.
Context and sockets are closed at the end of the function.

For example::

    from purezmq.decorators import context, socket

    @context()
    @socket(zmq.PUSH)
    def work(ctx, push):
        ...

Each call of the decorated function makes a new Context (``@context``) or socket (``@socket``),
passes it on, and terminates or closes it when the function returns or raises. Without a name
it is appended to the positional arguments; with one (``@context("ctx")``,
``@socket("push", zmq.PUSH)``, or ``name=``) it is passed as that keyword argument, and a
caller passing the same keyword is a TypeError. The remaining decorator arguments go to
``Context(...)`` or ``ctx.socket(...)``. A socket's Context is the keyword argument named by
``context_name`` (default ``"context"``) if it is a Context, else the first Context among the
positional arguments, else ``Context.instance()``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from .context import Context


class _Decorator:
    """The mini decorator factory: ``self(*dec_args, **dec_kwargs)`` is a decorator that, at each
    call, enters ``self.get_target(*args, **kwargs)(*dec_args, **dec_kwargs)`` as a context
    manager and hands the object to the function."""

    def __init__(self, target: Callable[..., Any] | None = None) -> None:
        self._target = target

    def __call__(self, *dec_args: Any, **dec_kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        kw_name, dec_args, dec_kwargs = self.process_decorator_args(*dec_args, **dec_kwargs)

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                target = self.get_target(*args, **kwargs)
                if target is None:
                    raise TypeError("this decorator has no target to call")
                with target(*dec_args, **dec_kwargs) as obj:
                    if kw_name is None:
                        args = (*args, obj)
                    elif kw_name in kwargs:
                        raise TypeError(
                            f"{func.__name__}() got multiple values for argument '{kw_name}'"
                        )
                    else:
                        kwargs[kw_name] = obj
                    return func(*args, **kwargs)

            return wrapper

        return decorator

    def get_target(self, *args: Any, **kwargs: Any) -> Callable[..., Any] | None:
        """The callable that makes the object (a context manager) for one call; ``args`` and
        ``kwargs`` are the decorated function's."""
        return self._target

    def process_decorator_args(
        self, *args: Any, **kwargs: Any
    ) -> tuple[str | None, tuple[Any, ...], dict[str, Any]]:
        """(keyword name, args, kwargs) from the decorator's arguments: the name is ``name=`` or
        else a first positional ``str``."""
        name = kwargs.pop("name", None)
        if name is None and args and isinstance(args[0], str):
            name, args = args[0], args[1:]
        return name, args, kwargs


class _ContextDecorator(_Decorator):
    """Decorator subclass for Contexts"""

    def __init__(self) -> None:
        super().__init__(Context)


class _SocketDecorator(_Decorator):
    """Decorator subclass for sockets

    Gets the context from other args."""

    context_name: str = "context"

    def process_decorator_args(
        self, *args: Any, **kwargs: Any
    ) -> tuple[str | None, tuple[Any, ...], dict[str, Any]]:
        self.context_name = kwargs.pop("context_name", "context")
        return super().process_decorator_args(*args, **kwargs)

    def get_target(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._get_context(*args, **kwargs).socket

    def _get_context(self, *args: Any, **kwargs: Any) -> Context:
        ctx = kwargs.get(self.context_name)
        if isinstance(ctx, Context):
            return ctx
        for arg in args:
            if isinstance(arg, Context):
                return arg
        return Context.instance()


def context(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """Decorator for adding a Context to a function.

    Usage::

        @context()
        def foo(ctx):
            ...

    :param str name: the keyword argument passed to decorated function
    """
    return _ContextDecorator()(*args, **kwargs)


def socket(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """Decorator for adding a socket to a function.

    Usage::

        @socket(zmq.PUSH)
        def foo(push):
            ...

    :param str name: the keyword argument passed to decorated function
    :param str context_name: the keyword only argument to identify context object
    """
    return _SocketDecorator()(*args, **kwargs)


__all__ = ("context", "socket")

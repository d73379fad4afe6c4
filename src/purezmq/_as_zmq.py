"""``purezmq.install_as_zmq()``: make ``import zmq`` (and ``zmq.*``) give purezmq's modules.

After it, ``import zmq`` is ``purezmq`` itself, ``import zmq.asyncio`` is ``purezmq.asyncio``,
``from zmq.utils import jsonapi`` is ``purezmq.utils.jsonapi``: the very same module objects, so
``isinstance`` and ``is`` work across both spellings, and a module purezmq does not have
(``zmq.nonexistent``) is a ModuleNotFoundError rather than pyzmq's: once installed, nothing of pyzmq
can be imported under the name ``zmq`` (the finder comes before the path's, and a ``zmq.X`` is
looked for only in purezmq's folders).

How: a finder first in ``sys.meta_path`` answers every ``zmq``/``zmq.X`` import with a loader that
returns the module ``purezmq``/``purezmq.X`` (importing it if needed); modules of pyzmq already
imported are dropped from ``sys.modules`` (those who hold them keep them, with a warning).

For other processes - a Jupyter kernel, a worker pool, any subprocess - set the environment
variable ``PUREZMQ_AS_ZMQ=1``: the ``purezmq-as-zmq.pth`` file installed with purezmq calls
:func:`install_as_zmq` at interpreter start-up when it is set (and costs one dictionary look-up
when it is not). Subprocesses inherit the variable.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

ALIAS = "zmq"
TARGET = "purezmq"


def _target_name(fullname: str) -> str | None:
    if fullname == ALIAS:
        return TARGET
    if fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS) :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Loads ``zmq.X`` as the module object ``purezmq.X``."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._own_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system set the alias spec on the module: give it back its own (its name,
        # origin and submodule locations stay purezmq's; only sys.modules has the alias).
        if self._own_spec is not None:
            module.__spec__ = self._own_spec


class ZmqAliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``zmq`` and ``zmq.*`` as purezmq's modules (first in ``sys.meta_path``)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        target_name = _target_name(fullname)
        if target_name is None:
            return None
        if target_name not in sys.modules and importlib.util.find_spec(target_name) is None:
            return None  # No such purezmq module: "No module named 'zmq.X'".
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))


def _installed() -> ZmqAliasFinder | None:
    for finder in sys.meta_path:
        if isinstance(finder, ZmqAliasFinder):
            return finder
    return None


def install_as_zmq() -> None:
    """Make ``import zmq`` and ``import zmq.<anything>`` resolve to purezmq's modules, in this
    interpreter, from now on (idempotent). See the module's documentation, and the environment
    variable ``PUREZMQ_AS_ZMQ=1`` for subprocesses."""
    if _installed() is None:
        sys.meta_path.insert(0, ZmqAliasFinder())
    pyzmq_modules = [
        name
        for name, module in list(sys.modules.items())
        if _target_name(name) is not None
        and module is not None
        and not getattr(module, "__name__", "").startswith(TARGET)
    ]
    if pyzmq_modules:
        warnings.warn(
            "install_as_zmq(): pyzmq was already imported; modules that hold it keep it, "
            "'import zmq' gives purezmq from now on",
            RuntimeWarning,
            stacklevel=2,
        )
        for name in pyzmq_modules:
            del sys.modules[name]
    # What purezmq has loaded already is known under both names at once.
    for name, module in list(sys.modules.items()):
        if module is not None and (name == TARGET or name.startswith(TARGET + ".")):
            sys.modules.setdefault(ALIAS + name[len(TARGET) :], module)


def uninstall_as_zmq() -> None:
    """Undo :func:`install_as_zmq`: ``import zmq`` finds pyzmq again (for modules imported
    afterwards; the aliases are removed from ``sys.modules``)."""
    finder = _installed()
    while finder is not None:
        sys.meta_path.remove(finder)
        finder = _installed()
    for name, module in list(sys.modules.items()):
        if _target_name(name) is not None and getattr(module, "__name__", "").startswith(TARGET):
            del sys.modules[name]


__all__ = ["install_as_zmq", "uninstall_as_zmq", "ZmqAliasFinder"]

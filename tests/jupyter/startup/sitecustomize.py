"""Start-up hook for the processes of tests/jupyter (the Jupyter client and its kernels), put on
PYTHONPATH by the test: does what the ``purezmq-as-zmq.pth`` file of a regular install does at
start-up (an editable install has no such file), so that ``PUREZMQ_AS_ZMQ=1`` makes
``import zmq`` give purezmq in every Python process started, kernels included. A
``sitecustomize`` of the interpreter's own is run afterwards."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import pathlib
import sys

_HERE = pathlib.Path(__file__).resolve().parent
_PTH = _HERE.parents[2] / "src" / "purezmq-as-zmq.pth"

# site.py runs the lines of a .pth that start with "import": the same, for the same effect.
for _line in _PTH.read_text().splitlines():
    if _line.startswith("import "):
        exec(_line)  # noqa: S102 - the project's own .pth line

# The interpreter's own sitecustomize (if any), which this one hides on sys.path.
_others = [p for p in sys.path if pathlib.Path(p or ".").resolve() != _HERE]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _others)
if _spec is not None and _spec.loader is not None:
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)

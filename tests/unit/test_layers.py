"""The package's layers, and that dependencies between them point one way (docs/architecture.md).

Statically, every import statement of every module counts (top-level, function-level and under
``TYPE_CHECKING``): a module may import its own layer and the layers below, never one above, and
no modules may import each other in a circle. At run time, each layer is imported alone (without
the package's ``__init__``, which is the API) and must not pull in a module of a higher layer.
"""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "purezmq"

#: Lowest first. A module belongs to the layer of the longest prefix that names it (its package,
#: or itself); the package's root module ("purezmq", the API's re-exports) names only itself.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("purezmq.constants", "purezmq.error", "purezmq.utils")),
    ("sans-IO protocol and routing", ("purezmq.protocol", "purezmq.routing")),
    ("options", ("purezmq.options",)),
    ("transports", ("purezmq.transport",)),
    ("engines", ("purezmq.engine",)),
    (
        "API",
        (
            "purezmq",
            "purezmq.context",
            "purezmq.socket",
            "purezmq.asyncio",
            "purezmq.anyio",
            "purezmq.otel",
            "purezmq.poll",
            "purezmq.frame",
            "purezmq._single_part",
            "purezmq.auth",
            # pyzmq's module layout (zmq.backend, zmq.sugar, ...), over the API above.
            "purezmq.backend",
            "purezmq.sugar",
            "purezmq.decorators",
            "purezmq.log",
            "purezmq.curve_keygen",
            "purezmq._as_zmq",
            "purezmq._autoinstall",
            # A foundation package's module that needs a Context.
            "purezmq.utils.garbage",
            "purezmq.devices",
            # zmq.eventloop: ZMQStream and tornado's IOLoop (the tornado extra).
            "purezmq.eventloop",
            # zmq.green (gevent) and zmq.ssh (tunnels), over the API.
            "purezmq.green",
            "purezmq.ssh",
        ),
    ),
    ("tools", ("purezmq.cli", "purezmq.bench", "purezmq.apps", "purezmq.pytest_plugin")),
]


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module.startswith(prefix + ".") and prefix != "purezmq"
            if (module == prefix or inside) and len(prefix) > best_len:
                best, best_len = rank, len(prefix)
    return best


def _imports(module: str, path: pathlib.Path) -> set[str]:
    """The package's modules that ``module`` imports, by any import statement at all."""
    is_package = path.name == "__init__.py"
    base = module if is_package else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            stem = node.module or ""
            if node.level:
                anchor = base
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                stem = f"{anchor}.{node.module}" if node.module else anchor
            names = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            # (A module's own package is imported with it: not a dependency it chose.)
            if name and name != module and not module.startswith(name + "."):
                targets.add(name)
    return targets


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    assert [m for m in MODULES if layer_of(m) < 0] == []


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in sorted(GRAPH.items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    return circles


def test_no_import_circles() -> None:
    assert strongly_connected(GRAPH) == []


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


_IMPORT_ALONE = textwrap.dedent(
    """
    import importlib, json, sys, types
    # The package object without running its __init__ (the API): only what is asked is loaded.
    package = types.ModuleType("purezmq")
    package.__path__ = [sys.argv[1]]
    sys.modules["purezmq"] = package
    for name in json.loads(sys.argv[2]):
        importlib.import_module(name)
    print(json.dumps(sorted(name for name in sys.modules if name.startswith("purezmq."))))
    """
)


@pytest.mark.parametrize("rank", range(len(LAYERS) - 1), ids=[name for name, _ in LAYERS[:-1]])
def test_a_layer_imported_alone_loads_nothing_above_it(rank: int) -> None:
    wanted = sorted(m for m in MODULES if 0 <= layer_of(m) <= rank and m != "purezmq")
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALONE, str(PACKAGE), json.dumps(wanted)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert set(wanted) <= set(loaded)
    assert [m for m in loaded if layer_of(m) > rank] == []

"""Short runs of scripts/wire_fuzz.py (issue 17; the long run is the script, its numbers in the
README): a few hundred malformed TCP connections against a live purezmq server of each type, on
each engine; after them a well-formed pyzmq peer is served within 1 s, the server and its threads
are alive, its descriptors are back to baseline and its memory has grown by less than 30 MiB."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "wire_fuzz.py"

CONNECTIONS = 300


@pytest.fixture(scope="module")
def wire_fuzz() -> Any:
    spec = importlib.util.spec_from_file_location("wire_fuzz", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("engine", ["thread", "asyncio"])
@pytest.mark.parametrize("kind", ["REP", "ROUTER", "PULL", "SUB", "PUB"])
def test_malformed_connections_leave_the_server_serving(
    wire_fuzz: Any, kind: str, engine: str
) -> None:
    result = wire_fuzz.run_one(
        "purezmq", kind, engine, CONNECTIONS, hold=0.1, check_every=100, settle_s=5.0
    )
    summary = {k: v for k, v in result.items() if k != "stderr_tail"}
    assert result["connections"] == CONNECTIONS, summary
    assert result["alive"], (summary, result["stderr_tail"])
    assert not result["dead_threads"], summary
    assert result["served_all"], summary
    assert result["fds"]["end"] <= result["fds"]["start"], summary
    growth = result["rss_kib"]["end"] - result["rss_kib"]["start"]
    assert growth < 30 * 1024, summary
    assert result["errors"] == 0, result["stderr_tail"]

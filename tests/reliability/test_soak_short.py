"""Short runs of benchmarks/soak.py's scenarios (the long ones are a script, results in
benchmarks/README.md): purezmq's memory stays bounded and its descriptors come back."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


@pytest.fixture(scope="module")
def soak() -> Any:
    spec = importlib.util.spec_from_file_location("soak", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_connect_disconnect_churn_returns_fds(soak: Any) -> None:
    outcome = soak.churn("purezmq", 300)
    assert outcome["after"]["fds"] <= outcome["base"]["fds"], outcome
    assert outcome["after"]["kib"] - outcome["base"]["kib"] < 20 * 1024, outcome


def test_many_dealers_then_none_returns_fds(soak: Any) -> None:
    outcome = soak.dealers("purezmq", 200)
    assert outcome["connected"]["fds"] >= outcome["base"]["fds"] + 200, outcome
    assert outcome["after"]["fds"] <= outcome["base"]["fds"], outcome


@pytest.mark.parametrize("scenario", ["flood", "pubsub"])
def test_fast_sender_slow_receiver_memory_bounded(soak: Any, scenario: str) -> None:
    outcome = getattr(soak, scenario)("purezmq", 3.0)
    assert outcome["received"] > 0, outcome
    if scenario == "flood":
        assert outcome["received"] == outcome["sent"], outcome  # PUSH/PULL never drop.
    for side, start in outcome["start_kib"].items():
        # HWM 1,000 messages of 100 B each side: a few MiB at most, whatever was sent.
        assert outcome["peak_kib"][side] - start < 20 * 1024, (side, outcome)

"""A Context settles glibc's allocator: large messages reuse heap memory instead of faulting in
fresh mappings each time (see purezmq.engine.heap)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from purezmq.engine import heap

# Twenty times, receives a batch of sixteen 64 KiB messages and frees them (1 MiB freed at the
# top of the heap), printing the minor page faults it took.
_CHURN = """
import resource, sys
if sys.argv[1] == "context":
    import purezmq
    purezmq.Context()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    batch = [b"x" * (64 << 10) for _ in range(16)]
    del batch
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
_PAGES_PER_MIB = 256


def _faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _CHURN, mode], capture_output=True, text=True, check=True, timeout=30
    )
    return int(out.stdout)


@pytest.mark.skipif(not heap._is_glibc(), reason="glibc's allocator only")
def test_large_blocks_are_reused_after_a_context_exists() -> None:
    # Without the settling glibc trims the freed megabyte and faults it in again each time.
    assert _faults("plain") > 10 * _PAGES_PER_MIB
    assert _faults("context") < 3 * _PAGES_PER_MIB


def test_settling_happens_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(heap, "_settled", False)
    monkeypatch.setattr(heap, "_is_glibc", lambda: calls.append(True) or False)
    heap.settle_allocator()
    heap.settle_allocator()
    assert calls == [True]

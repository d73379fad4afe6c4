"""The fault tests' network (see _net.py), one per session, and their summary tables.

Every test here needs root, ``ip netns`` and AF_PACKET sockets; without them the whole package
is skipped, with the reason. Each scenario's tables (pyzmq and purezmq side by side) are printed
at the end of the run, pass or fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._net import Net, remove_stale, unavailable_reason
from ._scenarios import REPORTS


@pytest.fixture(scope="session")
def net() -> Iterator[Net]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"fault tests need network namespaces: {reason}")
    remove_stale()
    network = Net()
    try:
        network.setup()
        yield network
    finally:
        network.teardown()


@pytest.fixture(autouse=True)
def _healed(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test did to the wire, the next one starts on a clean one."""
    yield
    if "net" in request.fixturenames:
        network = request.getfixturevalue("net")
        if network.wire is not None and network.wire.proc.poll() is None:
            network.wire.heal()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORTS:
        terminalreporter.section("fault scenarios: pyzmq vs purezmq")
        for title, text in REPORTS:
            terminalreporter.write_line(title)
            terminalreporter.write_line(text)
            terminalreporter.write_line("")

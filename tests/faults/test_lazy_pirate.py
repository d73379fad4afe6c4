"""Scenario 3: Lazy Pirate REQ->REP across a partition (issue 17).

The zguide's reliable request-reply client (chapter 4): a REQ that has no reply within 1 s is
closed with linger 0, a new REQ is opened and connected, and the request is sent again. After 4
of 20 requests, the wire is cut for 4 s. Every request must be answered in the end: the retries
during the partition fail (their SYNs go nowhere), the first one after the heal gets through.
``retries`` counts the sockets abandoned; ``served`` counts the server's replies (a request can
be served twice: the reply to an abandoned socket is lost, which is the pattern's design).
"""

from __future__ import annotations

import pytest

from ._scenarios import IMPLS, LABEL, find, lazy_pirate, report

pytestmark = pytest.mark.timeout(90)

COUNT = 20
COLUMNS = ["impl", "requests", "answered", "retries", "served", "seconds_after_cut"]


@pytest.fixture(scope="module")
def rows(net):
    found = lazy_pirate(net, count=COUNT, partition=4.0, before=4, timeout_ms=1000)
    return found, report(f"3. Lazy Pirate, {COUNT} requests, 4 s partition", found, COLUMNS)


@pytest.mark.parametrize("impl", IMPLS, ids=[LABEL[i] for i in IMPLS])
def test_every_request_answered(rows, impl):
    found, text = rows
    row = find(found, impl=LABEL[impl])
    assert row["problem"] is None, f"{text}\n\n{row['problem']}"
    assert row["answered"] == COUNT, text
    assert row["retries"] >= 1, f"the partition caused no retry?\n{text}"

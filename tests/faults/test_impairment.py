"""Scenario 1: streams across a lossy, slow link (issue 17).

The wire drops 20% of the frames and delays the rest by 200 ms, each way (netem's
``loss 20% delay 200ms`` on both veths). TCP hides both: PUSH->PULL and DEALER->ROUTER (with the
ROUTER echoing every message back) deliver everything, in order, and so does PUB->SUB (a PUB
drops only at its high-water mark, never reached at 50 messages per second). Each pattern runs
with pyzmq on both ends and with purezmq on both ends, at the same time, on the same wire.
"""

from __future__ import annotations

import pytest

from ._scenarios import IMPLS, LABEL, PATTERNS, find, impaired_streams, report

pytestmark = pytest.mark.timeout(120)

COUNT = 200
COLUMNS = ["pattern", "impl", "sent", "received", "echoed", "lost", "order_errors", "seconds",
           "echo_s"]  # fmt: skip


@pytest.fixture(scope="module")
def rows(net):
    found = impaired_streams(net, loss=0.2, delay=0.2, count=COUNT, rate=50.0, timeout=60.0)
    dropped = found[0].get("wire_dropped")
    title = (
        f"1. loss 20% + delay 200 ms each way, {COUNT} messages at 50/s ({dropped} frames dropped)"
    )
    text = report(title, found, COLUMNS)
    return found, text


@pytest.mark.parametrize("impl", IMPLS, ids=[LABEL[i] for i in IMPLS])
@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_everything_arrives_in_order(rows, pattern, impl):
    found, text = rows
    row = find(found, pattern=pattern, impl=LABEL[impl])
    assert row["problem"] is None, f"{text}\n\n{row['problem']}"
    assert row["received"] == COUNT, text

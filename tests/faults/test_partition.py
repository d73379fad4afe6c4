"""Scenario 2: a 10 s partition, then the network heals (issue 17).

Streams run at 20 messages per second; once each has delivered 10, the wire drops every frame
for 10 s (netem ``loss 100%``: no RST, no FIN, the TCP connections stay open on both sides, as
when a cable is pulled), then carries them again. Nothing is restarted. No side gives up in 10 s
(no heartbeats, keepalive off, TCP's retransmissions last minutes), so each stream resumes on
its own once the kernel's next retransmission gets through, and nothing is lost: what was sent
during the partition waited in the socket's queues and TCP's buffers. Checked for PUSH->PULL,
PUB->SUB and DEALER->ROUTER (echoing), pyzmq and purezmq at the same time. ``frozen`` (what
arrived during the partition) shows that it was one.
"""

from __future__ import annotations

import pytest

from ._scenarios import IMPLS, LABEL, PATTERNS, find, partition_heal, report

pytestmark = pytest.mark.timeout(120)

COUNT = 200
PARTITION_S = 10.0
COLUMNS = ["pattern", "impl", "sent", "received", "echoed", "lost", "order_errors", "frozen",
           "partition_s", "resume_s", "seconds"]  # fmt: skip


@pytest.fixture(scope="module")
def rows(net):
    found = partition_heal(net, partition=PARTITION_S, count=COUNT, rate=20.0, before=10)
    title = f"2. {PARTITION_S:.0f} s partition, then heal; {COUNT} messages at 20/s"
    return found, report(title, found, COLUMNS)


@pytest.mark.parametrize("impl", IMPLS, ids=[LABEL[i] for i in IMPLS])
@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_stream_resumes_with_nothing_lost(rows, pattern, impl):
    found, text = rows
    row = find(found, pattern=pattern, impl=LABEL[impl])
    assert row["problem"] is None, f"{text}\n\n{row['problem']}"
    assert row["received"] == COUNT, text
    assert row["frozen"] == 0, f"messages arrived during the partition?\n{text}"

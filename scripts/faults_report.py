"""Run the fault scenarios of tests/faults (issue 17) in their long versions and print a table
per scenario, pyzmq and purezmq side by side.

    sudo python scripts/faults_report.py [--kills 50] [--partition 30] [--only 1,2,5]

Needs what the tests need: root, ``ip netns``, AF_PACKET (see tests/faults/_net.py). It builds
its own namespaces (named after its pid, removed at the end, even on Ctrl-C) and uses this
checkout's src/. Longer than the test suite's versions: more messages through the lossy link,
a longer partition, more Lazy Pirate requests across a longer cut, and ``--kills`` restarts.
The exit status is 1 when any purezmq run missed its expectation (pyzmq's runs are reported,
not judged: they are the reference).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from faults import _scenarios as scenarios  # noqa: E402
from faults._net import Net, remove_stale, unavailable_reason  # noqa: E402

STREAM_COLUMNS = ["pattern", "impl", "sent", "received", "echoed", "lost", "order_errors"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="restarts per pattern (5)")
    parser.add_argument("--partition", type=float, default=30.0, help="seconds (2 and 3)")
    parser.add_argument("--messages", type=int, default=600, help="per stream (1 and 2)")
    parser.add_argument(
        "--only", default="1,2,3,4,5", help="comma-separated scenario numbers to run"
    )
    args = parser.parse_args()
    only = {int(n) for n in args.only.split(",")}
    reason = unavailable_reason()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    remove_stale()
    net = Net()
    started = time.monotonic()
    results: list[scenarios.Row] = []
    try:
        net.setup()
        if 1 in only:
            rows = scenarios.impaired_streams(net, count=args.messages, rate=50.0, timeout=120.0)
            show(
                f"1. loss 20% + delay 200 ms each way, {args.messages} messages at 50/s "
                f"({rows[0].get('wire_dropped')} frames dropped)",
                rows,
                [*STREAM_COLUMNS, "seconds", "echo_s"],
            )
            results += rows
        if 2 in only:
            rows = scenarios.partition_heal(
                net, partition=args.partition, count=args.messages, rate=20.0, timeout=90.0
            )
            show(
                f"2. {args.partition:.0f} s partition, then heal; {args.messages} messages at 20/s",
                rows,
                [*STREAM_COLUMNS, "frozen", "partition_s", "resume_s", "seconds"],
            )
            results += rows
        if 3 in only:
            rows = scenarios.lazy_pirate(
                net, count=50, partition=args.partition, before=10, timeout=90.0
            )
            show(
                f"3. Lazy Pirate, 50 requests, {args.partition:.0f} s partition",
                rows,
                ["impl", "requests", "answered", "retries", "served", "seconds_after_cut"],
            )
            results += rows
        if 4 in only:
            for variant in ("keepalive", "heartbeat", "maxrt"):
                rows = scenarios.half_open(net, variant, detect_timeout=15.0)
                show(
                    f"4. half-open detection: {variant}",
                    rows,
                    ["variant", "impl", "detect_s", "partition_s", "reconnect_s", "sent",
                     "received", "lost", "b_half_open"],
                )  # fmt: skip
                results += rows
        if 5 in only:
            for pattern in scenarios.KILL_PATTERNS:
                rows = scenarios.kill_restart(net, pattern, kills=args.kills)
                show(
                    f"5. {args.kills} SIGKILLs of the peer: {pattern}",
                    rows,
                    ["pattern", "impl", "kills", "lost_total", "lost_per_kill", "lost_max",
                     "fds_base", "fds_after", "rss_base_kib", "rss_after_kib", "seconds"],
                )  # fmt: skip
                results += rows
    finally:
        net.teardown()
    failed = [row for row in results if row["impl"] == "purezmq" and row["problem"]]
    print(
        f"{len(results)} runs in {time.monotonic() - started:.0f} s; purezmq failed {len(failed)}"
    )
    for row in failed:
        print(f"\n--- purezmq {row.get('variant') or row.get('pattern') or ''}:\n{row['problem']}")
    return 1 if failed else 0


def show(title: str, rows: list[scenarios.Row], columns: list[str]) -> None:
    print(title)
    print(scenarios.table(rows, columns))
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""``purezmq top URL``: a process's sockets, live, from its metrics endpoint.

The endpoint is Context.metrics_text() served over HTTP (the web demo's ``/metrics``, or any
program's): Prometheus' text format, one series per socket. ``top`` reads it every
``--interval`` seconds and shows one line per socket with its rates since the last look.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request

from purezmq.cli.common import CommandError, _wrap

_COLUMNS = (
    ("messages_in_total", "msg in"),
    ("messages_out_total", "msg out"),
    ("bytes_in_total", "bytes in"),
    ("bytes_out_total", "bytes out"),
    ("connections_total", "conns"),
    ("handshake_failures_total", "hs fail"),
)


def parse(text: str) -> dict[tuple[str, str], dict[str, float]]:
    """(socket index, type) -> {series name: value} from Prometheus text."""
    sockets: dict[tuple[str, str], dict[str, float]] = {}
    for line in text.splitlines():
        if not line.startswith("purezmq_") or "{" not in line:
            continue
        name, _, rest = line[len("purezmq_") :].partition("{")
        labels_text, _, value = rest.rpartition("} ")
        labels = dict(item.split("=", 1) for item in labels_text.split(",") if "=" in item)
        key = (labels.get("socket", "?").strip('"'), labels.get("type", "?").strip('"'))
        if labels.get("direction"):
            name = f"{name}_{labels['direction'].strip(chr(34))}"
        sockets.setdefault(key, {})[name] = float(value)
    return sockets


def render(now: dict, before: dict | None, seconds: float) -> str:
    head = f"{'socket':>6} {'type':<7} {'peers':>5} {'queued':>7}"
    head += "".join(f" {title:>10}" for _, title in _COLUMNS) + f" {'msg/s in':>9} {'msg/s out':>9}"
    lines = [head]
    for key in sorted(now, key=lambda k: int(k[0]) if k[0].isdigit() else 0):
        row = now[key]
        queued = row.get("queued_messages_out", 0) + row.get("queued_messages_in", 0)
        line = f"{key[0]:>6} {key[1]:<7} {int(row.get('peers', 0)):>5} {int(queued):>7}"
        line += "".join(f" {int(row.get(name, 0)):>10}" for name, _ in _COLUMNS)
        rates = []
        for name in ("messages_in_total", "messages_out_total"):
            previous = (before or {}).get(key, {}).get(name)
            rate = (row.get(name, 0) - previous) / seconds if previous is not None else 0.0
            rates.append(f" {rate:>9.1f}")
        lines.append(line + "".join(rates))
    return "\n".join(lines)


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CommandError(f"cannot read {url}: {exc}") from None


def run_top(args: argparse.Namespace) -> int:
    before = None
    last = time.monotonic()
    shown = 0
    while True:
        now = parse(_fetch(args.url))
        elapsed = max(time.monotonic() - last, 1e-6)
        last = time.monotonic()
        if sys.stdout.isatty():
            sys.stdout.write("\x1b[H\x1b[2J")
        print(f"{args.url}  ({len(now)} sockets)")
        print(render(now, before, elapsed), flush=True)
        before = now
        shown += 1
        if args.count and shown >= args.count:
            return 0
        time.sleep(args.interval)


def add_top(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "top",
        help="show a process's sockets live, from its metrics endpoint",
        description=_wrap(
            "Read a purezmq process's metrics endpoint (Context.metrics_text() served over "
            "HTTP, such as the web demo's /metrics) and show its sockets: peers, queued "
            "messages, totals and rates. Ctrl-C to stop."
        ),
        epilog="example:\n  purezmq top http://127.0.0.1:8080/metrics",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", metavar="URL", help="the metrics endpoint")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between looks")
    p.add_argument("--count", type=int, default=0, help="exit after N looks (0: never)")
    p.set_defaults(handler=run_top)

"""The scaling sweep's report: its tables and its chart (from the report dict, runs nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from purezmq.bench import scaling
from purezmq.bench.catalog import BASELINE
from purezmq.bench.report import markdown_table, save_chart

SHAPE_TITLES = {
    "fan_in": "N DEALERs -> ROUTER (receive loop)",
    "route_out": "ROUTER -> N DEALERs (send loop)",
    "push_out": "PUSH -> N PULLs (send loop)",
    "pub_out": "PUB -> N SUBs (per delivery)",
}


def _growth(rows: list[dict[str, Any]], row: dict[str, Any], lib: str, key: str) -> str:
    """``lib``'s figure at this N over its own figure at the shape's smallest N."""
    first = next(r for r in rows if r["shape"] == row["shape"])
    base, value = first["libs"][lib][key], row["libs"][lib][key]
    return f"{value / base:.2f}x" if base and value else "-"


def scaling_table(report: dict[str, Any], key: str = "wall") -> str:
    """µs per message (``key``: wall or cpu) at each N, each library's growth from its smallest
    N, and purezmq over the baseline."""
    sweep = report["scaling"]
    libs = [lib for lib in report["libs"] if lib != "bare"]
    header = ["shape", "N", *(f"{lib} µs" for lib in libs), *(f"{lib} vs N₀" for lib in libs)]
    header.append(f"purezmq/{BASELINE}")
    rows = []
    for row in sweep["cells"]:
        cells = [row["shape"], f"{row['n']:,}"]
        for lib in libs:
            value = row["libs"][lib][key]
            cells.append("error" if value is None else f"{value:.2f}")
        cells += [_growth(sweep["cells"], row, lib, key) for lib in libs]
        ours, base = row["libs"]["purezmq"][key], row["libs"].get(BASELINE, {}).get(key)
        cells.append(f"{ours / base:.2f}x" if ours and base else "-")
        rows.append(cells)
    return markdown_table(header, rows, right=set(range(1, len(header))))


def memory_table(report: dict[str, Any]) -> str:
    memory = report["scaling"].get("memory") or {}
    rows = []
    for lib, entry in memory.items():
        per = entry.get("bytes_per_connection")
        if per is None:
            rows.append([lib, "-", entry.get("error", "error")])
        else:
            rows.append([lib, f"{entry['connections']:,}", f"{per / 1024:.1f}"])
    return markdown_table(["library", "idle connections", "KiB per connection"], rows, {1, 2})


def render_scaling(report: dict[str, Any], chart: str | None) -> list[str]:
    sweep = report["scaling"]
    lines = [
        "",
        "## Scaling: cost per message as the peers grow",
        "",
        f"{sweep['messages']:,} messages of {sweep['size']} B per figure, split between the N "
        "peers (PUB: the deliveries); queues never full, every message accounted for; each "
        "library in its own process, all Ns connected before any timing. µs per message: in "
        f"each repetition the best of {scaling.ROUNDS} rounds, then the median of the "
        "repetitions; `vs N₀` is each library against its own figure at the smallest N (flat "
        "is 1.00x).",
        "",
        "Elapsed time:",
        "",
        scaling_table(report, "wall"),
        "",
        "CPU time of the whole process (its I/O threads included):",
        "",
        scaling_table(report, "cpu"),
    ]
    if sweep.get("memory"):
        lines += [
            "",
            "Resident memory per idle tcp connection, both ends (a ROUTER's process and its "
            "DEALERs' processes, one DEALER socket per connection), each connection up and idle:",
            "",
            memory_table(report),
        ]
    if chart:
        lines += ["", f"![scaling]({chart})"]
    return lines


def draw_scaling_chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    sweep = report["scaling"]
    libs = [lib for lib in report["libs"] if lib != "bare"]
    shapes = list(dict.fromkeys(row["shape"] for row in sweep["cells"]))
    panels = len(shapes) + bool(sweep.get("memory"))
    columns = min(3, panels)
    rows = -(-panels // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4.2 * rows), squeeze=False)
    flat = list(axes.flat)
    for ax, shape in zip(flat, shapes, strict=False):  # (More panels than shapes.)
        cells = [row for row in sweep["cells"] if row["shape"] == shape]
        for lib in libs:
            points = [(row["n"], row["libs"][lib]["cpu"]) for row in cells]
            points = [(n, v) for n, v in points if v]
            if points:
                ax.plot([n for n, _ in points], [v for _, v in points], marker="o", label=lib)
        ns = [row["n"] for row in cells]
        ax.set_xscale("log")
        ax.set_xticks(ns, [f"{n:,}" for n in ns])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_ylim(bottom=0)
        ax.set_xlabel("N peers")
        ax.set_ylabel("CPU µs per message")
        ax.set_title(SHAPE_TITLES.get(shape, shape), fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend()
    used = len(shapes)
    if sweep.get("memory"):
        ax = flat[used]
        memory = sweep["memory"]
        names = [lib for lib in libs if memory.get(lib, {}).get("bytes_per_connection")]
        values = [memory[lib]["bytes_per_connection"] / 1024 for lib in names]
        ax.bar(names, values, color=[f"C{libs.index(lib)}" for lib in names])
        for i, value in enumerate(values):
            ax.annotate(f"{value:.1f}", (i, value), ha="center", va="bottom")
        count = next(iter(memory.values())).get("connections", 0)
        ax.set_title(f"memory per idle connection ({count:,} connections)", fontsize=10)
        ax.set_ylabel("KiB resident, both ends")
        used += 1
    for ax in flat[used:]:
        ax.set_visible(False)
    save_chart(fig, report, "Scaling over tcp loopback", path)

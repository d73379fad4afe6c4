"""The report: figures formatted, the results and sweep tables, the markdown page, the chart.

Everything here reads the report dict that the command line builds from the runner's results
(the same dict that ``--json`` writes), and runs nothing.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from purezmq.bench.catalog import BASELINE, MIB


def fmt_value(unit: str, value: float) -> str:
    if unit in ("msg/s", "deliveries/s"):
        return f"{value:,.0f}"
    if unit == "µs":
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    if unit == "GB/s":
        return f"{value:.2f}" if value >= 0.1 else f"{value:.3g}"
    if unit == "MB/s":
        return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return f"{value:.4g}"


def fmt_cell(unit: str, summary: dict[str, Any] | None) -> str:
    if summary is None:
        return "n/a"
    failures = summary["failures"]
    if summary["median"] is None:
        return failures[0] if len(set(failures)) == 1 else "/".join(sorted(set(failures)))
    cell = fmt_value(unit, summary["median"])
    if failures:
        counts = {f: failures.count(f) for f in sorted(set(failures))}
        cell += " (" + ", ".join(f"{n} {f}" for f, n in counts.items()) + ")"
    return cell


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.3f}x" if ratio < 0.1 else f"{ratio:.2f}x"


def markdown_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([line(header), rule + "|", *(line(r) for r in rows)])


def results_table(report: dict[str, Any]) -> str:
    libs: list[str] = report["libs"]
    ratio_name = f"purezmq/{BASELINE}"
    header = ["test", "unit", *libs, ratio_name]
    rows = []
    for entry in report["results"]:
        cells = [entry["test"], entry["unit"]]
        cells += [fmt_cell(entry["unit"], entry["libs"].get(lib)) for lib in libs]
        cells.append(fmt_ratio(entry.get("ratio")))
        rows.append(cells)
    return markdown_table(header, rows, right=set(range(2, len(header))))


def spread_table(report: dict[str, Any]) -> str:
    """Each library's lowest and highest repetition, to judge the noise behind the medians."""
    libs: list[str] = report["libs"]
    rows = []
    for entry in report["results"]:
        cells = [entry["test"], entry["unit"]]
        for lib in libs:
            ok = [v for v in entry["libs"][lib]["values"] if v is not None]
            if not ok:
                cells.append("-")
            elif len(ok) == 1:
                cells.append(fmt_value(entry["unit"], ok[0]))
            else:
                lo, hi = fmt_value(entry["unit"], min(ok)), fmt_value(entry["unit"], max(ok))
                cells.append(f"{lo} .. {hi}")
        rows.append(cells)
    return markdown_table(["test", "unit", *libs], rows, right=set(range(2, len(libs) + 2)))


def sweep_table(report: dict[str, Any]) -> str:
    libs: list[str] = report["libs"]
    header = ["size", "messages", *(f"{lib} msg/s" for lib in libs)]
    header += [*(f"{lib} MB/s" for lib in libs), f"purezmq/{BASELINE}"]
    rows = []
    for point in report["sweep"]["points"]:
        cells = [human_size(point["size"]), f"{point['count']:,}"]
        for unit, key in (("msg/s", "msgs_per_s"), ("MB/s", "mb_per_s")):
            for lib in libs:
                s = point["libs"].get(lib)
                if s is None:
                    cells.append("n/a")
                elif s[key] is None:
                    cells.append(fmt_cell(unit, {"median": None, "failures": s["failures"]}))
                else:
                    cells.append(fmt_value(unit, s[key]))
        cells.append(fmt_ratio(point.get("ratio")))
        rows.append(cells)
    return markdown_table(header, rows, right=set(range(1, len(header))))


def human_size(size: int) -> str:
    for unit, factor in (("MiB", MIB), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def render_markdown(
    report: dict[str, Any],
    chart: str | None,
    markdown_path: Path | None,
    sections: list[str] | None = None,
) -> str:
    """The page; ``sections`` (lines) go after the tables, before the command."""
    m = report["machine"]
    s = report["settings"]
    lines = ["# purezmq benchmarks", ""]
    lines.append(
        f"Run {report['created']} on {m['cpu']} ({m['cores']} cores, {m['memory']}), "
        f"{m['platform']}, {m['python']}."
    )
    libs = ", ".join(_lib_label(name, info) for name, info in report["libraries"].items())
    missing = report.get("missing_libs") or []
    if missing:
        libs += f"; not installed: {', '.join(missing)}"
    lines += ["", f"Libraries: {libs}.", ""]
    lines.append(
        f"Each figure is the median of {s['repeat']} repetition(s), the libraries interleaved "
        f"(for each repetition: {', '.join(report['libs'])}). Per-run timeout: "
        f"{s['timeout']:g} s."
    )
    if s["scale"] != 1:
        lines += [
            "",
            f"**Message counts are scaled by {s['scale']:g}** (`--scale {s['scale']:g}`) "
            "(nominal counts in `purezmq bench --help`); the counts below are the ones run.",
        ]
    if report["results"]:
        lines += ["", results_table(report), ""]
        lines.append(
            f"The ratio is purezmq's median over {BASELINE}'s: above 1 purezmq is faster for a "
            "throughput, slower for a latency (µs)."
        )
        notes = _pubsub_notes(report)
        if notes:
            lines += ["", notes]
        if s["repeat"] > 1:
            lines += [
                "",
                "Lowest .. highest of the repetitions (this machine is noisy: compare the ratios "
                "of one run rather than figures across runs):",
                "",
                spread_table(report),
            ]
        lines += ["", "| test | messages | size | what it measures |", "|---|--:|--:|---|"]
        for entry in report["results"]:
            lines.append(
                f"| {entry['test']} | {entry['count']:,} | {human_size(entry['size'])} "
                f"| {entry['description']} |"
            )
    if report.get("sweep"):
        sw = report["sweep"]
        lines += [
            "",
            "## Message-size sweep",
            "",
            f"`thr` (PUSH -> PULL over {sw['transport']} loopback, two processes) at each size; "
            "MB/s is 10^6 bytes of payload per second.",
            "",
            sweep_table(report),
        ]
        if chart:
            lines += ["", f"![thr message-size sweep]({relative_to_page(chart, markdown_path)})"]
    lines += sections or []
    lines += ["", f"Command: `{report['command']}`", ""]
    return "\n".join(lines)


def relative_to_page(path: str, markdown_path: Path | None) -> str:
    """``path`` as a link from the markdown page at ``markdown_path``."""
    target = Path(path)
    if markdown_path is not None:
        target = Path(os.path.relpath(target.resolve(), markdown_path.resolve().parent))
    return target.as_posix()


def _lib_label(name: str, info: dict[str, Any]) -> str:
    label = f"{name} {info.get('version', '?')}"
    extra = []
    if name == "pyzmq" and info.get("zmq_version"):
        extra.append(f"libzmq {info['zmq_version']}")
    if name == "pyomq" and info.get("backend"):
        extra.append(f"omq.rs, {info['backend']}")
    return label + (f" ({', '.join(extra)})" if extra else "")


def _pubsub_notes(report: dict[str, Any]) -> str:
    parts = []
    for entry in report["results"]:
        if not entry["test"].startswith("pubsub"):
            continue
        shares_of = []
        for lib, summary in entry["libs"].items():
            shares = [
                r["received"] / r["sent"] for r in summary["runs"] if "error" not in r and r["sent"]
            ]
            if shares:
                shares_of.append(f"{lib} {statistics.median(shares):.0%}")
        if shares_of:
            parts.append(f"{entry['test']} " + ", ".join(shares_of))
    if not parts:
        return ""
    return "Share of the messages delivered to the SUBs (the PUB drops at its HWM): " + (
        "; ".join(parts) + "."
    )


# -- the sweep chart ----------------------------------------------------------------------------


def draw_chart(report: dict[str, Any], path: Path) -> None:
    # matplotlib is optional (the "bench" extra) and slow to import: only --chart loads it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    sweep = report["sweep"]
    sizes = [p["size"] for p in sweep["points"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for key, ax, label in (
        ("msgs_per_s", axes[0], "messages/s"),
        ("mb_per_s", axes[1], "MB/s (10^6 bytes of payload)"),
    ):
        for lib in report["libs"]:
            xs, ys = [], []
            for p in sweep["points"]:
                s = p["libs"].get(lib)
                if s and s[key]:
                    xs.append(p["size"])
                    ys.append(s[key])
            if xs:
                ax.plot(xs, ys, marker="o", label=lib)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(sizes, [human_size(s).replace(" ", "\u00a0") for s in sizes], rotation=45)
        ax.set_xlabel("message size")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    axes[0].set_title("throughput, messages")
    axes[1].set_title("throughput, bandwidth")
    save_chart(fig, report, f"PUSH -> PULL over {sweep['transport']} loopback", path)


def save_chart(fig: Any, report: dict[str, Any], what: str, path: Path) -> None:
    """Title a chart with what it shows and where it was measured, write it, free it."""
    import matplotlib.pyplot as plt

    m = report["machine"]
    fig.suptitle(
        f"{what}, median of {report['settings']['repeat']} run(s); {m['cpu']}, "
        f"{m['usable_cores']} cores, {m['python']}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)

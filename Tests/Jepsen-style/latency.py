"""latency.svg for one history (JEPSEN-SPEC Part B §5): every completed operation as a point at (invoke
time, latency), one colour per outcome and one marker row per operation, log-scaled latency, the fault
windows shaded and labelled. Self-contained SVG (no script, no external font), so a browser, an image
viewer or a CI artefact page shows it as it is.

Used by jepsen.py after each run; `python3 latency.py HISTORY.jsonl NEMESIS-WINDOWS.json OUT.svg` renders
one by hand (the windows file is `summary.json`'s `faults` list)."""

from __future__ import annotations

import json
import math
import sys
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 1100, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50
COLOURS = {"ok": "#2b8a3e", "fail": "#e67700", "info": "#c92a2a"}
MARKERS = ["circle", "square", "diamond", "triangle"]


def points(path: Path) -> list[tuple[float, float, str, str]]:
    """(invoke seconds from the run's start, latency ms, f, type) of every completed operation."""
    open_ops: dict[int, dict] = {}
    found: list[tuple[float, float, str, str]] = []
    with open(path, encoding="utf-8") as handle:
        next(handle)  # the header
        for line in handle:
            event = json.loads(line)
            if event.get("kind") != "op":
                continue
            if event["type"] == "invoke":
                open_ops[event["process"]] = event
                continue
            invoke = open_ops.pop(event["process"], None)
            if invoke is None:
                continue
            found.append((invoke["time"] / 1e9, max((event["time"] - invoke["time"]) / 1e6, 0.01), event["f"],
                          event["type"]))
    return found


def _marker(kind: str, x: float, y: float, colour: str, role: str = "op") -> str:
    c = f' class="{role}"'
    if kind == "square":
        return f'<rect{c} x="{x - 2:.1f}" y="{y - 2:.1f}" width="4" height="4" fill="{colour}"/>'
    if kind == "diamond":
        return (f'<polygon{c} points="{x:.1f},{y - 3:.1f} {x + 3:.1f},{y:.1f} {x:.1f},{y + 3:.1f} {x - 3:.1f},{y:.1f}" '
                f'fill="{colour}"/>')
    if kind == "triangle":
        return f'<polygon{c} points="{x:.1f},{y - 3:.1f} {x + 3:.1f},{y + 2:.1f} {x - 3:.1f},{y + 2:.1f}" fill="{colour}"/>'
    return f'<circle{c} cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>'


def render(found: list[tuple[float, float, str, str]], windows: list[dict], title: str) -> str:
    """The SVG text. `windows`: the nemesis windows (`fault`, `start_ns`, `stop_ns`)."""
    span_s = max([p[0] for p in found] + [w["stop_ns"] / 1e9 for w in windows] + [1.0])
    low = min([p[1] for p in found] + [1.0])
    high = max([p[1] for p in found] + [10.0])
    low_exp, high_exp = math.floor(math.log10(low)), math.ceil(math.log10(high))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(seconds: float) -> float:
        return LEFT + plot_w * seconds / span_s

    def y_of(ms: float) -> float:
        return TOP + plot_h * (1 - (math.log10(ms) - low_exp) / max(high_exp - low_exp, 1))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{LEFT}" y="20" font-size="14">{escape(title)}</text>']
    for index, window in enumerate(windows):
        x0, x1 = x_of(window["start_ns"] / 1e9), x_of(window["stop_ns"] / 1e9)
        out.append(f'<rect class="fault" x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" height="{plot_h}" '
                   f'fill="#868e96" fill-opacity="0.18"><title>{escape(window["fault"])}</title></rect>')
        out.append(f'<text x="{x0 + 2:.1f}" y="{TOP + 10 + (index % 3) * 11}" fill="#495057" font-size="9">'
                   f'{escape(window["fault"])}</text>')
    for exponent in range(low_exp, high_exp + 1):
        y = y_of(10 ** exponent)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6"/>')
        label = f"{10 ** exponent:g} ms"
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    step = max(1, round(span_s / 10))
    for second in range(0, int(span_s) + 1, step):
        out.append(f'<text x="{x_of(second):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{second}s</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#495057"/>')
    functions = sorted({p[2] for p in found})
    marker_of = {f: MARKERS[i % len(MARKERS)] for i, f in enumerate(functions)}
    for seconds, ms, f, kind in found:
        out.append(_marker(marker_of[f], x_of(seconds), y_of(ms), COLOURS.get(kind, "#000")))
    legend_x = LEFT
    for f in functions:
        out.append(_marker(marker_of[f], legend_x + 4, HEIGHT - 14, "#343a40", role="legend"))
        out.append(f'<text x="{legend_x + 12}" y="{HEIGHT - 10}">{escape(f)}</text>')
        legend_x += 16 + 7 * len(f) + 14
    for kind, colour in COLOURS.items():
        out.append(f'<circle class="legend" cx="{legend_x + 4}" cy="{HEIGHT - 14}" r="4" fill="{colour}"/>')
        out.append(f'<text x="{legend_x + 12}" y="{HEIGHT - 10}">{kind}</text>')
        legend_x += 50
    out.append("</svg>")
    return "\n".join(out)


def write(history: Path, windows: list[dict], out: Path, title: str) -> int:
    """Renders `history` to `out`; returns the number of operations drawn."""
    found = points(history)
    out.write_text(render(found, windows, title), encoding="utf-8")
    return len(found)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    windows = json.loads(Path(sys.argv[2]).read_text())
    count = write(Path(sys.argv[1]), windows, Path(sys.argv[3]), Path(sys.argv[1]).stem)
    print(f"{count} operations drawn in {sys.argv[3]}")

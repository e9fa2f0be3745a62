#!/usr/bin/env python3
"""Self-test of latency.svg (Tests/Jepsen-style/latency.py), no Silo needed: a synthetic history of known
operations renders to well-formed SVG with one marker per completed operation (an invoke never completed
draws none), one shaded rectangle per fault window spanning its times, every mark inside the plot, a slow
operation drawn above every faster one (log scale, up is slower), and the outcomes in their colours. Exit 0
when every check holds."""

import json
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import latency  # noqa: E402

NS = "{http://www.w3.org/2000/svg}"


def main() -> int:
    events = [{"kind": "header"}]
    ops = [  # (process, f, invoke s, latency ms, type)
        (1, "get", 0.5, 2.0, "ok"), (2, "put", 1.0, 5.0, "ok"), (1, "get", 2.0, 1500.0, "info"),
        (3, "cas", 3.0, 40.0, "fail"), (2, "put", 4.0, 0.2, "ok"),
    ]
    index = 0
    for process, f, start, ms, kind in ops:
        events.append({"kind": "op", "type": "invoke", "process": process, "f": f, "time": int(start * 1e9),
                       "index": index})
        events.append({"kind": "op", "type": kind, "process": process, "f": f, "time": int(start * 1e9 + ms * 1e6),
                       "index": index + 1})
        index += 2
    events.append({"kind": "op", "type": "invoke", "process": 9, "f": "get", "time": int(4.5e9), "index": index})
    windows = [{"fault": "kill-unsynced", "start_ns": int(1.5e9), "stop_ns": int(2.5e9)},
               {"fault": "pause", "start_ns": int(3.5e9), "stop_ns": int(4.2e9)}]
    with tempfile.TemporaryDirectory() as directory:
        history = Path(directory) / "history.jsonl"
        history.write_text("\n".join(json.dumps(e) for e in events) + "\n")
        out = Path(directory) / "latency.svg"
        drawn = latency.write(history, windows, out, "self-test")
        root = ET.parse(out).getroot()
    failures = []
    if drawn != len(ops):
        failures.append(f"{drawn} operations drawn, expected {len(ops)}")
    width, height = float(root.get("width")), float(root.get("height"))
    faults = [e for e in root.iter(f"{NS}rect") if e.get("class") == "fault"]
    if len(faults) != len(windows):
        failures.append(f"{len(faults)} fault rectangles for {len(windows)} windows")
    elif float(faults[0].get("x")) >= float(faults[1].get("x")):
        failures.append("fault windows out of time order")
    marks = [e for e in root.iter() if e.get("class") == "op"]
    if len(marks) != len(ops):
        failures.append(f"{len(marks)} marks in the plot, expected {len(ops)}")
    for mark in marks:
        if mark.tag == f"{NS}circle":
            x, y = float(mark.get("cx")), float(mark.get("cy"))
        elif mark.tag == f"{NS}rect":
            x, y = float(mark.get("x")) + 2, float(mark.get("y")) + 2
        else:
            x, y = (float(v) for v in mark.get("points").split()[0].split(","))
        if not (latency.LEFT <= x <= width - latency.RIGHT and latency.TOP - 4 <= y <= height - latency.BOTTOM + 4):
            failures.append(f"a mark outside the plot at {x},{y}")
    # Marks come in history order: a slower operation is drawn higher (smaller y) than a faster one.
    def y_of(mark) -> float:
        if mark.tag == f"{NS}circle":
            return float(mark.get("cy"))
        if mark.tag == f"{NS}rect":
            return float(mark.get("y")) + 2
        return float(mark.get("points").split()[1].split(",")[1])  # a polygon's second point: the centre line
    if len(marks) == len(ops):
        for (_, _, _, ms_a, _), a in zip(ops, marks):
            for (_, _, _, ms_b, _), b in zip(ops, marks):
                if ms_a < ms_b and not y_of(a) > y_of(b) + 5:
                    failures.append(f"a {ms_a} ms operation is not drawn below a {ms_b} ms one")
    colours = {e.get("fill") for e in marks}
    if not {latency.COLOURS["ok"], latency.COLOURS["info"], latency.COLOURS["fail"]} <= colours:
        failures.append(f"outcome colours missing: {colours}")
    for failure in failures:
        print(f"FAIL {failure}")
    print("latency self-test:", "FAIL" if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""The result lines: one per run of a row, a median line per wrk row, ratio lines, a table, the summary."""

import json

from .config import MAX_ERROR_SAMPLES
from .loadgen import fmt, median

# The summary line's keys: (key, workload, workers). Throughput from the wrk rows, list-10k too.
SUMMARY = [("put-4k-c32", "put-4k", 32), ("get-4k-c32", "get-4k", 32), ("put-1m-c8", "put-1m", 8),
           ("get-1m-c8", "get-1m", 8), ("put-256m-c1", "put-256m", 1), ("get-256m-c1", "get-256m", 1),
           ("list-10k", "list-10k", 1)]


class Results:
    """Collects the key=value lines, prints them as they come, and keeps them for the ratio lines."""

    def __init__(self, path):
        self.rows = {}  # (workload, workers, system, client, run) -> fields
        self.file = open(path, "w")

    def emit(self, line):
        print(line, flush=True)
        self.file.write(line + "\n")
        self.file.flush()

    def record(self, workload, workers, system, client, run, fields, prefix=""):
        self.rows[(workload, workers, system, client, run)] = fields
        parts = [f"{prefix}workload={workload}", f"workers={workers}", f"system={system}", f"client={client}"]
        if run is not None:
            parts.append(f"run={run}")
        parts += [f"{key}={value}" for key, value in fields.items() if not key.startswith("_")]
        self.emit(" ".join(parts))
        for message in fields.get("_samples", [])[:MAX_ERROR_SAMPLES]:
            self.emit(f"error workload={workload} workers={workers} system={system} client={client} "
                      f"msg={json.dumps(message)}")

    def runs(self, workload, workers, system, client):
        return {run: fields for (w, n, s, c, run), fields in self.rows.items()
                if (w, n, s, c) == (workload, workers, system, client)}

    def groups(self):
        """(workload, workers, client) in the order they were first recorded, and their systems."""
        seen = {}
        for (workload, workers, system, client, _run) in self.rows:
            seen.setdefault((workload, workers, client), [])
            if system not in seen[(workload, workers, client)]:
                seen[(workload, workers, client)].append(system)
        return seen

    def ratio(self, workload, workers, client, other):
        """Silo over other: the median of the per-run ratios (runs alternate, so run i of both shared the
        machine's load); n/a when either side had an error in any run. Latency rows: their p50 over ours."""
        mine = self.runs(workload, workers, "silo", client)
        theirs = self.runs(workload, workers, other, client)
        if not mine or set(mine) != set(theirs):
            return "n/a", []
        ratios = []
        for run in sorted(mine):
            a, b = mine[run], theirs[run]
            if not a.get("_ok") or not b.get("_ok"):
                return "n/a", []
            if "_p50" in a:
                ratios.append(b["_p50"] / a["_p50"] if a["_p50"] > 0 else float("nan"))
            else:
                ratios.append(a["_rate"] / b["_rate"] if b["_rate"] > 0 else float("nan"))
        return fmt(median(ratios), 3), ratios

    def medians(self, workload, workers, system, client):
        runs = self.runs(workload, workers, system, client)
        ok = all(fields.get("_ok") for fields in runs.values())
        return {"rate": median([f.get("_rate", float("nan")) for f in runs.values()]),
                "cpu": median([f.get("_server_cpu_ms", float("nan")) for f in runs.values()]),
                "runs": runs, "ok": ok}

    def summarize(self, names):
        """Median lines for the rows with several runs, then one ratio line per row."""
        others = [name for name in names if name != "silo"]
        for (workload, workers, client), systems in self.groups().items():
            for system in systems:
                runs = self.runs(workload, workers, system, client)
                if len(runs) < 2:
                    continue
                m = self.medians(workload, workers, system, client)
                self.emit(f"median workload={workload} workers={workers} system={system} client={client} "
                          f"runs={len(runs)} rate_per_s={fmt(m['rate'], 2)} server_cpu_ms_per_op={fmt(m['cpu'], 3)} "
                          f"errors={sum(f.get('errors', 0) for f in runs.values())}")
            if "silo" not in systems:
                continue
            parts = [f"ratio workload={workload} workers={workers} client={client}"]
            for other in others:
                value, ratios = self.ratio(workload, workers, client, other)
                parts.append(f"silo_over_{other.replace('-', '_')}={value}")
                if len(ratios) > 1:
                    parts.append(f"runs_{other.replace('-', '_')}={','.join(fmt(r, 3) for r in ratios)}")
            self.emit(" ".join(parts))

    def table(self, names):
        """A Markdown table of every row (medians over runs), printed before the summary lines."""
        header = ("| workload | workers | client | system | runs | rate/s (median) | MiB/s | p50 ms | "
                  "server CPU ms/op | server CPU % | client CPU ms/op | client CPU % | errors |")
        lines = [header, "|" + " --- |" * 13]
        for (workload, workers, client), systems in self.groups().items():
            for system in systems:
                runs = self.runs(workload, workers, system, client)
                m = self.medians(workload, workers, system, client)
                cells = [workload, workers, client, system, len(runs), fmt(m["rate"], 1)]
                for key in ("mib_per_s", "p50_ms", "server_cpu_ms_per_op", "server_cpu_pct",
                            "client_cpu_ms_per_op", "client_cpu_pct"):
                    cells.append(median_text(runs, key))
                cells.append(sum(f.get("errors", 0) for f in runs.values()))
                lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
        return lines

    def final_lines(self, names):
        others = [name for name in names if name != "silo"]
        if "seaweedfs-fsync" in others:
            self.emit("s3-bench ratios-vs-seaweedfs-fsync " + " ".join(
                f"{key}={self.ratio(workload, workers, 'wrk', 'seaweedfs-fsync')[0]}"
                for key, workload, workers in SUMMARY))
        baseline = "seaweedfs" if "seaweedfs" in others else (others[0] if others else "seaweedfs")
        self.emit("s3-bench ratios " + " ".join(
            f"{key}={self.ratio(workload, workers, 'wrk', baseline)[0]}" for key, workload, workers in SUMMARY))

        def cpu(workload, system):
            m = self.medians(workload, 32, system, "wrk")
            return fmt(m["cpu"], 3) if m["runs"] and m["ok"] else "n/a"

        self.emit(f"s3-bench cpu-per-op get-4k={cpu('get-4k', 'silo')} seaweedfs={cpu('get-4k', baseline)} "
                  f"nginx={cpu('get-4k', 'nginx')} put-4k={cpu('put-4k', 'silo')} "
                  f"seaweedfs={cpu('put-4k', baseline)}")


def median_text(runs, key):
    """The median of a numeric field over runs; a bound such as "<0.050" as it is when a run had one."""
    values, texts = [], []
    for fields in runs.values():
        try:
            values.append(float(fields[key]))
        except KeyError:
            pass
        except ValueError:
            texts.append(fields[key])
    if values and not texts:
        return fmt(median(values), 3 if key.endswith("ms_per_op") else 1)
    return texts[0] if texts else "n/a"

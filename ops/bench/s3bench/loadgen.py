"""wrk, the C load generator, replaying presigned requests (replay.lua), with the CPU of both sides.

A row's numbers: requests that completed (wrk counts a response with status >= 400 as an error), the
server's CPU over the run (utime+stime of all processes of its session, from /proc, before and after),
and wrk's own CPU (its rusage when it exits, i.e. the utime+stime of its /proc stat).
"""

import json
import shutil
import statistics
import urllib.error
import urllib.request
from pathlib import Path

from .config import MIB, WRK_THREADS
from .procs import PROCESSES

LUA = Path(__file__).with_name("replay.lua")


def wrk_path():
    return shutil.which("wrk")


def fmt(value, digits=2):
    return f"{value:.{digits}f}" if value == value else "n/a"  # NaN -> n/a


CPU_RESOLUTION_S = 0.05  # /proc counts in clock ticks (10 ms): below 5 ticks a figure says "<bound"


def per_op_ms(cpu_seconds, ops):
    if not ops:
        return "n/a"
    if cpu_seconds < CPU_RESOLUTION_S:
        return f"<{CPU_RESOLUTION_S / ops * 1000:.3f}"
    return fmt(cpu_seconds / ops * 1000, 3)


def cpu_fields(server_cpu, server_seconds, client_cpu, client_seconds, ops):
    """Server and client CPU next to a row's throughput: per operation (ms) and as % of one core."""
    return {
        "server_cpu_ms_per_op": per_op_ms(server_cpu, ops),
        "server_cpu_pct": fmt(server_cpu / server_seconds * 100, 0) if server_seconds else "n/a",
        "client_cpu_ms_per_op": per_op_ms(client_cpu, ops),
        "client_cpu_pct": fmt(client_cpu / client_seconds * 100, 0) if client_seconds else "n/a",
        "_server_cpu_ms": server_cpu / ops * 1000 if ops and server_cpu >= CPU_RESOLUTION_S else float("nan"),
    }


def run_wrk(server, targets, connections, seconds, scratch, object_bytes, body_file=None, timeout_s=10):
    """Replay `targets` ("METHOD /path?query", presigned) against server with wrk; return the row's fields."""
    threads = WRK_THREADS or (1 if connections < 8 else 2)
    threads = min(threads, connections)
    if len(targets) < threads:  # every thread needs a line of its own (the HTTP floor has one URL)
        targets = targets * threads
    requests_file = scratch / "wrk-requests.txt"
    requests_file.write_text("\n".join(targets) + "\n")
    argv = [wrk_path(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout",
            f"{timeout_s}s", "-s", LUA, f"{server.endpoint}/", requests_file, server.host, str(threads),
            body_file or ""]
    before = server.cpu_seconds()
    done = PROCESSES.run_bounded(argv, seconds + 300)
    server_cpu = server.cpu_seconds() - before
    summary = None
    for line in done.out.splitlines():
        if line.startswith("wrk-json "):
            summary = json.loads(line[len("wrk-json "):])
    if summary is None:
        message = f"wrk rc={done.rc}: {(done.err or done.out).strip()[-500:]}"
        return {"errors": 1, "_samples": [message], "_ok": False, "_rate": 0.0, "_server_cpu_ms": float("nan")}
    run_seconds = summary["duration_us"] / 1e6
    socket_errors = summary["connect"] + summary["read"] + summary["write"]
    ok = summary["requests"] - summary["status"]
    errors = summary["status"] + socket_errors
    fields = {"connections": connections, "threads": threads, "object_bytes": object_bytes,
              "seconds": fmt(run_seconds, 2), "ops": ok, "ops_per_s": fmt(ok / run_seconds, 1),
              "mib_per_s": fmt(ok * object_bytes / MIB / run_seconds, 1),
              "p50_ms": fmt(summary["p50_us"] / 1000, 2), "p99_ms": fmt(summary["p99_us"] / 1000, 2),
              "errors": errors}
    if summary["timeout"]:
        fields["over_timeout"] = summary["timeout"]  # completed, but slower than --timeout (not in p50/p99)
    fields.update(cpu_fields(server_cpu, run_seconds, done.cpu_seconds, done.seconds, summary["requests"]))
    fields.update({"_rate": ok / run_seconds if run_seconds else 0.0, "_ok": errors == 0 and ok > 0,
                   "_reused": summary["reused"], "_samples": [],
                   # lines [0, _used) of targets are all that any thread may have sent
                   "_used": min(len(targets), threads * summary["max_sent"])})
    if errors:
        fields["_samples"].append(f"wrk: {summary['status']} responses >= 400, {socket_errors} socket errors; "
                                  f"first request: {probe(server, targets[0])}")
    return fields


def probe(server, target, body=b""):
    """One request with urllib (outside the timed part): 'status N: start of the body'."""
    method, path = target.split(" ", 1)
    request = urllib.request.Request(f"{server.endpoint}{path}", data=body if method == "PUT" else None,
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return f"status {response.status}"
    except urllib.error.HTTPError as error:
        return f"status {error.code}: {error.read()[:300].decode(errors='replace')}"
    except OSError as error:
        return f"failed: {error}"


def median(values):
    values = [value for value in values if value == value]
    return statistics.median(values) if values else float("nan")

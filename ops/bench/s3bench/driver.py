"""The order of a run: machine limits, the servers, the real-client rows, the wrk rows, the report.

Every step runs against each system in turn before the next step starts (wrk rows: run 1 on every system,
then run 2, then run 3), so background load on a shared machine hits all of them alike.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from siloprocs import log_tail

from .config import (LARGE_BYTES, LARGE_COUNT, MEDIUM_BYTES, MEDIUM_COUNT, OUT_DIR, QUICK, REPO,
                     SMALL_BYTES, SMALL_COUNT, WORKER_COUNTS, WRK_RUNS)
from .loadgen import wrk_path
from .probes import disk, host_line, http_floor, loopback_tcp
from .procs import PROCESSES, log, perf_record
from .report import Results
from .systems import SeaweedFS, Silo, SiloCluster, stop_clusters
from .workloads import (Dataset, delete_batches, delete_one_by_one, get_workload, latency_workloads,
                        list_workload, put_workload, remaining_keys, wrk_get, wrk_list, wrk_put)

PROFILE = [key for key in os.environ.get("BENCH_PROFILE", "").split(",") if key]
# The wrk rows: size tag, connections (the summary line's put-4k-c32, get-1m-c8, ...).
WRK_ROWS = [("4k", 32), ("1m", 8), ("256m", 1)]


def build_silo():
    binary = os.environ.get("SILO_BIN")
    if binary:
        return Path(binary)
    log("building silo (swift build -c release --product silo); set SILO_BIN to skip")
    subprocess.run(["swift", "build", "-c", "release", "--product", "silo"], cwd=REPO, check=True, timeout=7200)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO, check=True,
                              capture_output=True, text=True, timeout=600).stdout.strip()
    return Path(bin_path) / "silo"


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


class Steps:
    """Runs one step against every live system in turn; one system's failure does not stop the others."""

    def __init__(self, results, systems):
        self.results = results
        self.systems = systems

    def each(self, label, function):
        """With BENCH_PROFILE=put-4k-c32,... the silo server is sampled by `perf record -g` during those
        steps (label with spaces as '-'), and the `perf report` lands next to the results file."""
        key = label.replace(" ", "-")
        for system in self.systems:
            if not system.alive():
                if not system.failure:
                    rc = system.process.returncode if system.process else "?"
                    system.failure = f"exited with {rc}"
                    self.results.emit(f"system={system.name} status=exited rc={rc} "
                                      f"before_step={key} log_tail={json.dumps(log_tail(system.log_path, 15, ' | '))}")
                continue
            log(f"{label} on {system.name}")
            try:
                if system.name == "silo" and key.split("-run")[0] in PROFILE and shutil.which("perf"):
                    with perf_record(system, key):
                        function(system)
                else:
                    function(system)
            except Exception as error:  # noqa: BLE001 - one system's failure must not stop the others
                self.results.emit(f"error step={key} system={system.name} msg={json.dumps(repr(error)[:600])}")


def real_client_rows(steps, results, data, scratch):
    for tag in ("4k", "1m", "256m"):
        files, size = data.files[tag], data.sizes[tag]
        for workers in WORKER_COUNTS:
            prefix = f"{tag}/c{workers}"
            steps.each(f"put-{tag} c{workers} s5cmd", lambda system: results.record(
                f"put-{tag}", workers, system.name, "s5cmd", None,
                put_workload(system, workers, files, size, prefix, scratch)))
            steps.each(f"get-{tag} c{workers} s5cmd", lambda system: results.record(
                f"get-{tag}", workers, system.name, "s5cmd", None,
                get_workload(system, workers, files, size, prefix, scratch)))


def wrk_rows(steps, results, data, scratch):
    """PUT and GET rows with wrk; GET reads the objects the s5cmd PUT row of the same connections wrote."""
    if not wrk_path():
        results.emit("error step=wrk msg=\"wrk is not installed (Debian package wrk): no wrk rows\"")
        return
    for tag, connections in WRK_ROWS:
        files, size = data.files[tag], data.sizes[tag]
        for run in range(1, WRK_RUNS + 1):
            steps.each(f"put-{tag}-c{connections} wrk run {run}", lambda system: results.record(
                f"put-{tag}", connections, system.name, "wrk", run,
                wrk_put(system, tag, size, connections, run, files[0], scratch)))
        keys = [f"{tag}/c{connections}/{path.name}" for path in files]
        for run in range(1, WRK_RUNS + 1):
            steps.each(f"get-{tag}-c{connections} wrk run {run}", lambda system: results.record(
                f"get-{tag}", connections, system.name, "wrk", run,
                wrk_get(system, connections, keys, files, size, scratch)))


def list_rows(steps, results, data, scratch):
    keys = [f"4k/c32/{path.name}" for path in data.files["4k"]]
    if wrk_path():
        for run in range(1, WRK_RUNS + 1):
            steps.each(f"list-10k wrk run {run}", lambda system: results.record(
                "list-10k", 1, system.name, "wrk", run, wrk_list(system, "4k/c32", keys, scratch)))
    steps.each("list-10k s5cmd", lambda system: results.record(
        "list-10k", 1, system.name, "s5cmd", None, list_workload(system, "4k/c32", len(keys), scratch)))


def delete_rows(steps, results, data, scratch):
    # DELETE one by one takes the three 4k prefixes; DELETE in batches takes three fresh copies of them.
    small = data.files["4k"]
    for workers in WORKER_COUNTS:
        def one_by_one(system, workers=workers):
            fields = delete_one_by_one(system, workers, [f"4k/c{workers}/{path.name}" for path in small])
            fields["left"] = remaining_keys(system, f"4k/c{workers}")
            results.record("delete-1by1", workers, system.name, "boto3", None, fields)
        steps.each(f"delete-1by1 c{workers}", one_by_one)
    for workers in WORKER_COUNTS:
        prefix = f"del/c{workers}"
        steps.each(f"seed {prefix}", lambda system: put_workload(system, 32, small, SMALL_BYTES, prefix, scratch))

        def batches(system, workers=workers, prefix=prefix):
            fields = delete_batches(system, workers, [f"{prefix}/{path.name}" for path in small], scratch)
            fields["left"] = remaining_keys(system, prefix)
            results.record("delete-batch", workers, system.name, "s5cmd", None, fields)
        steps.each(f"delete-batch c{workers}", batches)


def latency_rows(steps, results, data):
    payload = data.files["4k"][0].read_bytes()

    def latency(system):
        for name, fields in latency_workloads(system, payload).items():
            results.record(name, 1, system.name, "boto3", None, fields)
    steps.each("latency", latency)


def start_systems(results, wanted, base):
    systems = []
    for name in wanted:
        workdir = base / name
        workdir.mkdir()
        if name in ("silo", "silo-cluster"):
            kind = Silo if name == "silo" else SiloCluster
            try:
                system = kind(workdir, build_silo())
            except (subprocess.SubprocessError, OSError) as error:
                system = kind(workdir, None)
                system.failure = f"build failed: {error}"
        elif name in ("seaweedfs", "seaweedfs-fsync"):
            system = SeaweedFS(workdir, fsync=name.endswith("fsync"))
        else:
            sys.exit(f"unknown system {name} in BENCH_SYSTEMS")
        if not system.failure:
            try:
                system.setup()
            except Exception as error:  # noqa: BLE001 - reported, and the other systems still run
                system.failure = str(error)
        systems.append(system)
        line = (f"system={system.name} status={'failed' if system.failure else 'up'} endpoint={system.endpoint} "
                f"pid={system.process.pid if system.process else 0} durability={json.dumps(system.durability)}")
        if system.failure:
            line += f" msg={json.dumps(system.failure[:800])}"
        results.emit(line)
    return systems


def main():
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT also when started in the background
        signal.signal(signum, on_signal)
    wanted = os.environ.get("BENCH_SYSTEMS", "silo,seaweedfs,seaweedfs-fsync").split(",")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"s3-{stamp}{'-quick' if QUICK else ''}"
    results = Results(OUT_DIR / f"{name}.txt")
    base = Path(tempfile.mkdtemp(prefix="silo-s3-bench-", dir=os.environ.get("BENCH_TMPDIR")))
    shm = Path("/dev/shm")
    client_root = Path(tempfile.mkdtemp(prefix="silo-s3-bench-client-", dir=shm if shm.is_dir() else base))
    keep = os.environ.get("BENCH_KEEP", "") not in ("", "0")
    log(f"data under {base}, client files under {client_root}, results in {results.file.name}")
    started = time.monotonic()
    try:
        host_line(results)
        loopback_tcp(results, base)
        disk(results, base)
        log("generating client files")
        data = Dataset(client_root / "data", {"4k": (SMALL_COUNT, SMALL_BYTES), "1m": (MEDIUM_COUNT, MEDIUM_BYTES),
                                              "256m": (LARGE_COUNT, LARGE_BYTES)})
        http_floor(results, base, [(f"get-{tag}", connections, data.sizes[tag], data.files[tag][0])
                                   for tag, connections in WRK_ROWS])
        systems = start_systems(results, wanted, base)
        live = [system for system in systems if not system.failure]
        scratch = client_root / "scratch"
        scratch.mkdir()
        steps = Steps(results, live)
        real_client_rows(steps, results, data, scratch)
        wrk_rows(steps, results, data, scratch)
        list_rows(steps, results, data, scratch)
        delete_rows(steps, results, data, scratch)
        latency_rows(steps, results, data)
        names = [system.name for system in systems]
        results.summarize(names)
        load = os.getloadavg()
        results.emit(f"machine=host-after loadavg_1m={load[0]:.2f} loadavg_5m={load[1]:.2f} "
                     f"minutes={(time.monotonic() - started) / 60:.1f}")
        table = results.table(names)
        (OUT_DIR / f"{name}.md").write_text("\n".join(table) + "\n")
        for line in table:
            results.emit(line)
        results.final_lines(names)
    except KeyboardInterrupt as interrupt:
        log(f"interrupted ({interrupt}); stopping servers")
        raise SystemExit(130)
    finally:
        stop_clusters()
        PROCESSES.stop_all()
        for system_dir in sorted(base.glob("*")):
            for log_file in system_dir.glob("*.log"):  # silo/silo.log -> s3-STAMP-silo.log
                label = system_dir.name if log_file.stem == system_dir.name else f"{system_dir.name}-{log_file.stem}"
                shutil.copy(log_file, OUT_DIR / f"{name}-{label}.log")
        shutil.rmtree(client_root, ignore_errors=True)
        if keep:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)

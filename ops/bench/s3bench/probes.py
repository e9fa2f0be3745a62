"""Machine limits, measured in the same run: loopback TCP (iperf3), disk (fio), the HTTP floor (nginx).

The HTTP floor is nginx (one worker, sendfile) serving a static file of each GET row's size, driven by the
same wrk script with the same connections and run time as the S3 GET rows, three runs each: what the
cheapest HTTP server on this machine costs per request, beside what the S3 servers cost.
"""

import json
import os
import shutil
import time

from siloprocs import free_port

from .config import (FIO_SECONDS, FIO_SEQ_BYTES, IPERF_SECONDS, MIB, QUICK, WRK_RUNS, WRK_SECONDS)
from .loadgen import run_wrk, wrk_path
from .procs import PROCESSES, log
from .systems import Nginx


def host_line(results):
    load = os.getloadavg()
    results.emit(f"machine=host cpus={os.cpu_count()} loadavg_1m={load[0]:.2f} loadavg_5m={load[1]:.2f} "
                 f"quick={int(QUICK)}")


def loopback_tcp(results, scratch):
    iperf = shutil.which("iperf3")
    if not iperf:
        results.emit("machine=loopback-tcp tool=iperf3 status=unavailable")
        return
    port = free_port()
    server = PROCESSES.start([iperf, "-s", "-1", "-B", "127.0.0.1", "-p", str(port)], scratch / "iperf3.log")
    time.sleep(0.5)
    done = PROCESSES.run_bounded([iperf, "-c", "127.0.0.1", "-p", str(port), "-t", str(IPERF_SECONDS), "-J"],
                                 IPERF_SECONDS + 30)
    PROCESSES.stop(server, grace=3)
    try:
        bits = json.loads(done.out)["end"]["sum_received"]["bits_per_second"]
        results.emit(f"machine=loopback-tcp tool=iperf3 streams=1 seconds={IPERF_SECONDS} "
                     f"gbit_per_s={bits / 1e9:.2f} mib_per_s={bits / 8 / MIB:.0f}")
    except (ValueError, KeyError):
        results.emit(f"machine=loopback-tcp tool=iperf3 status=failed rc={done.rc} msg={json.dumps(done.err[-300:])}")


def disk(results, scratch):
    fio = shutil.which("fio")
    if not fio:
        results.emit("machine=fsync-append tool=fio status=unavailable")
        results.emit("machine=seq-write tool=fio status=unavailable")
        return
    directory = scratch / "fio"
    directory.mkdir()
    jobs = {
        "fsync-append": ["--rw=write", "--bs=4k", "--size=256m", "--fsync=1", "--ioengine=sync",
                         "--time_based", f"--runtime={FIO_SECONDS}"],
        "seq-write": ["--rw=write", "--bs=1m", f"--size={FIO_SEQ_BYTES // MIB}m", "--ioengine=libaio",
                      "--iodepth=8", "--direct=1", "--end_fsync=1"],
    }
    for name, options in jobs.items():
        done = PROCESSES.run_bounded([fio, f"--name={name}", f"--directory={directory}", "--output-format=json",
                                      *options], FIO_SECONDS * 3 + 120)
        try:
            job = json.loads(done.out[done.out.index("{"):])["jobs"][0]
            write = job["write"]
            if name == "fsync-append":
                p50 = float(job["sync"]["lat_ns"]["percentile"]["50.000000"]) / 1000
                results.emit(f"machine=fsync-append tool=fio block_bytes=4096 fsyncs_per_s={write['iops']:.0f} "
                             f"fsync_p50_us={p50:.0f}")
            else:
                results.emit(f"machine=seq-write tool=fio block_bytes={MIB} direct=1 "
                             f"mib_per_s={write['bw_bytes'] / MIB:.0f}")
        except (ValueError, KeyError, IndexError):
            results.emit(f"machine={name} tool=fio status=failed rc={done.rc} msg={json.dumps(done.err[-300:])}")
        for leftover in directory.iterdir():
            leftover.unlink()


def http_floor(results, scratch, rows):
    """nginx serving a static object of each row's size, measured with wrk like the S3 GET rows.

    rows: (workload, connections, object_bytes, local file) of the GET rows.
    """
    if not wrk_path() or not shutil.which("nginx"):
        for workload, connections, size, _path in rows:
            results.emit(f"machine=http-floor workload={workload} connections={connections} status=unavailable "
                         f"msg=\"needs wrk and nginx (Debian packages wrk, nginx)\"")
        return
    nginx = Nginx({f"{workload}.bin": path for workload, _c, _s, path in rows})
    try:
        nginx.start()
    except Exception as error:  # noqa: BLE001 - reported, the S3 rows still run
        results.emit(f"machine=http-floor tool=nginx status=failed msg={json.dumps(str(error)[:500])}")
        nginx.stop()
        return
    try:
        for workload, connections, size, _path in rows:
            for run in range(1, WRK_RUNS + 1):
                log(f"http floor {workload} c{connections} run {run}")
                fields = run_wrk(nginx, [f"GET /{workload}.bin"], connections, WRK_SECONDS, scratch, size)
                results.record(workload, connections, "nginx", "wrk", run, fields, prefix="machine=http-floor ")
    finally:
        nginx.stop()
    results.emit(f"machine=http-floor tool=nginx workers=1 sendfile=on version={nginx_version()}")


def nginx_version():
    done = PROCESSES.run_bounded([shutil.which("nginx"), "-v"], 30)
    return (done.err.strip().split("/")[-1] or "unknown").replace(" ", "_")


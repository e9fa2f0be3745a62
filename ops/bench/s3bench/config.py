"""Paths, credentials and the sizes of every workload (the quick run keeps the names, shrinks the counts)."""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent  # ops/bench/s3bench
BENCH = HERE.parent  # ops/bench
REPO = BENCH.parent.parent
VENV = BENCH / ".venv"
VENV_BIN = VENV / "bin"
REQUIREMENTS = REPO / "ops" / "requirements" / "bench.txt"
OUT_DIR = Path(os.environ.get("BENCH_OUT", str(BENCH / "out")))

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# Real-client rows (s5cmd, boto3): object counts and sizes.
if QUICK:
    SMALL_COUNT, MEDIUM_COUNT, LARGE_COUNT, LARGE_BYTES = 1000, 100, 2, 64 * MIB
    LATENCY_OPS = 200
    STEP_TIMEOUT, START_TIMEOUT = 180, 90
    IPERF_SECONDS, FIO_SECONDS, FIO_SEQ_BYTES = 3, 3, 256 * MIB
else:
    SMALL_COUNT, MEDIUM_COUNT, LARGE_COUNT, LARGE_BYTES = 10_000, 1000, 4, 256 * MIB
    LATENCY_OPS = 1000
    STEP_TIMEOUT, START_TIMEOUT = 900, 120
    IPERF_SECONDS, FIO_SECONDS, FIO_SEQ_BYTES = 10, 10, 2048 * MIB
SMALL_BYTES, MEDIUM_BYTES = 4 * KIB, 1 * MIB
WORKER_COUNTS = [1, 8, 32]  # s5cmd --numworkers, boto3 threads
LIST_PAGE_KEYS = 100  # keys per page for the sequential LIST latency workload
LIST_BIG_PAGE_KEYS = 1000  # keys per page for list-10k (the S3 maximum, what s5cmd asks for)
DELETE_BATCH_KEYS = 1000  # keys per DeleteObjects request (the S3 maximum)
MAX_ERROR_SAMPLES = 3  # distinct error messages printed per workload and system

# wrk rows: seconds per run, runs per row (alternating between the systems), and how many distinct keys a
# PUT run may write: the most requests a second we expect (far above what this machine does) times the run
# time, capped by bytes so that a run does not fill the disk. A run that uses up its keys starts over on
# them (overwrites) and says how many requests did (key_reuse=N).
WRK_SECONDS = int(os.environ.get("BENCH_SECONDS", "3" if QUICK else "10"))
WRK_RUNS = 3
WRK_PUT_RATE_BOUND = {"4k": 15_000, "1m": 1_500, "256m": 12}
WRK_PUT_BYTES_BOUND = (1 if QUICK else 4) * GIB
WRK_THREADS = int(os.environ["BENCH_WRK_THREADS"]) if os.environ.get("BENCH_WRK_THREADS") else None
DISK_RESERVE = 5 * GIB  # a PUT run is skipped when the data dir's disk would have less than this left

BUCKET = "bench"
ACCESS_KEY = "silobenchaccess"
SECRET_KEY = "silobenchsecret0123456789abcdef"
REGION = "us-east-1"

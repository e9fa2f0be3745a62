"""ops/bench/s3: Silo against SeaweedFS (and an nginx HTTP floor), side by side, in one run.

Modules: config (sizes, paths), bootstrap (venv, Debian tools), procs (the run's processes, perf),
systems (the servers under test), sigv4 (presigned URLs), loadgen (wrk), workloads (real-client and
wrk rows), probes (machine limits), report (result lines, ratios, table), driver (the order of it all).
See ops/bench/README.md.
"""

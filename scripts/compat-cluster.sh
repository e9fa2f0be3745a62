#!/usr/bin/env bash
# The real-client compatibility suite (Tests/compat) against a gateway of a local cluster (ops/cluster up:
# 3 meta, 4 blob, 2 gateways), so that every S3 path also runs through the metadata RPC and the chunk
# protocol. Tests that need the server's own process or data directory skip. The cluster is stopped by
# pid at the end, also on failure.
# Usage: scripts/compat-cluster.sh SILO-BIN [extra pytest arguments]   (inside the test venv)
set -euo pipefail
cd "$(dirname "$0")/.."
silo=$1
shift
dir=$(mktemp -d /tmp/silo-compat-cluster-XXXXXX)
cleanup() {
  status=$?
  ops/cluster down --dir "$dir" >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ]; then
    # What the processes said, for the failure above.
    for log in "$dir"/logs/*.log; do echo "--- $log (last 30 lines)"; tail -n 30 "$log"; done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
ops/cluster up --dir "$dir" --silo "$silo" --log-level warning >/dev/null
read -r endpoint access secret < <(python3 -c '
import json, sys
state = json.load(open(sys.argv[1] + "/cluster.json"))
print(state["s3_endpoints"][0], state["root_access_key"], state["root_secret_key"])' "$dir")
SILO_BIN="$silo" SILO_COMPAT_ENDPOINT="$endpoint" SILO_COMPAT_ACCESS_KEY="$access" SILO_COMPAT_SECRET_KEY="$secret" \
  python -m pytest Tests/compat -q -p no:cacheprovider "$@"

#!/usr/bin/env bash
# The `silo-jepsen check` command end to end: the exit status and verdict line on reference histories with
# known verdicts (../shared/porcupine-test-data/VERDICTS.txt), an HTML report, and an unreadable file.
# Usage: scripts/check-cli.sh PATH-TO-silo-jepsen
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?path to silo-jepsen}
data=../shared/porcupine-test-data
[ -d "$data" ] || { echo "check-cli: $data not found (shared/ must be beside the repo)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0
expect() {  # expect STATUS DESCRIPTION -- COMMAND...
  local want=$1 what=$2; shift 3
  local got=0
  "$@" > "$out/stdout" 2>&1 || got=$?
  if [ "$got" -eq "$want" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "check-cli: FAIL $what: exit $got, expected $want"; cat "$out/stdout"; fi
}
for name in etcd_000 etcd_002 etcd_005 etcd_001; do
  verdict=$(grep "^jepsen/$name.log " "$data/VERDICTS.txt" | cut -d' ' -f2)
  want=1; [ "$verdict" = "linearizable" ] && want=0
  expect $want "$name ($verdict)" -- "$bin" check --format porcupine-etcd "$data/jepsen/$name.log"
done
expect 0 "kv c10-ok" -- "$bin" check --format porcupine-kv "$data/kv/c10-ok.txt"
expect 1 "kv c10-bad" -- "$bin" check --format porcupine-kv "$data/kv/c10-bad.txt"
expect 1 "html report of etcd_000" -- "$bin" check --format porcupine-etcd --html "$out/report.html" "$data/jepsen/etcd_000.log"
if ! grep -q "<svg" "$out/report.html"; then failed=$((failed + 1)); echo "check-cli: FAIL the HTML report has no timeline"; else passed=$((passed + 1)); fi
printf 'not a history\n' > "$out/garbage.jsonl"
expect 2 "unreadable input" -- "$bin" check "$out/garbage.jsonl"
echo "check-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

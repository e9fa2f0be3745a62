#!/usr/bin/env bash
# Runs the pinned Ceph s3-tests suite (../shared/s3-tests, beside the repository) against a fresh
# `silo server` and compares the outcome with Tests/s3-tests/expected-failures.txt:
#   - a test that fails and is not on the list fails this script (a regression);
#   - a test on the list that passes fails it too: remove it from the list (the list only shrinks).
# The server runs on a free loopback port with a temporary data directory and known root keys; two users
# (main, alt) are created with `silo admin user create`; the server is stopped by PID on exit.
#
# Usage: scripts/s3-tests.sh [SILO_BIN]      (default <repo>/.build/debug/silo)
# Environment:
#   S3T_SUITE      the s3-tests directory with run-s3tests.sh (default <repo>/../shared/s3-tests)
#   S3T_SELECTION  core (default; the list is for core) | quick | whole
#   S3T_OUT        where the junit xml, pytest log and server log go (default: a temporary directory)
#   S3T_WORKERS    pytest-xdist workers (default 1: a few tests are not isolation-safe)
#   S3T_COMPARE=0  run and report only, do not compare with the list (for `whole` on demand)
#   S3T_K          a pytest -k expression (with S3T_SELECTION=none and S3T_COMPARE=0: a subset by name)
#   PYTHON         python3 for the comparer and the owner-id lookup (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
silo=${1:-$root/.build/debug/silo}
suite=${S3T_SUITE:-$root/../shared/s3-tests}
selection=${S3T_SELECTION:-core}
workers=${S3T_WORKERS:-1}
python=${PYTHON:-python3}
expected=$root/Tests/s3-tests/expected-failures.txt
ready_timeout_s=90

[ -x "$silo" ] || { echo "s3-tests: no silo binary at $silo (build it first)" >&2; exit 2; }
[ -x "$suite/run-s3tests.sh" ] || { echo "s3-tests: no run-s3tests.sh in $suite" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/silo-s3tests.XXXXXX")
out=${S3T_OUT:-$work/out}
mkdir -p "$out"
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "${work:?}/data"
  # With S3T_OUT the results live there; the work directory held only the data.
  if [ -n "${S3T_OUT:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=127.0.0.1:$port
export SILO_ROOT_ACCESS_KEY=SILOS3TESTSROOT00001
export SILO_ROOT_SECRET_KEY=silo-s3tests-root-secret-0123456789abcdef
main_ak=SILOS3TESTSMAIN00001; main_sk=silo-s3tests-main-secret-0123456789abcdef
alt_ak=SILOS3TESTSALT000001;  alt_sk=silo-s3tests-alt-secret-0123456789abcdefg

"$silo" server --address "$endpoint" --data "$work/data" > "$out/server.log" 2>&1 < /dev/null &
server_pid=$!
deadline=$(( $(date +%s) + ready_timeout_s ))
answers_http() {
  "$python" - "$port" 2>/dev/null <<'PY'
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    s.settimeout(5)
    sys.exit(0 if s.recv(12).startswith(b"HTTP/1.") else 1)
PY
}
until answers_http; do
  kill -0 "$server_pid" 2>/dev/null || { echo "s3-tests: silo exited at start:" >&2; tail -n 40 "$out/server.log" >&2; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { echo "s3-tests: silo did not answer within ${ready_timeout_s}s" >&2; exit 1; }
  sleep 0.2
done

"$silo" admin user create main --access-key "$main_ak" --secret-key "$main_sk" --endpoint "http://$endpoint" > /dev/null
"$silo" admin user create alt --access-key "$alt_ak" --secret-key "$alt_sk" --endpoint "http://$endpoint" > /dev/null
# The canonical ids the suite compares with Owner.ID, as the server reports them in ListBuckets.
main_id=$("$python" "$root/scripts/s3-tests-compare.py" owner-id "http://$endpoint" "$main_ak" "$main_sk")
alt_id=$("$python" "$root/scripts/s3-tests-compare.py" owner-id "http://$endpoint" "$alt_ak" "$alt_sk")

"$suite/run-s3tests.sh" --endpoint "$endpoint" \
  --main-key "$main_ak" --main-secret "$main_sk" --alt-key "$alt_ak" --alt-secret "$alt_sk" \
  --main-user-id "$main_id" --alt-user-id "$alt_id" --main-display-name main --alt-display-name alt \
  --api-name "" --selection "$selection" --workers "$workers" --out "$out" ${S3T_K:+-- -k "$S3T_K"}

kill -0 "$server_pid" 2>/dev/null || { echo "s3-tests: silo died during the run:" >&2; tail -n 40 "$out/server.log" >&2; exit 1; }
status=0
if [ "${S3T_COMPARE:-1}" = 0 ]; then
  echo "s3-tests: not compared with $expected"
else
  "$python" "$root/scripts/s3-tests-compare.py" compare "$out/$selection.junit.xml" "$expected" || status=$?
fi
if [ "$status" -ne 0 ] || [ -n "${S3T_OUT:-}" ]; then
  echo "s3-tests: junit, pytest log and server log in $out"
else
  rm -rf "$work"
fi
exit "$status"

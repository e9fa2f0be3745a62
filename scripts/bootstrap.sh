#!/usr/bin/env bash
# Installs the system packages Silo builds against (Debian): SQLite, OpenSSL, zlib and ISA-L headers.
# Idempotent and quiet when everything is already there.
set -euo pipefail
packages=(libsqlite3-dev libssl-dev zlib1g-dev libisal-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "bootstrap: swift is not on PATH (Swift 6.1+ is required)" >&2; exit 1; }

#!/usr/bin/env bash
# The main job: install what is needed, build in release mode, start the whole stack on this
# machine (ipc:// endpoints, data in ${VIGIL_DATA:-./vigil-data}), and run `vigil demo`: a
# generated day of a small network with four attacks, and the signals Vigil raises for them.
# The stack keeps running; stop it with `vigil down`.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${VIGIL_DATA:-./vigil-data}"
scripts/install-deps.sh
echo "building (release) …"
log="$(mktemp)"
if ! swift build -c release >"$log" 2>&1; then cat "$log"; echo "build failed" >&2; exit 1; fi
rm -f "$log"
bin="$(swift build -c release --show-bin-path)"
mkdir -p "$data"
cp -n samples/assets.csv "$data/assets.csv" 2>/dev/null || true
"$bin/vigil" up --data "$data"
"$bin/vigil" demo --data "$data"
echo
"$bin/vigil" status --data "$data"
cat <<MSG

The stack is running (README.md has a 5-minute tour). Try:
  $bin/vigil send '<38>Dec  4 10:00:00 web01 sshd[1]: Failed password for root from 192.0.2.1 port 4242 ssh2'
  $bin/vigil tail signals --data $data
  $bin/vigil sys metrics enrichment --data $data
  $bin/vigil down --data $data
MSG

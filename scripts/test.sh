#!/usr/bin/env bash
# The test job (CI runs exactly this via .ci/run): install what is needed, check the
# generated protobuf-c code is current, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/gen-proto.sh --check
swift build --build-tests
swift test --skip-build --parallel --num-workers 2

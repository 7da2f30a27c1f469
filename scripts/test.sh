#!/usr/bin/env bash
# The whole test suite: set-up, build, unit and end-to-end tests.
# This is the command CI runs (.ci/run); it must pass on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
source scripts/env.sh

echo "== build"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
test "${PIPESTATUS[0]}" -eq 0

echo "== conformance (public reference vectors)"
.build/debug/tuned conformance Tests/TunedOptimTests/Fixtures/oracle | tail -n 1

echo "== tests"
set +e
swift test --skip-build 2>&1 | grep -vE ' (started|passed after [0-9.]+ seconds)\.$'
status=${PIPESTATUS[0]}
exit "$status"

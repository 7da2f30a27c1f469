#!/usr/bin/env bash
# The whole test suite: set-up, build, unit and end-to-end tests.
# This is the command CI runs (.ci/run); it must pass on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
source scripts/env.sh

echo "== build"
set +e
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] '
build=${PIPESTATUS[0]}
set -e
[ "$build" -eq 0 ] || { echo "build failed (exit $build)"; exit 1; }

echo "== migrations in sync with store/migrations"
bash scripts/gen-migrations.sh --check

echo "== shipped policy embedded (policies/default.json)"
bash scripts/gen-default-policy.sh --check

echo "== conformance (public reference vectors)"
.build/debug/tuned conformance Tests/TunedOptimTests/Fixtures/oracle | tail -n 1

echo "== tests"
set +e
# Swift Testing only (--disable-xctest drops XCTest's empty "Executed 0 tests" line).
# Per-test "started"/"passed" lines are dropped; failures, issues and the summary stay.
swift test --skip-build --disable-xctest 2>&1 | grep -vP '^(◇|✔) (Test|Suite) (?!run)'
status=${PIPESTATUS[0]}

# The Python client against the daemon just built. `python3` from PATH, not /usr/bin/python3
# as well: it is the interpreter a command workload's `python3` resolves to and the one users
# pip-install the client into; setup.sh installs Debian's (3.11) if there is none, and a second
# run with the same version would double the time without testing anything new. Every test
# has its own time limit; `timeout` is the backstop for the whole step (~10 s normally).
echo "== Python client (clients/python: $(command -v python3), $(python3 --version 2>&1))"
tuned_bin="$PWD/.build/debug"
(cd clients/python && TUNED_BIN="$tuned_bin" PYTHONDONTWRITEBYTECODE=1 timeout 300 python3 -m unittest)
python_status=$?
[ "$status" -ne 0 ] || status=$python_status
exit "$status"

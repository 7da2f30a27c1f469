#!/usr/bin/env bash
# Leave-one-task-out normalised regret of `recommend` on the policy suite, against AdamW
# lr 1e-3 and the single best global configuration (scripts/eval_policy.py says how).
# Needs policies/suite-store.db from scripts/train-default-policy.sh. Prints a Markdown table.
# Environment: SCRATCH (swift --scratch-path, default .build), CONFIG (release|debug, default release).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scratch=${SCRATCH:-.build}
config=${CONFIG:-release}
[ -f policies/suite-store.db ] || { echo "no policies/suite-store.db: run scripts/train-default-policy.sh first" >&2; exit 1; }
swift build -c "$config" --scratch-path "$scratch" --product tuned 2>&1 | grep -E 'error|Build' | tail -1
swift build -c "$config" --scratch-path "$scratch" --product tunectl 2>&1 | grep -E 'error|Build' | tail -1
bin=$scratch/$config

work=$(mktemp -d)
for f in policies/suite-store.db*; do cp "$f" "$work/${f##*/}"; done
export TUNED_SOCKET=$work/tuned.sock
"$bin/tuned" serve --socket "$TUNED_SOCKET" --store "$work/suite-store.db" --workers 1 >"$work/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$TUNED_SOCKET" ] && break; sleep 0.1; done
python3 scripts/eval_policy.py "$bin" "$work/suite-store.db"

#!/usr/bin/env bash
# Benchmarks (not tests): release build, one BLAS thread, table on stdout, JSON in bench/.
# Usage: scripts/bench.sh [extra `tuned bench` options, e.g. --groups optimizer]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
swift build -c release --product tuned 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
mkdir -p bench
out="bench/bench-$(date -u +%Y%m%dT%H%M%SZ).json"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
.build/release/tuned bench --json "$out" "$@"
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

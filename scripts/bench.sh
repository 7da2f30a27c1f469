#!/usr/bin/env bash
# Benchmarks (not tests): release build, one BLAS thread; tables on stdout, JSON in bench/.
# Runs `tuned bench` and, in the same run, the same digits MLP in plain numpy (float64,
# one thread) so that the comparison is a ratio measured under the same load.
# Then the daemon benchmarks (`tuned bench --groups daemon`: a real `tuned serve` child) into
# their own JSON file.
# Usage: scripts/bench.sh [extra `tuned bench` options, e.g. --groups optimizer]
#        SCRATCH=.build-x scripts/bench.sh   (build directory; default .build)
#        SKIP_DAEMON=1 scripts/bench.sh      (training and optimizer groups only)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scratch="${SCRATCH:-.build}"
swift build -c release --scratch-path "$scratch" --product tuned 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
mkdir -p bench
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/bench-$stamp.json"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
uptime
"$scratch/release/tuned" bench --json "$out" "$@"

if python3 -c 'import numpy' 2>/dev/null; then
  # numpy ships a newer OpenBLAS that knows this CPU: give it no CORETYPE override.
  np_json=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
    python3 scripts/bench_numpy.py datasets/digits.csv 3000)
  python3 - "$out" "$np_json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
npr = json.loads(sys.argv[2])
mlp = {r["name"]: r["value"] for r in doc["results"] if r["group"] == "mlp-digits"}
print("\n== digits MLP, tuned (Float) vs numpy %s (float64), same run" % npr["numpy"])
print("%-10s %14s %14s %8s" % ("optimizer", "tuned steps/s", "numpy steps/s", "ratio"))
for k in ("sgd", "adam"):
    if k in mlp:
        print("%-10s %14.0f %14.0f %8.2f" % (k, mlp[k], npr[k], mlp[k] / npr[k]))
doc["numpy"] = npr
json.dump(doc, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PY
fi
if [ -z "${SKIP_DAEMON:-}" ]; then
  dout="bench/bench-daemon-$stamp.json"
  echo "load before the daemon group: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$scratch/release/tuned" bench --groups daemon --json "$dout"
fi
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
uptime
echo "wrote $out"

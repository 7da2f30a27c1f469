#!/usr/bin/env bash
# The worked examples that need more than tuned itself, end to end on this machine.
#
# examples/pytorch: a PyTorch CNN on datasets/digits.csv as a command workload. When torch
# is importable: check that a segment resumed from its checkpoint equals one straight run
# bit for bit, then start a local daemon (socket and store in ./run/examples), submit
# examples/pytorch/digits-cnn-pbt.toml (sync PBT over lr, weight_decay, momentum and the
# model's own `channels`), wait for it, and print its results and lineage. Without torch
# it says so and skips (exit 0). Install torch, e.g.:
#   pip install torch --index-url https://download.pytorch.org/whl/cpu
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import torch" 2>/dev/null; then
  echo "examples/pytorch: SKIPPED — python3 cannot import torch (pip install torch --index-url https://download.pytorch.org/whl/cpu)"
  exit 0
fi
echo "== examples/pytorch with torch $(python3 -c 'import torch; print(torch.__version__)')"

source scripts/env.sh
swift build --product tuned 2>&1 | grep -E 'error|Compiling|Build' | tail -1 || true
swift build --product tunectl 2>&1 | grep -E 'error|Compiling|Build' | tail -1 || true
bin=$(swift build --show-bin-path)
[ -x "$bin/tuned" ] && [ -x "$bin/tunectl" ] || { echo "build failed"; exit 1; }

echo "== resume is bit-exact: [0, 100) then [100, 200) against [0, 200)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cfg='{"channels":8,"lr":0.05,"momentum":0.9,"weight_decay":0.0001}'
segment() {  # start end restore checkpoint
  mkdir -p "$4"
  PYTHONPATH=clients/python/src TUNED_CONFIG="$cfg" TUNED_START_STEP=$1 TUNED_END_STEP=$2 TUNED_RESTORE_DIR=$3 TUNED_CHECKPOINT_DIR=$4 \
    TUNED_SEED=7 python3 examples/pytorch/train.py | tail -1
}
segment 0 100 "" "$work/a" >/dev/null
resumed=$(segment 100 200 "$work/a" "$work/b")
straight=$(segment 0 200 "" "$work/c")
echo "resumed:  $resumed"
echo "straight: $straight"
[ "$resumed" = "$straight" ] || { echo "resume is not bit-exact"; exit 1; }

run=$PWD/run/examples
mkdir -p "$run"
rm -f "$run/tuned.sock" "$run"/tuned.db*
export TUNED_SOCKET="$run/tuned.sock"
"$bin/tuned" serve --socket "$run/tuned.sock" --store "$run/tuned.db" --workers 2 >"$run/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$run/tuned.sock" ] && break; sleep 0.1; done

echo "== tunectl submit examples/pytorch/digits-cnn-pbt.toml --wait"
"$bin/tunectl" submit examples/pytorch/digits-cnn-pbt.toml --wait
echo "== tunectl results 1"
"$bin/tunectl" results 1
echo "== tunectl lineage 1"
"$bin/tunectl" lineage 1
kill -TERM $daemon && wait $daemon
trap 'rm -rf "$work"' EXIT
echo "examples/pytorch: OK"

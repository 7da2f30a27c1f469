#!/usr/bin/env bash
# tuned against its peers (not in CI; minutes to an hour): random search, Optuna TPE + median
# pruner and Ray Tune PBT, against tuned's own PBT with hypergradient descent, on the digits
# MLP at an equal budget of 32,000 training steps per run, several seeds each. Every method
# trains through `tuned train`, so the workload is identical and only the tuner differs
# (scripts/peers/compare.py says how each method spends its budget).
#
# Prints, per method: best final validation loss (mean ± sd over seeds), training steps spent
# until a trial first reached the best peer's final loss (mean over the seeds that reached
# it), and wall time. Figures measured on this machine: docs/PERFORMANCE.md, "Against the peers".
#
# Usage: scripts/compare-peers.sh [--seeds N] [--budget STEPS] [--methods a,b,…] [--json FILE]
# Environment: PEERS_VENV=DIR reuses a venv (default: a throwaway one, deleted at the end);
#              SCRATCH=DIR is swift's --scratch-path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

scratch=${SCRATCH:-.build}
echo "== building tuned (release, --scratch-path $scratch)"
swift build -c release --product tuned --scratch-path "$scratch" 2>&1 | grep -E 'error|Compiling tuned|Build' || true
tuned=$PWD/$scratch/release/tuned
[ -x "$tuned" ] || { echo "compare-peers: no tuned binary at $tuned (the build failed?)"; exit 1; }

venv=${PEERS_VENV:-}
if [ -z "$venv" ]; then
  venv=$(mktemp -d /tmp/tuned-peers-venv.XXXXXX)
  trap 'rm -rf "$venv"' EXIT
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "== installing optuna and ray[tune] into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q optuna "ray[tune]" || echo "compare-peers: installing the peers failed; the missing ones are skipped"
fi
"$venv/bin/python" -c 'import optuna, ray; print("optuna", optuna.__version__, "| ray", ray.__version__)' || true

# tuned's own side: a local daemon on a scratch socket and store.
run=$(mktemp -d /tmp/tuned-peers-run.XXXXXX)
"$tuned" serve --socket "$run/tuned.sock" --store "$run/tuned.db" --workers "$(nproc)" >"$run/daemon.log" 2>&1 &
daemon=$!
cleanup() {
  kill -TERM "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  rm -rf "$run"
  [ -n "${PEERS_VENV:-}" ] || rm -rf "$venv"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$run/tuned.sock" ] && break; sleep 0.1; done

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
"$venv/bin/python" scripts/peers/compare.py --tuned "$tuned" --socket "$run/tuned.sock" "$@"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

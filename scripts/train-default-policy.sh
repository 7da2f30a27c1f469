#!/usr/bin/env bash
# Trains the shipped recommendation policy, policies/default.json, reproducibly:
#   1. starts a private daemon (socket and store in a temporary folder),
#   2. tunes the built-in suite of scripts/policy_suite.py (28 tasks: softmax/logistic/linear
#      regression and MLPs on datasets/, noisy quadratic models) by random search,
#   3. fits the policy from the daemon's history (`tunectl policy fit`) and writes it, with its
#      provenance, to policies/default.json; keeps the store as policies/suite-store.db*
#      for scripts/eval-policy.sh (not committed);
#   4. re-embeds it in the binary (scripts/gen-default-policy.sh).
# Usage: scripts/train-default-policy.sh [--trials N] [--seed S] [--workers W]
# Environment: SCRATCH (swift --scratch-path, default .build), CONFIG (release|debug, default release).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

trials=30 seed=1 workers=2
while [ $# -gt 0 ]; do
    case "$1" in
    --trials) trials=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    *) echo "usage: $0 [--trials N] [--seed S] [--workers W]" >&2; exit 2 ;;
    esac
done
scratch=${SCRATCH:-.build}
config=${CONFIG:-release}
swift build -c "$config" --scratch-path "$scratch" --product tuned 2>&1 | grep -E 'error|Compiling|Build' | tail -1
swift build -c "$config" --scratch-path "$scratch" --product tunectl 2>&1 | grep -E 'error|Compiling|Build' | tail -1
bin=$scratch/$config

work=$(mktemp -d)
export TUNED_SOCKET=$work/tuned.sock
"$bin/tuned" serve --socket "$TUNED_SOCKET" --store "$work/store.db" --workers "$workers" >"$work/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$TUNED_SOCKET" ] && break; sleep 0.1; done

python3 scripts/policy_suite.py write "$work/suite" --trials "$trials" --seed "$seed" >"$work/files"
ids=()
while read -r f; do ids+=("$("$bin/tunectl" submit "$f")"); done <"$work/files"
echo "submitted ${#ids[@]} tasks × $trials trials"
start=$(date +%s)
# Poll the task list every 5 s (tolerating a busy daemon) until every task has ended.
while :; do
    sleep 5
    left=$("$bin/tunectl" --json list 2>/dev/null | python3 -c '
import json, sys
tasks = json.load(sys.stdin)
print(sum(1 for t in tasks if t["status"] not in ("completed", "failed", "cancelled")))' 2>/dev/null) || continue
    [ "$left" = 0 ] && break
done
echo "suite tuned in $(( $(date +%s) - start )) s"

"$bin/tunectl" policy fit
"$bin/tunectl" --json policy show >"$work/policy.json"
python3 - "$work/policy.json" "$trials" "$seed" <<'PY'
import json, subprocess, sys
doc = json.load(open(sys.argv[1]))["document"]
doc["name"] = "default"
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
doc["provenance"]["source"] = f"scripts/train-default-policy.sh --trials {sys.argv[2]} --seed {sys.argv[3]} (commit {commit})"
doc["provenance"]["note"] = ("Shipped default: fitted from the built-in suite of scripts/policy_suite.py "
    "(digits, breast_cancer, diabetes, NQM), random search per task; used while the store has no policy.")
json.dump(doc, open("policies/default.json", "w"), indent=2, sort_keys=True)
open("policies/default.json", "a").write("\n")
print("wrote policies/default.json:", len(doc["provenance"]["tasks"]), "tasks")
PY
kill -TERM $daemon; wait $daemon 2>/dev/null || true
for f in "$work"/store.db*; do cp "$f" "policies/suite-${f##*/}"; done
scripts/gen-default-policy.sh

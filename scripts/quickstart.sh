#!/usr/bin/env bash
# The main job, end to end on this machine: build tuned and tunectl, start a local daemon
# (socket and store in ./run), submit the bundled demo task (random search over five
# optimizers for the digits MLP, examples/digits-random.toml), watch it to the end, print
# the results, and stop the daemon. Then show that a checkpointed run resumes bit-identically.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh >/dev/null
source scripts/env.sh
echo "== building tuned and tunectl (release)"
swift build -c release --product tuned 2>&1 | grep -E 'error|Build' || true
swift build -c release --product tunectl 2>&1 | grep -E 'error|Build' || true
bin=.build/release
[ -x "$bin/tuned" ] && [ -x "$bin/tunectl" ] || { echo "build failed"; exit 1; }

run=$PWD/run
mkdir -p "$run"
rm -f "$run/tuned.sock" "$run/tuned.db" "$run/tuned.db-wal" "$run/tuned.db-shm"
export TUNED_SOCKET="$run/tuned.sock"
echo "== starting the daemon: tuned serve --socket $run/tuned.sock --store $run/tuned.db --workers 2"
"$bin/tuned" serve --socket "$run/tuned.sock" --store "$run/tuned.db" --workers 2 >"$run/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S "$run/tuned.sock" ] && break; sleep 0.1; done
"$bin/tunectl" daemon status

echo "== tunectl submit examples/digits-random.toml"
task=$("$bin/tunectl" submit examples/digits-random.toml)
echo "task $task"
echo "== tunectl watch $task"
"$bin/tunectl" watch "$task" | awk 'NR % 5 == 1 || /completed|failed|cancelled/'
echo "== tunectl results $task"
"$bin/tunectl" results "$task"

echo "== stopping the daemon (SIGTERM)"
kill -TERM $daemon && wait $daemon && echo "daemon exited cleanly"
trap - EXIT

echo "== stop and resume one configuration: 1000 steps, checkpoint, resume to 2000, compare"
work=$(mktemp -d)
workload='{"kind": "mlp", "dataset": "datasets/digits.csv", "hidden": [64]}'
config='{"optimizer": "adamw", "lr": 0.003, "weight_decay": 1e-4, "batch_size": 64}'
"$bin/tuned" train --workload "$workload" --config "$config" --steps 1000 --checkpoint "$work/ck" --quiet >/dev/null
resumed=$("$bin/tuned" train --workload "$workload" --config "$config" --steps 2000 --restore "$work/ck" --quiet)
straight=$("$bin/tuned" train --workload "$workload" --config "$config" --steps 2000 --quiet)
rm -rf "$work"
python3 - "$resumed" "$straight" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
same = all(a[k] == b[k] for k in ("val_loss", "train_loss", "val_accuracy"))
print(f"resumed  val_loss {a['val_loss']!r}\nstraight val_loss {b['val_loss']!r}\nbit-identical: {same}")
sys.exit(0 if same else 1)
PY

#!/usr/bin/env bash
# The main job, locally and today: build tuned, then train the digits MLP (64→64→10, a real
# dataset of 1,797 handwritten digits) with five optimizers — one of them with hypergradient
# descent adapting its learning rate — stop one run half-way and resume it from its
# checkpoint (bit-identical), and print a results table.
# (Once the daemon lands this becomes: start tuned, `tunectl submit`, watch, results.)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh >/dev/null
source scripts/env.sh
echo "== building tuned (release)"
swift build -c release --product tuned 2>&1 | grep -E 'error|warning: |Compiling tuned|Build' || true
tuned=.build/release/tuned
[ -x "$tuned" ] || { echo "build failed"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=${STEPS:-3000}
workload='{"kind": "mlp", "dataset": "datasets/digits.csv", "target": "target", "hidden": [64]}'

declare -a names configs
names+=("sgd");          configs+=('{"optimizer": "sgd", "lr": 0.1, "batch_size": 64}')
names+=("momentum");     configs+=('{"optimizer": "sgd", "lr": 0.03, "momentum": 0.9, "batch_size": 64}')
names+=("adamw");        configs+=('{"optimizer": "adamw", "lr": 0.003, "weight_decay": 1e-4, "batch_size": 64}')
names+=("lion");         configs+=('{"optimizer": "lion", "lr": 1e-4, "weight_decay": 1e-2, "batch_size": 64}')
names+=("sgd+HD lr=1e-3"); configs+=('{"optimizer": "sgd", "lr": 0.001, "hypergradient_beta": 0.001, "hypergradient_lr_max": 1.0, "batch_size": 64}')

echo "== training the digits MLP for $steps steps with each configuration"
printf '%-16s %10s %10s %10s %12s %10s\n' optimizer val_loss val_acc final_lr steps/s seconds
for i in "${!names[@]}"; do
  out=$("$tuned" train --workload "$workload" --config "${configs[$i]}" --steps "$steps" --quiet)
  python3 - "${names[$i]}" "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[2])
print(f"{sys.argv[1]:<16} {r['val_loss']:10.4f} {r['val_accuracy']:10.4f} {r['lr']:10.3g} {r['steps_per_second']:12.0f} {r['seconds']:10.2f}")
PY
done

echo "== stop and resume: adamw for $((steps / 2)) steps, checkpoint, then resume to $steps"
"$tuned" train --workload "$workload" --config "${configs[2]}" --steps $((steps / 2)) --checkpoint "$work/ck" --quiet >/dev/null
resumed=$("$tuned" train --workload "$workload" --config "${configs[2]}" --steps "$steps" --restore "$work/ck" --quiet)
straight=$("$tuned" train --workload "$workload" --config "${configs[2]}" --steps "$steps" --quiet)
python3 - "$resumed" "$straight" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
same = all(a[k] == b[k] for k in ("val_loss", "train_loss", "val_accuracy"))
print(f"resumed val_loss {a['val_loss']!r}\nstraight val_loss {b['val_loss']!r}\nbit-identical: {same}")
sys.exit(0 if same else 1)
PY

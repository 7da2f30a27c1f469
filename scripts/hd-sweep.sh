#!/usr/bin/env bash
# Hypergradient descent's β_h, additive against multiplicative (issue 18, item 3; not in CI,
# a few minutes): final validation loss after a fixed budget for SGD and Adam on two
# workloads — the digits MLP (datasets/digits.csv, 64 hidden) and a noisy quadratic model
# (nqm, 1,000 dimensions, curvatures 1/i, batch 16) — with no HD, the additive rule (the
# reference ports, α + β·h) and the multiplicative one (α·(1 − β·cos), Baydin et al. 2018
# §2.3) at β_h ∈ {1e-4, 1e-3, 1e-2, 1e-1} (and 0.02, the multiplicative default), each from
# the same initial lr (SGD 0.01, Adam 0.001: untuned defaults, as a new user would start),
# with HD's default range [1e-6·lr, 10·lr] or, with --bounds LO,HI, the range a task's
# `[search] lr` would give HD under `[strategy] hypergradient`. Every run is `tuned train`.
#
# Prints one table per workload (mean final val_loss over the seeds, "div" when a run
# diverged; the final lr of seed 0 in brackets) and, per rule and β_h, its worst and geometric
# mean ratio to the best cell of each row (workload × optimizer; 1.00 = the best β of either
# rule, or no HD) — the question being whether one β works for both optimizers on both
# workloads — and how many rows it beats no HD in; writes every run to JSON.
# Figures measured on this machine: docs/PERFORMANCE.md, "Hypergradient β_h: additive against
# multiplicative".
#
# With --pbt the same question inside PBT instead: scripts/peers/digits-pbt-hd.toml (8 members
# × 4,000 steps, synchronous, lr searched over [1e-4, 1], so HD's range is that) and the same
# task on the NQM, submitted to a scratch daemon with each `[strategy] hypergradient` variant;
# prints the best final val_loss (mean ± sd over the seeds) per variant.
#
# Usage: scripts/hd-sweep.sh [--seeds N] [--steps STEPS] [--bounds LO,HI] [--pbt] [--json FILE]
# Environment: SCRATCH=DIR is swift's --scratch-path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

seeds=3 steps=3000 json=hd-sweep.json bounds= pbt=
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --bounds) bounds=$2; shift 2 ;;
    --pbt) pbt=1; shift ;;
    *) echo "usage: scripts/hd-sweep.sh [--seeds N] [--steps STEPS] [--bounds LO,HI] [--pbt] [--json FILE]" >&2; exit 2 ;;
  esac
done

scratch=${SCRATCH:-.build}
echo "== building tuned (release, --scratch-path $scratch)" >&2
swift build -c release --product tuned --scratch-path "$scratch" 2>&1 | grep -E 'error' >&2 || true
tuned=$PWD/$scratch/release/tuned
[ -x "$tuned" ] || { echo "hd-sweep: no tuned binary at $tuned (the build failed?)" >&2; exit 1; }

if [ -n "$pbt" ]; then
  run=$(mktemp -d /tmp/tuned-hd-sweep.XXXXXX)
  "$tuned" serve --socket "$run/tuned.sock" --store "$run/tuned.db" --workers "$(nproc)" >"$run/daemon.log" 2>&1 &
  daemon=$!
  trap 'kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$run"' EXIT
  for _ in $(seq 100); do [ -S "$run/tuned.sock" ] && break; sleep 0.1; done
  echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
  SOCK=$run/tuned.sock SEEDS=$seeds JSON=$json python3 - <<'EOF'
import json, os, statistics, sys, time
sys.path.insert(0, os.path.join("scripts", "peers"))
from compare import Daemon

task_file = os.path.abspath(os.path.join("scripts", "peers", "digits-pbt-hd.toml"))
digits = open(task_file).read()
assert "hypergradient = { beta = 1e-3 }" in digits and "seed = 0" in digits
nqm = digits.replace('kind = "mlp"\ndataset = "../../datasets/digits.csv"\ntarget = "target"\nhidden = [64]\nbatch_size = 64',
                     'kind = "nqm"\ndimension = 1000\nbatch_size = 16')
assert nqm != digits
variants = {"no HD": None, "additive 1e-4": "{ beta = 1e-4 }", "additive 1e-3": "{ beta = 1e-3 }",
            "additive 1e-2": "{ beta = 1e-2 }", "multiplicative 1e-4": '{ kind = "multiplicative", beta = 1e-4 }',
            "multiplicative 1e-3": '{ kind = "multiplicative", beta = 1e-3 }',
            "multiplicative 0.02": '{ kind = "multiplicative" }', "multiplicative 0.1": '{ kind = "multiplicative", beta = 0.1 }'}
seeds, daemon, t0 = int(os.environ["SEEDS"]), Daemon(os.environ["SOCK"]), time.time()
out = {}
for wname, base in [("digits-mlp64", digits), ("nqm-1000", nqm)]:
    out[wname] = {}
    for name, hd in variants.items():
        bests = []
        for seed in range(seeds):
            line = "" if hd is None else f"hypergradient = {hd}"
            text = base.replace("hypergradient = { beta = 1e-3 }", line).replace("seed = 0", f"seed = {seed}")
            task = daemon.call("task.submit", {"text": text, "format": "toml", "filename": task_file,
                                               "base_dir": os.path.dirname(task_file)})["task_id"]
            while daemon.call("task.get", {"task_id": task})["status"] in ("queued", "running"):
                time.sleep(0.5)
            curves = daemon.call("task.curves", {"task_id": task, "metrics": ["val_loss"], "max_points": 100000})
            finals = [s["values"][-1] for t in curves["trials"] for s in t["series"]
                      if t["status"] == "completed" and s["values"] and isinstance(s["values"][-1], (int, float))]
            bests.append(min(finals) if finals else float("inf"))
        out[wname][name] = bests
        sd = statistics.stdev(bests) if len(bests) > 1 else 0.0
        print(f"{wname:<13} {name:<20} best final val_loss {statistics.mean(bests):.4g} ± {sd:.2g}  "
              f"({', '.join(f'{b:.4g}' for b in bests)})", flush=True)
with open(os.environ["JSON"], "w") as f:
    json.dump({"pbt": True, "seeds": seeds, "seconds": round(time.time() - t0, 1), "best_final_val_loss": out}, f, indent=1)
print(f"{time.time() - t0:.0f} s; every run in {os.environ['JSON']}")
EOF
  echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

TUNED=$tuned SEEDS=$seeds STEPS=$steps JSON=$json BOUNDS=$bounds python3 - <<'EOF'
import json, math, os, statistics, subprocess, sys, time

tuned, seeds, steps, out = os.environ["TUNED"], int(os.environ["SEEDS"]), int(os.environ["STEPS"]), os.environ["JSON"]
bounds = [float(x) for x in os.environ["BOUNDS"].split(",")] if os.environ["BOUNDS"] else None
workloads = {
    "digits-mlp64": ({"kind": "mlp", "dataset": "datasets/digits.csv", "target": "target", "hidden": [64]}, 64),
    "nqm-1000": ({"kind": "nqm", "dimension": 1000}, 16),
}
optimizers = {"sgd": 0.01, "adam": 0.001}
betas = {"additive": [1e-4, 1e-3, 1e-2, 1e-1], "multiplicative": [1e-4, 1e-3, 1e-2, 0.02, 1e-1]}
cells = [("none", None)] + [(k, b) for k in betas for b in betas[k]]

def run(workload, batch, opt, lr, kind, beta, seed):
    config = {"optimizer": opt, "lr": lr, "batch_size": batch}
    if kind != "none":
        config.update({"hypergradient_kind": kind, "hypergradient_beta": beta})
        if bounds:
            config.update({"hypergradient_lr_min": bounds[0], "hypergradient_lr_max": bounds[1]})
    r = subprocess.run([tuned, "train", "--workload", json.dumps(workload), "--config", json.dumps(config),
                        "--steps", str(steps), "--seed", str(seed), "--eval-every", str(steps), "--quiet"],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        sys.exit(f"hd-sweep: tuned train failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])

runs, t0 = [], time.time()
for wname, (workload, batch) in workloads.items():
    for opt, lr in optimizers.items():
        for kind, beta in cells:
            for seed in range(seeds):
                m = run(workload, batch, opt, lr, kind, beta, seed)
                runs.append({"workload": wname, "optimizer": opt, "lr0": lr, "rule": kind, "beta": beta, "seed": seed,
                             "steps": steps, "val_loss": m.get("val_loss"), "final_lr": m.get("lr"),
                             "diverged": bool(m.get("diverged"))})

def cell(w, o, k, b):
    rs = [r for r in runs if (r["workload"], r["optimizer"], r["rule"], r["beta"]) == (w, o, k, b)]
    if any(r["diverged"] or r["val_loss"] is None for r in rs):
        return None, rs
    return statistics.mean(r["val_loss"] for r in rs), rs

def show(v):
    return "div" if v is None else f"{v:.4g}"

summary = {}
for w in workloads:
    rng = f"[{bounds[0]:g}, {bounds[1]:g}]" if bounds else "[1e-6·lr0, 10·lr0]"
    print(f"\n{w}: final val_loss after {steps} steps, mean of {seeds} seed(s) (final lr of seed 0 in brackets), HD range {rng}")
    header = ["optimizer (lr0)", "no HD"] + [f"{k[:4]} {b:g}" for k, b in cells[1:]]
    print(" | ".join(header))
    for o, lr in optimizers.items():
        row = [f"{o} ({lr:g})"]
        for k, b in cells:
            v, rs = cell(w, o, k, b)
            row.append(f"{show(v)} [{rs[0]['final_lr']:.3g}]")
        print(" | ".join(row))

# One β for everything? Per rule and β: the ratio of its mean to the best cell of each row
# (any rule, any β, or no HD), worst and geometric mean over the rows; a divergence is ∞.
verdict, rows = {}, [(w, o) for w in workloads for o in optimizers]
print(f"\nRatio to the best cell of each row ({len(rows)} rows: workload × optimizer), and rows where it beats no HD:")
for k in betas:
    verdict[k] = {}
    for b in betas[k]:
        ratios, beats = [], 0
        for w, o in rows:
            vals = [cell(w, o, kk, bb)[0] for kk, bb in cells]
            best = min(v for v in vals if v is not None)
            v, none = cell(w, o, k, b)[0], cell(w, o, "none", None)[0]
            ratios.append(float("inf") if v is None else v / best)
            beats += v is not None and (none is None or v < none)
        geo = math.exp(statistics.mean(math.log(r) for r in ratios)) if all(math.isfinite(r) for r in ratios) else float("inf")
        verdict[k][f"{b:g}"] = {"ratios": dict(zip([f"{w}/{o}" for w, o in rows], ratios)), "worst": max(ratios),
                                "geomean": geo, "beats_no_hd": beats}
        print(f"  {k:>14} β={b:<6g} worst {max(ratios):.2f}  geomean {geo:.2f}  beats no HD in {beats}/{len(rows)}  ("
              + ", ".join(f"{r:.2f}" for r in ratios) + ")")
with open(out, "w") as f:
    json.dump({"steps": steps, "seeds": seeds, "bounds": bounds, "seconds": round(time.time() - t0, 1), "runs": runs, "verdict": verdict}, f, indent=1)
print(f"\n{len(runs)} runs in {time.time() - t0:.0f} s; every run in {out}")
EOF

#!/usr/bin/env python3
"""Leave-one-task-out evaluation of `recommend` on the policy suite (scripts/eval-policy.sh).

For every task i of the suite store (policies/suite-store.db, written by
scripts/train-default-policy.sh):
  - refit the policy without task i (`tunectl policy fit --task ...`, the daemon's own fitter),
  - ask `tunectl recommend` with task i's recorded features, train that configuration as is
    (`tuned train`, same workload, steps, schedule and seed as the suite task): L_rec;
  - baseline 1, AdamW lr 1e-3 with torch's default betas and weight decay, same schedule: L_default;
  - baseline 2, the single best global configuration chosen without task i: among the best
    configurations of the other tasks, the one with the lowest mean normalised regret on the
    other tasks (each candidate trained on every task once): L_global.
Normalised regret = (L − L_best) / (L_default − L_best), L_best = the best loss random search
found for task i. Prints a Markdown table and the medians.

usage: eval_policy.py BIN_DIR STORE_DB
"""
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_suite  # noqa: E402

bin_dir, store = sys.argv[1], sys.argv[2]
tuned, tunectl = os.path.join(bin_dir, "tuned"), os.path.join(bin_dir, "tunectl")
suite = {name: (w, steps) for name, w, steps in policy_suite.suite()}

db = sqlite3.connect(store)
tasks = []
for tid, name, seed, features in db.execute(
        "SELECT id, name, seed, features_json FROM tasks WHERE status = 'succeeded' AND features_json IS NOT NULL ORDER BY id"):
    if name not in suite:
        continue
    best = None
    for (config_json, metrics_json) in db.execute(
            "SELECT config_json, final_metrics_json FROM trials WHERE task_id = ? AND status = 'succeeded'", (tid,)):
        loss = (json.loads(metrics_json or "{}") or {}).get("val_loss")
        if loss is not None and (best is None or loss < best[0]):
            best = (loss, json.loads(config_json))
    if best:
        tasks.append({"id": tid, "name": name, "seed": seed, "features": json.loads(features), "best": best[0],
                      "best_config": best[1]})

cache = {}
def train(t, config):
    name = t["name"]
    key = (name, json.dumps(config, sort_keys=True))
    if key not in cache:
        w, steps = suite[name]
        c = dict(config)
        c.pop("batch_size", None)  # the suite fixes it in the workload
        c["schedule"] = policy_suite.schedule(steps)
        r = subprocess.run([tuned, "train", "--workload", json.dumps(w), "--config", json.dumps(c),
                            "--steps", str(steps), "--seed", str(t["seed"]), "--quiet"], capture_output=True, text=True)
        try:
            loss = json.loads(r.stdout.strip().splitlines()[-1])["val_loss"]
        except Exception:
            loss = None
        cache[key] = loss if isinstance(loss, (int, float)) else float("inf")
    return cache[key]

def ctl(*args):
    r = subprocess.run([tunectl, "--json", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tunectl {' '.join(args)}: {r.stderr.strip()}")
    return json.loads(r.stdout)

default = {"optimizer": "adamw", "lr": 1e-3}
for t in tasks:
    t["default"] = train(t, default)
def regret(t, loss):
    span = t["default"] - t["best"]
    if span <= 0:
        return None
    return (loss - t["best"]) / span

# Baseline 2: candidates = every task's best configuration; each trained on every task.
candidates = [t["best_config"] for t in tasks]
matrix = [[regret(t, train(t, c)) for t in tasks] for c in candidates]

rows = []
work = tempfile.mkdtemp()
for i, t in enumerate(tasks):
    others = [u["id"] for u in tasks if u["id"] != t["id"]]
    fit_args = ["policy", "fit"]
    for o in others:
        fit_args += ["--task", str(o)]
    ctl(*fit_args)
    path = os.path.join(work, f"{t['name']}.json")
    json.dump({k: v for k, v in t["features"].items() if v is not None}, open(path, "w"))
    rec = ctl("recommend", "--task-features", path)
    option = rec["options"][0]
    loss_rec = train(t, option["config"])
    # Global best without task i: candidates from other tasks, scored on other tasks.
    best_c, best_score = None, None
    for k, c in enumerate(candidates):
        if k == i:
            continue
        scores = [matrix[k][j] for j in range(len(tasks)) if j != i and matrix[k][j] is not None]
        score = statistics.mean(min(s, 10.0) for s in scores) if scores else None
        if score is not None and (best_score is None or score < best_score):
            best_c, best_score = c, score
    loss_global = train(t, best_c)
    in_band = option["loss_low"] <= loss_rec <= option["loss_high"]
    rows.append((t, option, loss_rec, loss_global, in_band))

def fmt(x):
    return "—" if x is None else ("inf" if x == float("inf") else f"{x:.3g}")
print("| task | best (search) | AdamW 1e-3 | recommended | optimizer | in band | regret rec | regret global |")
print("|---|---|---|---|---|---|---|---|")
regrets_rec, regrets_glob = [], []
for t, option, lr, lg, band in rows:
    rr, rg = regret(t, lr), regret(t, lg)
    if rr is not None:
        regrets_rec.append(rr)
        regrets_glob.append(rg)
    print(f"| {t['name']} | {fmt(t['best'])} | {fmt(t['default'])} | {fmt(lr)} | {option['optimizer']} | "
          f"{'yes' if band else 'no'} | {fmt(rr)} | {fmt(rg)} |")
print()
print(f"tasks: {len(rows)} ({len(regrets_rec)} where AdamW 1e-3 is worse than the search's best, so regret is defined)")
if regrets_rec:
    print(f"median LOTO normalised regret: recommend {statistics.median(regrets_rec):.3f}, "
          f"single best global configuration {statistics.median(regrets_glob):.3f}, AdamW lr 1e-3 1.000 (by definition)")
    print(f"mean (regret capped at 10): recommend {statistics.mean(min(r, 10) for r in regrets_rec):.3f}, "
          f"global {statistics.mean(min(r, 10) for r in regrets_glob):.3f}")
print(f"recommended loss inside its predicted band: {sum(1 for r in rows if r[4])}/{len(rows)}")

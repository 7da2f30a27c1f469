#!/usr/bin/env python3
"""The built-in suite the shipped recommendation policy is trained and evaluated on.

28 tasks: softmax/logistic/linear regression and MLPs of several widths and depths on the
bundled datasets (digits, breast_cancer, diabetes), and noisy quadratic models (NQM) of two
sizes at several batch sizes. Each task is tuned by random search over optimizers × lr ×
weight decay × betas/momentum at a fixed batch size, with the warm-up + cosine schedule that
`recommend` prescribes for the task's step budget (steps/20 warm-up, floor 0.1).

  policy_suite.py write DIR [--trials N] [--seed S]    task files for tuning the suite
  policy_suite.py fixed DIR NAME CONFIG_JSON           one task file training CONFIG as is
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "datasets")

# (name, workload table, batch size, steps)
def suite():
    t = []
    def dense(name, dataset, kind, hidden, batch, steps, activation=None, task=None):
        w = {"kind": kind, "dataset": os.path.join(DATA, dataset + ".csv"), "target": "target", "batch_size": batch}
        if kind == "mlp":
            w["hidden"] = hidden
        if activation:
            w["activation"] = activation
        t.append((name, w, steps))
    dense("digits-softmax", "digits", "softmax", None, 64, 400)
    dense("digits-mlp16", "digits", "mlp", [16], 64, 400)
    dense("digits-mlp32", "digits", "mlp", [32], 32, 600)
    dense("digits-mlp64", "digits", "mlp", [64], 64, 400)
    dense("digits-mlp128", "digits", "mlp", [128], 128, 400)
    dense("digits-mlp32x2", "digits", "mlp", [32, 32], 64, 600)
    dense("digits-mlp64x2", "digits", "mlp", [64, 64], 32, 400)
    dense("digits-mlp64-tanh", "digits", "mlp", [64], 64, 800, activation="tanh")
    dense("cancer-logreg", "breast_cancer", "logreg", None, 32, 300)
    dense("cancer-softmax", "breast_cancer", "softmax", None, 64, 400)
    dense("cancer-mlp8", "breast_cancer", "mlp", [8], 32, 300)
    dense("cancer-mlp16", "breast_cancer", "mlp", [16], 64, 400)
    dense("cancer-mlp32", "breast_cancer", "mlp", [32], 16, 300)
    dense("cancer-mlp16x2", "breast_cancer", "mlp", [16, 16], 32, 600)
    dense("diabetes-linreg", "diabetes", "linreg", None, 32, 300)
    dense("diabetes-mlp8", "diabetes", "mlp", [8], 32, 400)
    dense("diabetes-mlp16", "diabetes", "mlp", [16], 16, 300)
    dense("diabetes-mlp32", "diabetes", "mlp", [32], 64, 600)
    dense("diabetes-mlp16x2", "diabetes", "mlp", [16, 16], 32, 400)
    dense("diabetes-mlp32x2-tanh", "diabetes", "mlp", [32, 32], 32, 600, activation="tanh")
    for dim, batch, steps in [(100, 1, 300), (100, 4, 300), (100, 16, 400), (100, 64, 600),
                              (1000, 1, 400), (1000, 8, 400), (1000, 32, 600), (1000, 128, 600)]:
        t.append((f"nqm{dim}-b{batch}", {"kind": "nqm", "dimension": dim, "batch_size": batch}, steps))
    return t


def optimizers(workload):
    base = ["sgd", "momentum", "adamw", "lion"]
    return base + (["muon"] if workload["kind"] != "nqm" else [])


def schedule(steps):
    return {"kind": "warmup_cosine", "warmup_steps": max(1, steps // 20), "total_steps": steps, "floor": 0.1}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def task_file(name, workload, steps, search, trials, seed, strategy="random"):
    lines = [f"name = {json.dumps(name)}", "", "[workload]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in workload.items()]
    lines += ["", "[search]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in search.items()]
    lines += ["", "[strategy]", f'kind = "{strategy}"', f"trials = {trials}", "",
              "[budget]", f"steps = {steps}", f"seed = {seed}", "",
              "[objective]", 'metric = "val_loss"', 'mode = "min"', ""]
    return "\n".join(lines)


def tuning_search(workload, steps):
    return {
        "optimizer": optimizers(workload),
        "lr": {"log_uniform": [1e-4, 1.0]},
        "weight_decay": {"log_uniform": [1e-6, 1e-2]},
        "beta1": {"uniform": [0.8, 0.95]},
        "momentum": {"uniform": [0.8, 0.95]},
        "schedule": schedule(steps),
    }


def fixed_search(config):
    """A search space that is exactly one configuration."""
    s = {}
    for k, v in config.items():
        s[k] = [v] if k == "optimizer" else v
    return s


def main(argv):
    if len(argv) >= 2 and argv[1] == "write":
        out = argv[2]
        trials = int(argv[argv.index("--trials") + 1]) if "--trials" in argv else 30
        seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
        os.makedirs(out, exist_ok=True)
        for name, w, steps in suite():
            with open(os.path.join(out, name + ".toml"), "w") as f:
                f.write(task_file(name, w, steps, tuning_search(w, steps), trials, seed))
            print(os.path.join(out, name + ".toml"))
    elif len(argv) == 5 and argv[1] == "fixed":
        out, name, config = argv[2], argv[3], json.loads(argv[4])
        table = {n: (w, s) for n, w, s in suite()}
        w, steps = table[name]
        config = {k: v for k, v in config.items() if k != "batch_size"}  # the suite fixes it in [workload]
        path = os.path.join(out, f"{name}-fixed.toml")
        with open(path, "w") as f:
            f.write(task_file(name + "-fixed", w, steps, fixed_search(config), 1, 1))
        print(path)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

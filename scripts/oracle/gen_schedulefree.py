"""Reference vectors for schedule-free AdamW and SGD, made with the real `schedulefree`
package (Meta's implementation, PyPI `schedulefree`), in the case format of
Tests/TunedOptimTests/Fixtures/oracle/FORMAT.md plus its schedule-free fields.

Usage (versions are checked, not assumed):
  python3 -m venv --system-site-packages /tmp/venv-sf && /tmp/venv-sf/bin/pip install schedulefree==1.4.1
  /tmp/venv-sf/bin/python scripts/oracle/gen_schedulefree.py            # public + held-out cases
  /tmp/venv-sf/bin/python scripts/oracle/gen_schedulefree.py --check-public

Each case runs `opt.train()` before step 1 (the library refuses a step in eval mode), then
`p.grad = g; opt.step()` per step with foreach=False. After the steps listed in
`eval_after_steps` it calls `opt.eval()`, records the parameter (x, the evaluation point) in
`expected_eval`, and calls `opt.train()` again, exactly as a training loop that evaluates
does; the eval/train round trip rounds y, and the later `expected` rows include that.
"""
import json
import os
import sys

import numpy as np
import torch
import schedulefree
from importlib.metadata import version

SF_VERSION = "1.4.1"
TORCH_VERSION = "2.15.0"
assert version("schedulefree") == SF_VERSION, version("schedulefree")
assert torch.__version__.startswith(TORCH_VERSION), torch.__version__
torch.set_default_dtype(torch.float64)

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TunedOptimTests", "Fixtures")
PUBLIC = os.path.join(FIX, "oracle")
HELDOUT = os.path.join(FIX, "heldout")

CLASSES = {"adamw_schedulefree": schedulefree.AdamWScheduleFree, "sgd_schedulefree": schedulefree.SGDScheduleFree}
CALLABLE = {"adamw_schedulefree": "schedulefree.AdamWScheduleFree", "sgd_schedulefree": "schedulefree.SGDScheduleFree"}


def jsonable(x):
    if isinstance(x, (tuple, list)):
        return [jsonable(v) for v in x]
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, torch.Tensor):
        return x.item()
    return x


def make_data(shape, seed, zero_step, large_step, scale, steps):
    rng = np.random.default_rng(seed)
    initial = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(steps)]
    grads[zero_step] = np.zeros(shape)
    grads[large_step] = grads[large_step] * scale
    data = {"generator": "numpy.random.default_rng(seed).standard_normal", "seed": seed,
            "zero_gradient_step": zero_step, "large_gradient_step": large_step,
            "large_gradient_scale": float(scale)}
    return initial, grads, data


def run(opt, hp, initial, grads, eval_after, foreach):
    p = torch.tensor(initial, dtype=torch.float64)
    o = CLASSES[opt]([p], foreach=foreach, **hp)
    o.train()
    out, ev = [], []
    for i, g in enumerate(grads):
        p.grad = torch.tensor(g, dtype=torch.float64)
        o.step()
        out.append(p.detach().clone().reshape(-1).tolist())
        if i + 1 in eval_after:
            o.eval()
            ev.append(p.detach().clone().reshape(-1).tolist())
            o.train()
    return o, out, ev


def make_case(case, opt, hp, shape, seed, zero, large, scale, eval_after, steps=8):
    initial, grads, data = make_data(shape, seed, zero, large, scale, steps)
    o, expected, ev = run(opt, hp, initial, grads, eval_after, foreach=False)
    _, fe, fev = run(opt, hp, initial, grads, eval_after, foreach=True)
    g = {k: v for k, v in o.param_groups[0].items() if k != "params"}
    d = {
        "optimizer": opt,
        "reference": f"schedulefree {SF_VERSION} {CALLABLE[opt]} (on torch {TORCH_VERSION}, foreach=False)",
        "hyperparameters": jsonable(hp),
        "case": case,
        "library": "schedulefree",
        "param_shape": list(shape),
        "initial": initial.reshape(-1).tolist(),
        "steps": steps,
        "gradients": [x.reshape(-1).tolist() for x in grads],
        "expected": expected,
        "eval_after_steps": list(eval_after),
        "expected_eval": ev,
        "data": data,
        "resolved_hyperparameters": jsonable(g),
        "crosscheck": {"foreach_max_abs_diff": float(np.max(np.abs(np.array(fe) - np.array(expected)))),
                       "foreach_eval_max_abs_diff": float(np.max(np.abs(np.array(fev) - np.array(ev)))) if ev else 0.0},
        "notes": ["resolved_hyperparameters is param_groups[0] after the last step (k, weight_sum, lr_max, "
                  "scheduled_lr are the library's running group state; train_mode is after the final train())."],
        "dtype": "float64",
    }
    return d


A, S = "adamw_schedulefree", "sgd_schedulefree"
# (case, optimizer, hyperparameters, shape, seed, zero step, large step, scale, eval after steps)
PUBLIC_CASES = [
    ("schedulefree_adamw_default", A, {}, [4, 3], 3101, 3, 5, 1e3, [2, 5, 8]),
    ("schedulefree_adamw_warmup_wd", A, {"lr": 0.01, "weight_decay": 0.05, "warmup_steps": 4}, [4, 3], 3102, 3, 5, 1e3, [3, 6]),
    ("schedulefree_adamw_r_power_betas", A, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "r": 1.0, "weight_lr_power": 1.0, "warmup_steps": 2}, [3, 4], 3103, 3, 5, 1e3, [1, 4, 7]),
    ("schedulefree_sgd_default", S, {"lr": 0.1}, [4, 3], 3111, 3, 5, 1e3, [2, 5, 8]),
    ("schedulefree_sgd_warmup_wd_mom", S, {"lr": 0.05, "momentum": 0.7, "weight_decay": 0.01, "warmup_steps": 3, "r": 0.5}, [3, 4], 3112, 3, 5, 1e3, [4, 8]),
]
HELDOUT_CASES = [
    ("schedulefree_adamw_7x5_wlp0", A, {"lr": 0.005, "weight_lr_power": 0.0, "betas": (0.95, 0.9)}, [7, 5], 3201, 0, 6, 1e4, [3, 8]),
    ("schedulefree_adamw_16_warm10", A, {"lr": 0.03, "warmup_steps": 10, "r": 2.0, "weight_decay": 0.2}, [16], 3202, 5, 1, 2e3, [1, 2, 6]),
    ("schedulefree_adamw_234_beta1_0p5", A, {"lr": 0.01, "betas": (0.5, 0.999), "eps": 1e-4}, [2, 3, 4], 3203, 6, 2, 1e3, [4, 5]),
    ("schedulefree_sgd_5x7_mom0p95", S, {"lr": 0.02, "momentum": 0.95, "warmup_steps": 5, "weight_lr_power": 1.5}, [5, 7], 3211, 1, 7, 1e3, [2, 7]),
    ("schedulefree_sgd_1x9_mom0p3_wd", S, {"lr": 0.3, "momentum": 0.3, "weight_decay": 0.1, "r": 1.0}, [1, 9], 3212, 7, 3, 5e3, [1, 3, 5, 8]),
    ("schedulefree_sgd_16_defaults", S, {}, [16], 3213, 4, 0, 1e3, [8]),
]


def dump(d, path):
    with open(path, "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")


def main():
    if "--check-public" in sys.argv:
        for row in PUBLIC_CASES:
            pub = json.load(open(os.path.join(PUBLIC, row[0] + ".json")))
            mine = make_case(*row)
            print(row[0], "identical" if mine == pub else "DIFFERENT")
        return
    os.makedirs(HELDOUT, exist_ok=True)
    for out, rows in ((PUBLIC, PUBLIC_CASES), (HELDOUT, HELDOUT_CASES)):
        for row in rows:
            dump(make_case(*row), os.path.join(out, row[0] + ".json"))
        print(f"wrote {len(rows)} cases to {out}")
    print(f"schedulefree {version('schedulefree')}, torch {torch.__version__}")


if __name__ == "__main__":
    main()

"""Reference vectors for Adam-mini, made with the real `adam-mini` package (zyushun/Adam-mini,
PyPI `adam-mini`), in the case format of Tests/TunedOptimTests/Fixtures/oracle/FORMAT.md plus
`param_name` (the tensor's name in `named_parameters`, which selects Adam-mini's partition).

Usage (versions are checked, not assumed):
  python3 -m venv --system-site-packages /tmp/venv-am && /tmp/venv-am/bin/pip install adam-mini==1.1.1
  /tmp/venv-am/bin/python scripts/oracle/gen_adam_mini.py             # public + held-out cases
  /tmp/venv-am/bin/python scripts/oracle/gen_adam_mini.py --check-public

Each case is one named float64 tensor: `Adam_mini([(param_name, p)], **hp)`, then
`p.grad = g; opt.step()` per step. The names cover the partitions that apply to a dense MLP
(`mlp.*.weight`: one v per output neuron; `*.bias`: plain Adam, no weight decay; an unmatched
name such as `fc.weight`: one v for the whole tensor; `norm`/`ln` names: no weight decay), and
the query/key head partition (`q_proj.weight` with dim and n_heads), which only needs the name.
"""
import json
import os
import sys

import numpy as np
import torch
from importlib.metadata import version
from adam_mini import Adam_mini

AM_VERSION = "1.1.1"
TORCH_VERSION = "2.15.0"
assert version("adam-mini") == AM_VERSION, version("adam-mini")
assert torch.__version__.startswith(TORCH_VERSION), torch.__version__
assert not torch.cuda.is_available() or torch.cuda.device_count() == 0 or True
torch.set_default_dtype(torch.float64)

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TunedOptimTests", "Fixtures")
PUBLIC = os.path.join(FIX, "oracle")
HELDOUT = os.path.join(FIX, "heldout")


def jsonable(x):
    if isinstance(x, (tuple, list)):
        return [jsonable(v) for v in x]
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, torch.Tensor):
        return x.item()
    return x


def make_data(shape, seed, zero_step, large_step, scale, steps=8):
    rng = np.random.default_rng(seed)
    initial = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(steps)]
    grads[zero_step] = np.zeros(shape)
    grads[large_step] = grads[large_step] * scale
    data = {"generator": "numpy.random.default_rng(seed).standard_normal", "seed": seed,
            "zero_gradient_step": zero_step, "large_gradient_step": large_step,
            "large_gradient_scale": float(scale)}
    return initial, grads, data


def partition(o, name):
    name = name.lower()
    if any(n in name for n in o.adam_block_names):
        return "adam (one v per element)"
    if any(n in name for n in o.wqk_names):
        return f"heads (one v per {o.head_numel} elements)"
    if any(any(n in name for n in s) for s in (o.embd_names, o.output_names, o.wv_names, o.mlp_names, o.attn_proj_names)):
        return "neurons (one v per row)"
    return "whole tensor (one v)"


def make_case(case, name, hp, shape, seed, zero, large, scale):
    initial, grads, data = make_data(shape, seed, zero, large, scale)
    p = torch.nn.Parameter(torch.tensor(initial, dtype=torch.float64))
    o = Adam_mini([(name, p)], verbose=False, **hp)
    expected = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        o.step()
        expected.append(p.detach().clone().reshape(-1).tolist())
    st = o.state[p]
    v = st["vmean"] if "vmean" in st else st["v"]
    g0 = {k: v2 for k, v2 in o.param_groups[0].items() if k not in ("params",)}
    return {
        "optimizer": "adam_mini",
        "reference": f"adam-mini {AM_VERSION} adam_mini.Adam_mini (on torch {TORCH_VERSION}, CPU, world_size 0)",
        "hyperparameters": jsonable(hp),
        "case": case,
        "library": "adam_mini",
        "param_name": name,
        "param_shape": list(shape),
        "initial": initial.reshape(-1).tolist(),
        "steps": 8,
        "gradients": [x.reshape(-1).tolist() for x in grads],
        "expected": expected,
        "data": data,
        "resolved_hyperparameters": jsonable(dict(g0, dim=o.dim, n_heads=o.n_heads, n_kv_heads=o.n_kv_heads)),
        "partition": partition(o, name),
        "second_moment_values": int(v.numel()),
        "notes": ["Called as Adam_mini([(param_name, p)], verbose=False, **hyperparameters); verbose only prints."],
        "dtype": "float64",
    }


# (case, param_name, hyperparameters, shape, seed, zero step, large step, scale)
PUBLIC_CASES = [
    ("adammini_mlp_weight_neurons", "mlp.0.weight", {"lr": 0.01}, [4, 3], 3301, 3, 5, 1e3),
    ("adammini_mlp_weight_wd_betas", "mlp.2.weight", {"lr": 0.02, "weight_decay": 0.1, "betas": (0.8, 0.95), "eps": 1e-6}, [3, 4], 3302, 3, 5, 1e3),
    ("adammini_bias_adam", "mlp.0.bias", {"lr": 0.01, "weight_decay": 0.1}, [6], 3303, 3, 5, 1e3),
    ("adammini_unnamed_whole_tensor", "fc.weight", {"lr": 0.01, "weight_decay": 0.05}, [4, 3], 3304, 3, 5, 1e3),
    ("adammini_qproj_heads", "layers.0.attn.q_proj.weight", {"lr": 0.01, "dim": 4, "n_heads": 2}, [4, 4], 3305, 3, 5, 1e3),
]
HELDOUT_CASES = [
    ("adammini_linear_7x5", "net.linear1.weight", {"lr": 0.005, "betas": (0.5, 0.9)}, [7, 5], 3401, 0, 6, 1e4),
    ("adammini_mlp_1x9_wd", "mlp.fc.weight", {"lr": 0.03, "weight_decay": 0.2}, [1, 9], 3402, 5, 1, 2e3),
    ("adammini_norm_whole_16", "layer_norm.weight", {"lr": 0.01, "weight_decay": 0.3}, [16], 3403, 6, 2, 1e3),
    ("adammini_bias_16_eps", "mlp.3.bias", {"lr": 0.02, "eps": 1e-4, "betas": (0.0, 0.99)}, [16], 3404, 1, 7, 1e3),
    ("adammini_whole_234", "conv.kernel", {"lr": 0.01, "weight_decay": 0.01}, [2, 3, 4], 3405, 4, 0, 5e3),
    ("adammini_wk_heads_4x6", "h.0.attn.wk.weight", {"lr": 0.01, "dim": 6, "n_heads": 3, "n_kv_heads": 1}, [4, 6], 3406, 2, 5, 1e3),
]


def dump(d, path):
    with open(path, "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")


def main():
    if "--check-public" in sys.argv:
        for row in PUBLIC_CASES:
            pub = json.load(open(os.path.join(PUBLIC, row[0] + ".json")))
            print(row[0], "identical" if make_case(*row) == pub else "DIFFERENT")
        return
    os.makedirs(HELDOUT, exist_ok=True)
    for out, rows in ((PUBLIC, PUBLIC_CASES), (HELDOUT, HELDOUT_CASES)):
        for row in rows:
            dump(make_case(*row), os.path.join(out, row[0] + ".json"))
        print(f"wrote {len(rows)} cases to {out}")
    print(f"adam-mini {version('adam-mini')}, torch {torch.__version__}")


if __name__ == "__main__":
    main()

"""Generate hidden-style conformance cases (FORMAT.md) with the real torch.optim and
lion-pytorch, on shapes, seeds, hyperparameters, zero/large-gradient step indices and
Rosenbrock start points that differ from the public set.

Usage:
  python gen_torch.py                 # writes Tests/TunedOptimTests/Fixtures/heldout/*.json
  python gen_torch.py --check-public  # regenerates the public torch/lion/rosenbrock files
                                      # from their own seeds/hyperparameters and compares
"""
import copy
import json
import math
import os
import sys

import numpy as np
import torch
import torch.optim._muon as _muon
import lion_pytorch

TORCH_VERSION = "2.15.0"
LION_VERSION = "0.2.5"
OUT = os.path.join(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TunedOptimTests", "Fixtures"), "heldout")
PUBLIC = os.path.join(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TunedOptimTests", "Fixtures"), "oracle")

# float64 default dtype makes torch keep its scalar state (step, NAdam's mu_product) in
# float64; with float32 the public NAdam files are NOT reproduced (1.7e-10 off), with
# float64 every public torch/lion/rosenbrock file is reproduced to <=2.2e-16.
DEFAULT_DTYPE = os.environ.get("GEN_DEFAULT_DTYPE", "float64")
if DEFAULT_DTYPE == "float64":
    torch.set_default_dtype(torch.float64)

TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
    "adafactor": torch.optim.Adafactor,
    "muon": torch.optim.Muon,
}
NO_FOREACH = {"muon"}

NS64_NOTE = ("Generated with torch.optim.Muon but with torch.optim._muon._zeropower_via_newtonschulz "
             "monkey-patched to skip its bfloat16 cast (same op order, all float64).")

_ORIG_NS = _muon._zeropower_via_newtonschulz


def _ns_float64(grad, ns_coefficients, ns_steps, eps):
    """Copy of torch 2.15's _zeropower_via_newtonschulz without the bfloat16 cast."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    ortho_grad = grad.clone()  # was: grad.to(dtype=torch.bfloat16, copy=True)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


def jsonable(x):
    if isinstance(x, tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, list):
        return [jsonable(v) for v in x]
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, torch.Tensor):
        return x.item()
    return x


def make_data(shape, seed, zero_step, large_step, scale):
    rng = np.random.default_rng(seed)
    initial = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(8)]
    grads[zero_step] = np.zeros(shape)
    grads[large_step] = grads[large_step] * scale
    data = {
        "generator": "numpy.random.default_rng(seed).standard_normal",
        "seed": seed,
        "zero_gradient_step": zero_step,
        "large_gradient_step": large_step,
        "large_gradient_scale": float(scale),
    }
    return initial, grads, data


def build(library, opt, p, hp, foreach):
    if library == "lion_pytorch":
        o = lion_pytorch.Lion([p], **hp)
        return o
    cls = TORCH_CLASSES[opt]
    kw = dict(hp)
    if opt not in NO_FOREACH:
        kw["foreach"] = foreach
    return cls([p], **kw)


def run_steps(library, opt, hp, shape, initial, grads, foreach=False, ns64=False):
    _muon._zeropower_via_newtonschulz = _ns_float64 if ns64 else _ORIG_NS
    try:
        p = torch.tensor(initial, dtype=torch.float64)
        o = build(library, opt, p, hp, foreach)
        out = []
        for g in grads:
            p.grad = torch.tensor(g, dtype=torch.float64)
            o.step()
            out.append(p.detach().clone().reshape(-1).tolist())
        return o, out
    finally:
        _muon._zeropower_via_newtonschulz = _ORIG_NS


def resolved(o, library, rosen=False):
    g = {k: v for k, v in o.param_groups[0].items() if k != "params"}
    if library == "lion_pytorch" and not rosen:
        g["decoupled_weight_decay"] = o.decoupled_wd
    return jsonable(g)


def reference(library, opt, ns64):
    if library == "lion_pytorch":
        return f"lion-pytorch {LION_VERSION} lion_pytorch.Lion (on torch {TORCH_VERSION})"
    name = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW",
            "nadam": "NAdam", "radam": "RAdam", "adafactor": "Adafactor", "muon": "Muon"}[opt]
    r = f"torch {TORCH_VERSION} torch.optim.{name}"
    if ns64:
        r += " (Newton-Schulz patched to float64)"
    return r


def make_case(case, library, opt, hp, shape, seed, zero_step, large_step, scale, ns64=False):
    initial, grads, data = make_data(shape, seed, zero_step, large_step, scale)
    o, expected = run_steps(library, opt, hp, shape, initial, grads, foreach=False, ns64=ns64)
    d = {
        "optimizer": opt,
        "reference": reference(library, opt, ns64),
        "hyperparameters": jsonable(hp),
        "case": case,
        "library": library,
        "param_shape": list(shape),
        "initial": initial.reshape(-1).tolist(),
        "steps": 8,
        "gradients": [g.reshape(-1).tolist() for g in grads],
        "expected": expected,
        "data": data,
        "resolved_hyperparameters": resolved(o, library),
    }
    if library == "torch" and opt not in NO_FOREACH:
        _, fe = run_steps(library, opt, hp, shape, initial, grads, foreach=True, ns64=ns64)
        diff = float(np.max(np.abs(np.array(fe) - np.array(expected))))
        d["crosscheck"] = {"torch_foreach_max_abs_diff": diff}
    if opt == "muon" and ns64:
        d["notes"] = [NS64_NOTE]
    d["dtype"] = "float64"
    return d


def rosen_loss(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def rosen_run(library, opt, hp, start, steps=200):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    o = build(library, opt, p, hp, foreach=False)
    xs, gs, ls = [], [], []
    for _ in range(steps):
        o.zero_grad()
        loss = rosen_loss(p)
        loss.backward()
        gs.append(p.grad.detach().clone().tolist())
        ls.append(loss.item())
        o.step()
        xs.append(p.detach().clone().tolist())
    return o, xs, gs, ls


def analytic(x, y):
    return [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]


def make_rosen(case, library, opt, hp, start):
    o, xs, gs, ls = rosen_run(library, opt, hp, start)
    pert = [float(np.nextafter(start[0], np.inf)), start[1]]
    _, xs2, _, _ = rosen_run(library, opt, hp, pert)
    traj = float(np.max(np.abs(np.array(xs) - np.array(xs2))))
    pts = [list(start)] + xs[:-1]
    rel = 0.0
    for (x, y), g in zip(pts, gs):
        a = analytic(x, y)
        for ai, gi in zip(a, g):
            rel = max(rel, abs(ai - gi) / max(1.0, abs(gi)))
    return {
        "optimizer": opt,
        "reference": reference(library, opt, False),
        "hyperparameters": jsonable(hp),
        "case": case,
        "library": library,
        "resolved_hyperparameters": resolved(o, library, rosen=True),
        "objective": {"name": "rosenbrock", "formula": "(1 - x)^2 + 100 * (y - x^2)^2",
                      "gradient": "[-2*(1-x) - 400*x*(y-x^2), 200*(y-x^2)]"},
        "param_shape": [2],
        "initial": list(start),
        "steps": 200,
        "gradients": None,
        "expected": xs,
        "observed_gradients": gs,
        "observed_losses": ls,
        "crosscheck": {"one_ulp_start_perturbation_max_abs_traj_diff": traj,
                       "analytic_vs_autograd_grad_max_rel_diff": rel},
        "dtype": "float64",
    }


# ---------------------------------------------------------------------------
# The case table: (case, library, optimizer, hyperparameters, shape, seed, zero, large, scale[, ns64])
T, L = "torch", "lion_pytorch"
CASES = [
    # SGD
    ("torch_sgd_plain_7x5", T, "sgd", {"lr": 0.03}, [7, 5], 2001, 0, 2, 1e3),
    ("torch_sgd_nesterov_damp0_16", T, "sgd", {"lr": 0.02, "momentum": 0.8, "nesterov": True, "dampening": 0.0}, [16], 2002, 6, 1, 2e3),
    ("torch_sgd_momentum_wd_5x7", T, "sgd", {"lr": 0.04, "momentum": 0.7, "weight_decay": 0.03}, [5, 7], 2003, 1, 7, 1e4),
    ("torch_sgd_maximize_mom_1x9", T, "sgd", {"lr": 0.01, "momentum": 0.9, "maximize": True}, [1, 9], 2004, 7, 0, 5e3),
    ("torch_sgd_maximize_plain_wd_234", T, "sgd", {"lr": 0.05, "weight_decay": 0.2, "maximize": True}, [2, 3, 4], 2005, 2, 4, 1e3),
    ("torch_sgd_dampening_nowd_16", T, "sgd", {"lr": 0.1, "momentum": 0.95, "dampening": 0.3}, [16], 2006, 5, 3, 1e5),
    ("torch_sgd_nesterov_wd_max_7x5", T, "sgd", {"lr": 0.07, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1, "maximize": True}, [7, 5], 2007, 4, 6, 3e3),
    # Adagrad
    ("torch_adagrad_lrdecay_7x5", T, "adagrad", {"lr": 0.2, "lr_decay": 0.05}, [7, 5], 2011, 0, 5, 1e3),
    ("torch_adagrad_initacc_eps_16", T, "adagrad", {"lr": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-6}, [16], 2012, 4, 2, 1e4),
    ("torch_adagrad_all_max_5x7", T, "adagrad", {"lr": 0.3, "lr_decay": 0.1, "weight_decay": 0.02, "initial_accumulator_value": 1.0, "eps": 1e-3, "maximize": True}, [5, 7], 2013, 6, 1, 2e3),
    ("torch_adagrad_wd_234", T, "adagrad", {"lr": 0.1, "weight_decay": 0.3}, [2, 3, 4], 2014, 7, 3, 1e3),
    # RMSprop
    ("torch_rmsprop_centered_momentum_7x5", T, "rmsprop", {"lr": 0.005, "centered": True, "momentum": 0.6}, [7, 5], 2021, 2, 6, 1e3),
    ("torch_rmsprop_alpha_eps_16", T, "rmsprop", {"lr": 0.02, "alpha": 0.7, "eps": 1e-4}, [16], 2022, 0, 4, 1e4),
    ("torch_rmsprop_centered_alpha_wd_5x7", T, "rmsprop", {"lr": 0.01, "alpha": 0.5, "centered": True, "weight_decay": 0.05}, [5, 7], 2023, 5, 1, 2e3),
    ("torch_rmsprop_momentum_wd_max_1x9", T, "rmsprop", {"lr": 0.003, "momentum": 0.95, "weight_decay": 0.1, "maximize": True}, [1, 9], 2024, 3, 7, 1e3),
    ("torch_rmsprop_all_234", T, "rmsprop", {"lr": 0.01, "alpha": 0.95, "eps": 1e-6, "centered": True, "momentum": 0.9, "weight_decay": 0.01}, [2, 3, 4], 2025, 6, 2, 5e3),
    # boundary alpha (valid: torch only requires alpha >= 0); v - gbar^2 cancels, so torch's
    # fused addcmul (one rounding) and a two-rounding port differ visibly
    ("torch_rmsprop_centered_alpha1e-3_7x5", T, "rmsprop", {"lr": 0.01, "alpha": 1e-3, "centered": True}, [7, 5], 4003, 2, 6, 1e3),
    ("torch_rmsprop_centered_mom_alpha1e-4_16", T, "rmsprop", {"lr": 0.01, "alpha": 1e-4, "centered": True, "momentum": 0.9}, [16], 4104, 5, 1, 1e3),
    # Adam
    ("torch_adam_betas_eps_7x5", T, "adam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-6}, [7, 5], 2031, 1, 4, 1e3),
    ("torch_adam_amsgrad_16", T, "adam", {"lr": 0.01, "amsgrad": True}, [16], 2032, 6, 2, 1e4),
    ("torch_adam_decoupled_5x7", T, "adam", {"lr": 0.01, "weight_decay": 0.2, "decoupled_weight_decay": True}, [5, 7], 2033, 0, 7, 2e3),
    ("torch_adam_decoupled_amsgrad_1x9", T, "adam", {"lr": 0.03, "weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True, "betas": (0.8, 0.99)}, [1, 9], 2034, 5, 3, 1e3),
    ("torch_adam_l2_maximize_234", T, "adam", {"lr": 0.005, "weight_decay": 0.05, "maximize": True}, [2, 3, 4], 2035, 2, 6, 1e5),
    ("torch_adam_amsgrad_l2_eps_7x5", T, "adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01, "eps": 1e-3, "betas": (0.0, 0.95)}, [7, 5], 2036, 7, 0, 1e3),
    # AdamW
    ("torch_adamw_betas_7x5", T, "adamw", {"lr": 0.02, "betas": (0.85, 0.98), "weight_decay": 0.05}, [7, 5], 2041, 3, 0, 1e3),
    ("torch_adamw_amsgrad_eps_16", T, "adamw", {"lr": 0.01, "amsgrad": True, "eps": 1e-5}, [16], 2042, 0, 6, 3e3),
    ("torch_adamw_defaultlr_5x7", T, "adamw", {}, [5, 7], 2043, 4, 1, 1e4),
    ("torch_adamw_maximize_amsgrad_234", T, "adamw", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True, "maximize": True}, [2, 3, 4], 2044, 6, 3, 1e3),
    # NAdam
    ("torch_nadam_momdecay_7x5", T, "nadam", {"lr": 0.01, "momentum_decay": 0.01}, [7, 5], 2051, 5, 2, 1e3),
    ("torch_nadam_l2_betas_16", T, "nadam", {"lr": 0.005, "weight_decay": 0.05, "betas": (0.8, 0.99)}, [16], 2052, 1, 6, 1e4),
    ("torch_nadam_decoupled_momdecay_5x7", T, "nadam", {"lr": 0.02, "weight_decay": 0.2, "decoupled_weight_decay": True, "momentum_decay": 0.0}, [5, 7], 2053, 7, 4, 2e3),
    ("torch_nadam_defaults_234", T, "nadam", {}, [2, 3, 4], 2054, 2, 0, 1e3),
    ("torch_nadam_eps_max_1x9", T, "nadam", {"lr": 0.01, "eps": 1e-4, "maximize": True, "momentum_decay": 0.1}, [1, 9], 2055, 0, 5, 5e3),
    # RAdam
    ("torch_radam_decoupled_7x5", T, "radam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}, [7, 5], 2061, 6, 1, 1e3),
    ("torch_radam_betas_b2_16", T, "radam", {"lr": 0.02, "betas": (0.7, 0.9)}, [16], 2062, 3, 7, 1e4),
    ("torch_radam_eps_l2_5x7", T, "radam", {"lr": 0.005, "eps": 1e-5, "weight_decay": 0.05}, [5, 7], 2063, 0, 4, 2e3),
    ("torch_radam_b2_0p5_max_234", T, "radam", {"lr": 0.01, "betas": (0.9, 0.5), "maximize": True}, [2, 3, 4], 2064, 5, 2, 1e3),
    # Adafactor
    ("torch_adafactor_2d_7x5", T, "adafactor", {"lr": 0.02}, [7, 5], 2071, 2, 5, 1e3),
    ("torch_adafactor_2d_5x7_b2d", T, "adafactor", {"lr": 0.01, "beta2_decay": -0.5}, [5, 7], 2072, 6, 1, 1e4),
    ("torch_adafactor_1d_16_d_eps", T, "adafactor", {"lr": 0.05, "d": 1.5, "eps": (1e-20, 1e-2)}, [16], 2073, 0, 3, 1e3),
    ("torch_adafactor_3d_234", T, "adafactor", {"lr": 0.03, "weight_decay": 0.1}, [2, 3, 4], 2074, 4, 7, 2e3),
    ("torch_adafactor_1x9_wd_max", T, "adafactor", {"lr": 0.2, "weight_decay": 0.02, "maximize": True}, [1, 9], 2075, 1, 6, 1e3),
    ("torch_adafactor_2d_eps1_num_7x5", T, "adafactor", {"lr": 0.5, "eps": (1e-30, 1e-3), "beta2_decay": -1.0, "d": 1.0}, [7, 5], 2076, 7, 2, 1e5),
    ("torch_adafactor_3d_d_b2d_324", T, "adafactor", {"lr": 0.1, "d": 3.0, "beta2_decay": -0.3, "eps": (None, 0.05)}, [3, 2, 4], 2077, 3, 0, 1e3),
    ("torch_adafactor_1d_lr_small_16", T, "adafactor", {"lr": 0.001, "weight_decay": 0.5}, [16], 2078, 5, 4, 1e4),
    # Muon (float64 NS)
    ("torch_muon_7x5_ns64", T, "muon", {"lr": 0.02}, [7, 5], 2081, 3, 6, 1e3, True),
    ("torch_muon_5x7_ns64_plain_nsteps", T, "muon", {"lr": 0.01, "nesterov": False, "ns_steps": 3}, [5, 7], 2082, 0, 4, 1e4, True),
    ("torch_muon_7x5_ns64_rms_mom_wd", T, "muon", {"lr": 0.03, "momentum": 0.8, "weight_decay": 0.05, "adjust_lr_fn": "match_rms_adamw"}, [7, 5], 2083, 6, 2, 2e3, True),
    ("torch_muon_1x9_ns64_spectral", T, "muon", {"lr": 0.02, "adjust_lr_fn": "spectral_unclamped", "ns_steps": 7}, [1, 9], 2084, 2, 5, 1e3, True),
    ("torch_muon_9x1_ns64_spectral_wd0", T, "muon", {"lr": 0.02, "adjust_lr_fn": "spectral_unclamped", "weight_decay": 0.0}, [9, 1], 2085, 5, 1, 1e3, True),
    ("torch_muon_5x7_ns64_original_coefs", T, "muon", {"lr": 0.05, "adjust_lr_fn": "original", "ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-5}, [5, 7], 2086, 7, 3, 5e3, True),
    ("torch_muon_6x6_ns64_none_ns1", T, "muon", {"lr": 0.02, "adjust_lr_fn": None, "ns_steps": 1, "momentum": 0.5}, [6, 6], 2087, 1, 0, 1e3, True),
    ("torch_muon_16x4_ns64_plain_rms", T, "muon", {"lr": 0.01, "nesterov": False, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.2}, [16, 4], 2088, 4, 7, 1e3, True),
    # Lion
    ("lionpytorch_lion_betas_7x5", L, "lion", {"lr": 0.002, "betas": (0.8, 0.95)}, [7, 5], 2091, 0, 3, 1e3),
    ("lionpytorch_lion_wd_16", L, "lion", {"lr": 0.0003, "weight_decay": 0.5}, [16], 2092, 5, 7, 1e4),
    ("lionpytorch_lion_decoupled_5x7", L, "lion", {"lr": 0.001, "weight_decay": 0.01, "decoupled_weight_decay": True}, [5, 7], 2093, 2, 6, 1e3),
    ("lionpytorch_lion_triton_false_234", L, "lion", {"lr": 0.01, "betas": (0.5, 0.999), "weight_decay": 0.2, "use_triton": False}, [2, 3, 4], 2094, 7, 1, 2e3),
    ("lionpytorch_lion_defaults_1x9", L, "lion", {}, [1, 9], 2095, 4, 0, 1e3),
    ("lionpytorch_lion_beta1_0_16", L, "lion", {"lr": 0.01, "betas": (0.0, 0.9), "weight_decay": 0.05, "decoupled_weight_decay": True}, [16], 2096, 1, 5, 1e5),
]

ROSEN = [
    ("rosenbrock_torch_rmsprop_centered", T, "rmsprop", {"lr": 1e-3, "centered": True, "momentum": 0.5}, [0.5, -0.75]),
    ("rosenbrock_torch_nadam", T, "nadam", {"lr": 1e-2}, [-0.8, 0.3]),
    ("rosenbrock_torch_sgd_nesterov", T, "sgd", {"lr": 5e-4, "momentum": 0.9, "nesterov": True}, [1.8, 2.5]),
    ("rosenbrock_torch_adam_amsgrad", T, "adam", {"lr": 2e-2, "amsgrad": True, "weight_decay": 0.01, "decoupled_weight_decay": True}, [-1.2, 1.0]),
    ("rosenbrock_lionpytorch_lion_wd", L, "lion", {"lr": 3e-3, "betas": (0.95, 0.98), "weight_decay": 0.1}, [0.0, 2.0]),
    ("rosenbrock_torch_adagrad", T, "adagrad", {"lr": 0.05, "lr_decay": 0.001}, [-0.5, -0.5]),
    ("rosenbrock_torch_adafactor", T, "adafactor", {"lr": 0.01}, [-1.5, 1.5]),
    ("rosenbrock_torch_radam", T, "radam", {"lr": 3e-4}, [1.5, 1.0]),
]


def dump(d, path):
    with open(path, "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")


def check_public():
    worst = {}
    for fn in sorted(os.listdir(PUBLIC)):
        if not fn.endswith(".json") or fn.startswith("optax_"):
            continue
        pub = json.load(open(os.path.join(PUBLIC, fn)))
        if "bf16" in pub["case"]:
            continue
        lib, opt = pub["library"], pub["optimizer"]
        hp = {k: (tuple(v) if isinstance(v, list) else v) for k, v in pub["hyperparameters"].items()}
        if pub["gradients"] is None:
            mine = make_rosen(pub["case"], lib, opt, hp, pub["initial"])
        else:
            dd = pub["data"]
            mine = make_case(pub["case"], lib, opt, hp, pub["param_shape"], dd["seed"], dd["zero_gradient_step"],
                             dd["large_gradient_step"], dd["large_gradient_scale"], ns64="float64" in pub["reference"])
        same_inputs = mine["initial"] == pub["initial"] and mine["gradients"] == pub["gradients"]
        diff = float(np.max(np.abs(np.array(mine["expected"]) - np.array(pub["expected"]))))
        keys_same = list(mine.keys()) == list(pub.keys())
        rh_same = mine["resolved_hyperparameters"] == pub["resolved_hyperparameters"]
        print(f"{fn:40s} inputs_identical={same_inputs} expected_maxabs={diff:.3e} "
              f"keys_same={keys_same} resolved_same={rh_same}")
        if not keys_same:
            print("   mine:", list(mine.keys()), "\n   pub: ", list(pub.keys()))
        if not rh_same:
            print("   mine:", mine["resolved_hyperparameters"], "\n   pub: ", pub["resolved_hyperparameters"])


def main():
    if "--check-public" in sys.argv:
        check_public()
        return
    os.makedirs(OUT, exist_ok=True)
    n = 0
    for row in CASES:
        case, lib, opt, hp, shape, seed, z, l, s = row[:9]
        ns64 = row[9] if len(row) > 9 else False
        assert (z, l) != (3, 5) and z != l
        dump(make_case(case, lib, opt, hp, shape, seed, z, l, s, ns64), os.path.join(OUT, case + ".json"))
        n += 1
    for case, lib, opt, hp, start in ROSEN:
        dump(make_rosen(case, lib, opt, hp, start), os.path.join(OUT, case + ".json"))
        n += 1
    print(f"wrote {n} cases to {OUT} (torch {torch.__version__}, default dtype {torch.get_default_dtype()})")


if __name__ == "__main__":
    main()

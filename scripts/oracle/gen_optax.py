"""Generate optax reference cases in the format of Tests/TunedOptimTests/Fixtures/oracle/FORMAT.md.

Usage: gen_optax.py [OUTDIR]            (default Tests/TunedOptimTests/Fixtures/heldout)
       gen_optax.py --check-public      (regenerate the public optax cases and diff them)
"""
import inspect
import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import optax.contrib  # noqa: E402

VERSION_REF = "optax {} {{}} (jax {}, jax_enable_x64=True)".format(optax.__version__, jax.__version__)

CALLABLES = {
    "optax.adafactor": optax.adafactor,
    "optax.lion": optax.lion,
    "optax.contrib.muon": optax.contrib.muon,
    "optax.lookahead": optax.lookahead,
    "optax.contrib.sam": optax.contrib.sam,
    "optax.sgd": optax.sgd,
    "optax.adam": optax.adam,
    "optax.contrib.normalize": optax.contrib.normalize,
}
NESTED = {"fast_optimizer", "optimizer", "adv_optimizer"}
DTYPE_KEYS = {"dtype_momentum", "mu_dtype", "accumulator_dtype"}


def build(spec):
    name = spec["name"]
    if name == "optax.chain":
        return optax.chain(*[build(t) for t in spec["transforms"]])
    kw = {}
    for k, v in spec.items():
        if k == "name":
            continue
        if k in NESTED:
            v = build(v)
        elif k in DTYPE_KEYS and v is not None:
            v = jnp.dtype(v)
        elif k == "ns_coeffs" and isinstance(v, list):
            v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
        kw[k] = v
    return CALLABLES[name](**kw)


def jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (tuple, list)):
        return [jsonable(x) for x in v]
    try:
        return np.dtype(v).name
    except TypeError:
        return repr(v)


def resolve(spec):
    name = spec["name"]
    if name == "optax.chain":
        return {"name": name, "transforms": [resolve(t) for t in spec["transforms"]]}
    out = {"name": name}
    sig = inspect.signature(CALLABLES[name])
    for p in sig.parameters.values():
        if p.name in spec:
            v = spec[p.name]
            out[p.name] = resolve(v) if p.name in NESTED else jsonable(v)
        elif p.default is not inspect.Parameter.empty:
            out[p.name] = jsonable(p.default)
    for k in spec:
        if k not in out:
            raise ValueError(f"{name}: unknown keyword {k}")
    return out


def make_data(seed, shape, zero_step, large_step, large_scale):
    rng = np.random.default_rng(seed)
    initial = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(8)]
    if zero_step is not None:
        grads[zero_step] = np.zeros(shape)
    if large_step is not None:
        grads[large_step] = grads[large_step] * large_scale
    return initial, grads


def flat(x):
    return [float(v) for v in np.asarray(x, dtype=np.float64).reshape(-1)]


def run_case(case, hp, shape, seed, zero_step, large_step, large_scale=1000.0, notes=None):
    optimizer = {"optax.adafactor": "adafactor", "optax.lion": "lion", "optax.contrib.muon": "muon",
                 "optax.lookahead": "lookahead", "optax.contrib.sam": "sam"}[hp["name"]]
    initial, grads = make_data(seed, shape, zero_step, large_step, large_scale)
    tx = build(hp)
    expected, expected_slow = [], []
    if optimizer == "lookahead":
        params = optax.LookaheadParams.init_synced(jnp.asarray(initial))
    else:
        params = jnp.asarray(initial)
    state = tx.init(params)
    for g in grads:
        u, state = tx.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, u)
        if optimizer == "lookahead":
            assert params.fast.dtype == jnp.float64
            expected.append(flat(params.fast))
            expected_slow.append(flat(params.slow))
        else:
            assert params.dtype == jnp.float64, params.dtype
            expected.append(flat(params))
    d = {
        "optimizer": optimizer,
        "reference": VERSION_REF.format(hp["name"]),
        "hyperparameters": hp,
        "case": case,
        "library": "optax",
        "param_shape": list(shape),
        "initial": flat(initial),
        "steps": 8,
        "gradients": [flat(g) for g in grads],
        "expected": expected,
        "data": {"generator": "numpy.random.default_rng(seed).standard_normal", "seed": seed,
                 "zero_gradient_step": zero_step, "large_gradient_step": large_step,
                 "large_gradient_scale": float(large_scale)},
        "resolved_hyperparameters": resolve(hp),
    }
    if optimizer == "lookahead":
        d["expected_slow"] = expected_slow
    if notes:
        d["notes"] = notes
    d["dtype"] = "float64"
    return d


SAM_NOTE = ["No zero-gradient step: optax.contrib.normalize divides by the global norm, so an all-zero "
            "gradient gives NaN in the reference (and the NaN leaks through SAM's pick_one on every step)."]


def sgd(lr, **kw):
    return {"name": "optax.sgd", "learning_rate": lr, **kw}


def adam(lr, **kw):
    return {"name": "optax.adam", "learning_rate": lr, **kw}


def adv(rho, **kw):
    return {"name": "optax.chain", "transforms": [{"name": "optax.contrib.normalize"}, sgd(rho, **kw)]}


def af(**kw):
    return {"name": "optax.adafactor", **kw}


def lion(**kw):
    return {"name": "optax.lion", **kw}


def muon(**kw):
    return {"name": "optax.contrib.muon", **kw}


def la(fast, **kw):
    return {"name": "optax.lookahead", "fast_optimizer": fast, **kw}


def sam(opt, advopt, **kw):
    return {"name": "optax.contrib.sam", "optimizer": opt, "adv_optimizer": advopt, **kw}


# (case, hyperparameters, shape, seed, zero_step, large_step, large_scale)
CASES = [
    # ---- adafactor
    ("vx_adafactor_defaults_16", af(), [16], 1301, 1, 6, 1e3),
    ("vx_adafactor_defaults_7x5", af(), [7, 5], 1302, 6, 2, 1e4),
    ("vx_adafactor_factored_7x5", af(learning_rate=0.01, min_dim_size_to_factor=2), [7, 5], 1303, 0, 4, 1e3),
    ("vx_adafactor_factored_5x7", af(learning_rate=0.05, min_dim_size_to_factor=5), [5, 7], 1304, 7, 1, 1e5),
    ("vx_adafactor_factored_2x3x4", af(learning_rate=0.01, min_dim_size_to_factor=2), [2, 3, 4], 1305, 2, 7, 1e3),
    ("vx_adafactor_factored_4x2x3", af(learning_rate=0.01, min_dim_size_to_factor=3), [4, 2, 3], 1306, 5, 0, 1e3),
    ("vx_adafactor_factored_1x9_min1", af(learning_rate=0.02, min_dim_size_to_factor=1), [1, 9], 1307, 4, 2, 1e3),
    ("vx_adafactor_factored_3x3_tie", af(learning_rate=0.02, min_dim_size_to_factor=2), [3, 3], 1308, 1, 3, 1e3),
    ("vx_adafactor_unfactored_flag_4x3", af(learning_rate=0.01, min_dim_size_to_factor=2, factored=False), [4, 3], 1309, 2, 6, 1e3),
    ("vx_adafactor_mom64_7x5", af(learning_rate=0.01, min_dim_size_to_factor=2, momentum=0.9, dtype_momentum="float64"), [7, 5], 1310, 5, 1, 1e3),
    ("vx_adafactor_mom32_3x4", af(learning_rate=0.01, min_dim_size_to_factor=2, momentum=0.8), [3, 4], 1311, 0, 6, 1e3),
    ("vx_adafactor_mom32_16", af(momentum=0.5), [16], 1312, 7, 2, 1e4),
    ("vx_adafactor_clip_none_5x7", af(learning_rate=0.01, min_dim_size_to_factor=2, clipping_threshold=None), [5, 7], 1313, 1, 4, 1e3),
    ("vx_adafactor_clip2_16", af(learning_rate=0.1, clipping_threshold=2.0), [16], 1314, 6, 0, 1e3),
    ("vx_adafactor_noparamscale_4x3", af(learning_rate=0.01, min_dim_size_to_factor=2, multiply_by_parameter_scale=False), [4, 3], 1315, 2, 5, 1e3),
    ("vx_adafactor_wd_7x5", af(learning_rate=0.01, min_dim_size_to_factor=2, weight_decay_rate=0.01), [7, 5], 1316, 4, 7, 1e3),
    ("vx_adafactor_decay05_16", af(learning_rate=0.01, decay_rate=0.5), [16], 1317, 1, 5, 1e3),
    ("vx_adafactor_decay09_5x7", af(learning_rate=0.01, min_dim_size_to_factor=2, decay_rate=0.9), [5, 7], 1318, 3, 6, 1e3),
    ("vx_adafactor_decay0637_3x4", af(learning_rate=0.01, min_dim_size_to_factor=2, decay_rate=0.637), [3, 4], 1319, 6, 3, 1e3),
    ("vx_adafactor_eps1e-3_4x3", af(learning_rate=0.01, min_dim_size_to_factor=2, eps=1e-3), [4, 3], 1320, 0, 5, 1e3),
    ("vx_adafactor_decayoffset_m3_16", af(learning_rate=0.01, decay_offset=-3), [16], 1321, 2, 4, 1e3),
    ("vx_adafactor_lrnone_factored_2x3x4", af(min_dim_size_to_factor=3), [2, 3, 4], 1322, 5, 1, 1e3),
    ("vx_adafactor_all_5x7", af(learning_rate=0.02, min_dim_size_to_factor=3, decay_rate=0.7, multiply_by_parameter_scale=False,
                                clipping_threshold=None, momentum=0.5, dtype_momentum="float64", weight_decay_rate=0.001,
                                eps=1e-20), [5, 7], 1323, 7, 3, 1e6),
    # ---- lion
    ("vx_lion_wd_betas_7x5", lion(learning_rate=0.001, b1=0.95, b2=0.98, weight_decay=0.1), [7, 5], 1401, 1, 6, 1e3),
    ("vx_lion_nowd_16", lion(learning_rate=3e-4, weight_decay=0.0), [16], 1402, 6, 1, 1e4),
    ("vx_lion_b1zero_5x7", lion(learning_rate=0.01, b1=0.0, b2=0.999), [5, 7], 1403, 0, 7, 1e3),
    ("vx_lion_big_2x3x4", lion(learning_rate=0.01, b1=0.5, b2=0.5, weight_decay=1.0), [2, 3, 4], 1404, 4, 2, 1e3),
    ("vx_lion_mu64_1x9", lion(learning_rate=0.002, mu_dtype="float64"), [1, 9], 1405, 2, 5, 1e3),
    ("vx_lion_mu32_3x4", lion(learning_rate=0.002, b1=0.8, mu_dtype="float32"), [3, 4], 1406, 7, 4, 1e3),
    # ---- muon
    ("vx_muon_7x5", muon(learning_rate=0.02), [7, 5], 1501, 1, 6, 1e3),
    ("vx_muon_5x7", muon(learning_rate=0.02), [5, 7], 1502, 6, 2, 1e4),
    ("vx_muon_3x4_plain_b09_ns3", muon(learning_rate=0.05, beta=0.9, ns_steps=3, nesterov=False), [3, 4], 1503, 0, 4, 1e3),
    ("vx_muon_4x3_wd_eps", muon(learning_rate=0.01, weight_decay=0.05, eps=1e-6), [4, 3], 1504, 2, 7, 1e3),
    ("vx_muon_7x5_crms", muon(learning_rate=0.02, consistent_rms=0.2), [7, 5], 1505, 5, 0, 1e3),
    ("vx_muon_5x7_coeffs", muon(learning_rate=0.02, ns_coeffs=[3.0, -3.2, 1.2], ns_steps=7), [5, 7], 1506, 3, 1, 1e3),
    ("vx_muon_5x7_coeff_list", muon(learning_rate=0.02, ns_coeffs=[[4.0848, -6.8946, 2.927], [3.9505, -6.3029, 2.6377],
                                                                 [3.7418, -5.5913, 2.3037], [2.8769, -3.1427, 1.2046],
                                                                 [2.8366, -3.0525, 1.2012]]), [5, 7], 1507, 4, 6, 1e3),
    ("vx_muon_4x3_dion_preset", muon(learning_rate=0.02, ns_coeffs="dion"), [4, 3], 1508, 1, 5, 1e3),
    ("vx_muon_1x9_b05_ns10", muon(learning_rate=0.03, beta=0.5, ns_steps=10, weight_decay=0.01), [1, 9], 1509, 6, 3, 1e3),
    ("vx_muon_7x5_adaptive", muon(learning_rate=0.02, adaptive=True), [7, 5], 1510, 2, 4, 1e3),
    ("vx_muon_5x7_spectral", muon(learning_rate=0.02, preconditioning="spectral"), [5, 7], 1511, 7, 1, 1e3),
    ("vx_muon_4x3_aol", muon(learning_rate=0.02, preconditioning="aol"), [4, 3], 1512, 0, 2, 1e3),
    ("vx_muon_3x4_schatten", muon(learning_rate=0.02, preconditioning="schatten"), [3, 4], 1513, 5, 6, 1e3),
    ("vx_muon_16_adam_path", muon(learning_rate=0.02), [16], 1514, 1, 4, 1e3),
    ("vx_muon_2x3x4_adam_path", muon(learning_rate=0.02, adam_b2=0.99), [2, 3, 4], 1515, 3, 7, 1e3),
    ("vx_muon_4x3_mu64", muon(learning_rate=0.02, mu_dtype="float64"), [4, 3], 1516, 2, 6, 1e3),
    ("vx_muon_3x4_adamkw_ignored", muon(learning_rate=0.02, adam_b1=0.8, adam_learning_rate=0.001, adam_weight_decay=0.1,
                                        nesterov=False, weight_decay=0.02), [3, 4], 1517, 4, 1, 1e3),
    # ---- lookahead
    ("vx_lookahead_sgdmom_7x5", la(sgd(0.05, momentum=0.9), sync_period=2, slow_step_size=0.8), [7, 5], 1601, 0, 5, 1e3),
    ("vx_lookahead_sgdnest_reset_5x7", la(sgd(0.05, momentum=0.9, nesterov=True), sync_period=4, slow_step_size=0.3, reset_state=True),
     [5, 7], 1602, 6, 2, 1e3),
    ("vx_lookahead_adam_16", la(adam(0.01), sync_period=3, slow_step_size=0.5), [16], 1603, 1, 4, 1e4),
    ("vx_lookahead_adam_reset_2x3x4", la(adam(0.02, b1=0.8, b2=0.99, eps=1e-6), sync_period=5, slow_step_size=0.6, reset_state=True),
     [2, 3, 4], 1604, 7, 3, 1e3),
    ("vx_lookahead_lion_3x4", la(lion(learning_rate=0.01), sync_period=2, slow_step_size=0.5), [3, 4], 1605, 4, 6, 1e3),
    ("vx_lookahead_sync1_1x9", la(sgd(0.1), sync_period=1, slow_step_size=0.25), [1, 9], 1606, 2, 7, 1e3),
    ("vx_lookahead_adafactor_4x3", la(af(learning_rate=0.05, min_dim_size_to_factor=2), sync_period=3, slow_step_size=0.5),
     [4, 3], 1607, 5, 1, 1e3),
    ("vx_lookahead_muon_5x7", la(muon(learning_rate=0.05), sync_period=2, slow_step_size=0.7), [5, 7], 1608, 3, 0, 1e3),
    ("vx_lookahead_adam_mu32_7x5", la(adam(0.01, b1=0.85, mu_dtype="float32"), sync_period=2, slow_step_size=0.5),
     [7, 5], 1611, 6, 2, 1e3),
    ("vx_sam_adam_mu32_16", sam(adam(0.003, mu_dtype="float32"), adv(0.05)), [16], 1612, None, 3, 1e3),
    ("vx_lookahead_adamnest_epsroot_4x3", la(adam(0.01, eps_root=1e-8, nesterov=True), sync_period=3, slow_step_size=0.5),
     [4, 3], 1609, 1, 6, 1e3),
    # ---- extra probes
    ("vx_muon_7x5_short_coeff_list", muon(learning_rate=0.02, ns_coeffs=[[3.4445, -4.775, 2.0315], [3.0, -3.2, 1.2],
                                                                        [2.0, -1.5, 0.5]], ns_steps=5), [7, 5], 1518, 0, 3, 1e3),
    ("vx_lookahead_adafactor_mom32_reset_5x7", la(af(learning_rate=0.05, min_dim_size_to_factor=2, momentum=0.9), sync_period=3,
                                                 slow_step_size=0.4, reset_state=True), [5, 7], 1610, 2, 5, 1e3),
    ("vx_adafactor_clip05_1x9", af(learning_rate=0.03, clipping_threshold=0.5), [1, 9], 1324, 3, 0, 1e3),
    # ---- sam (no zero step)
    ("vx_sam_sgdmom_7x5", sam(sgd(0.05, momentum=0.9), adv(0.1), sync_period=2), [7, 5], 1701, None, 2, 1e3),
    ("vx_sam_adam_5x7", sam(adam(0.01), adv(0.05), sync_period=2), [5, 7], 1702, None, 7, 1e4),
    ("vx_sam_sync3_16", sam(sgd(0.1), adv(0.05), sync_period=3), [16], 1703, None, 4, 1e3),
    ("vx_sam_noreset_advmom_3x4", sam(sgd(0.1), adv(0.05, momentum=0.5), sync_period=3, reset_state=False), [3, 4], 1704, None, 1, 1e3),
    ("vx_sam_advnest_sync4_4x3", sam(sgd(0.05, momentum=0.5, nesterov=True), adv(0.02, momentum=0.9, nesterov=True), sync_period=4),
     [4, 3], 1705, None, 6, 1e3),
    ("vx_sam_sync1_2x3x4", sam(sgd(0.1), adv(0.05), sync_period=1), [2, 3, 4], 1706, None, 3, 1e3),
    ("vx_sam_lion_1x9", sam(lion(learning_rate=0.01, weight_decay=0.1), adv(0.05), sync_period=2), [1, 9], 1707, None, 0, 1e3),
    ("vx_sam_muon_4x3", sam(muon(learning_rate=0.02, weight_decay=0.1), adv(0.05), sync_period=2), [4, 3], 1708, None, 5, 1e3),
    ("vx_sam_adafactor_7x5", sam(af(learning_rate=0.01, min_dim_size_to_factor=2), adv(0.1), sync_period=2), [7, 5], 1709, None, 4, 1e3),
    ("vx_sam_default_sync_3x4", sam(sgd(0.1), adv(0.05)), [3, 4], 1710, None, 7, 1e3),
]


def write(d, outdir):
    with open(os.path.join(outdir, d["case"] + ".json"), "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")


def check_public():
    pub = os.path.join(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TunedOptimTests", "Fixtures"), "oracle")
    worst = 0.0
    for fn in sorted(os.listdir(pub)):
        if not (fn.startswith("optax_") and fn.endswith(".json")):
            continue
        p = json.load(open(os.path.join(pub, fn)))
        dat = p["data"]
        d = run_case(p["case"], p["hyperparameters"], p["param_shape"], dat["seed"], dat["zero_gradient_step"],
                     dat["large_gradient_step"], dat["large_gradient_scale"], p.get("notes"))
        problems = []
        for k in p:
            if k in ("expected", "expected_slow"):
                a, b = np.array(p[k]), np.array(d[k])
                err = np.max(np.abs(a - b) / np.maximum(1, np.abs(a)))
                worst = max(worst, err)
                if err != 0:
                    problems.append(f"{k} differs by {err:.3e}")
            elif p[k] != d.get(k):
                problems.append(f"{k}: public {json.dumps(p[k])[:200]} vs mine {json.dumps(d.get(k))[:200]}")
        if list(p.keys()) != list(d.keys()):
            problems.append(f"key order {list(p.keys())} vs {list(d.keys())}")
        print(fn, "IDENTICAL" if not problems else problems)
    print("worst expected diff", worst)


if __name__ == "__main__":
    if "--check-public" in sys.argv:
        check_public()
        sys.exit()
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TunedOptimTests", "Fixtures"), "heldout")
    os.makedirs(outdir, exist_ok=True)
    only = os.environ.get("ONLY")
    for (case, hp, shape, seed, z, l, s) in CASES:
        if only and only not in case:
            continue
        try:
            d = run_case(case, hp, shape, seed, z, l, s, SAM_NOTE if hp["name"] == "optax.contrib.sam" else None)
        except Exception as e:  # optax itself rejects the configuration
            print(f"SKIP {case}: optax raised {type(e).__name__}: {e}")
            continue
        flat_exp = np.array(d["expected"])
        write(d, outdir)
        print(f"wrote {case}  finite={np.isfinite(flat_exp).all()}  max|p|={np.nanmax(np.abs(flat_exp)):.3g}")

import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_torch as G
OUT = os.path.join(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TunedOptimTests", "Fixtures"), "heldout")
rows = []
for i, a in enumerate([0.5, 0.1, 0.01, 1e-3, 1e-4, 1e-5, 1e-6]):
    rows.append((f"p_rmsprop_centered_alpha{a:g}", "torch", "rmsprop", {"lr": 0.01, "alpha": a, "centered": True}, [7, 5], 4000 + i, 2, 6, 1e3))
    rows.append((f"p_rmsprop_centered_mom_alpha{a:g}", "torch", "rmsprop", {"lr": 0.01, "alpha": a, "centered": True, "momentum": 0.9}, [16], 4100 + i, 5, 1, 1e3))
for row in rows:
    G.dump(G.make_case(*row), os.path.join(OUT, row[0] + ".json"))

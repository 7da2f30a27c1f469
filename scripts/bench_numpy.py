#!/usr/bin/env python3
"""The digits MLP (64→64 ReLU→10, softmax cross-entropy, batch 64) trained in plain numpy
float64, one BLAS thread: the reference point `tuned bench --groups mlp` is compared with
in the same run. Prints one JSON object: steps/s for sgd and adam (best of 3)."""
import csv, json, sys, time
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "datasets/digits.csv"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
with open(path) as f:
    rows = list(csv.reader(f))
data = np.array(rows[1:], dtype=np.float64)
x, y = data[:, :-1], data[:, -1].astype(int)
rng = np.random.default_rng(0)
idx = rng.permutation(len(x)); n_train = int(0.8 * len(x))
xt, yt = x[idx[:n_train]], y[idx[:n_train]]
mu, sd = xt.mean(0), xt.std(0); sd[sd == 0] = 1
xt = (xt - mu) / sd

def train(opt):
    r = np.random.default_rng(1)
    W1 = r.uniform(-1, 1, (64, 64)) * np.sqrt(6 / 64); b1 = np.zeros(64)
    W2 = r.uniform(-1, 1, (10, 64)) * np.sqrt(6 / 74); b2 = np.zeros(10)
    params = [W1, b1, W2, b2]
    m = [np.zeros_like(p) for p in params]; v = [np.zeros_like(p) for p in params]
    B = 64; per_epoch = n_train // B
    order = r.permutation(n_train)
    t0 = time.perf_counter()
    for t in range(1, steps + 1):
        k = (t - 1) % per_epoch
        if k == 0: order = r.permutation(n_train)
        bi = order[k * B:(k + 1) * B]
        xb, yb = xt[bi], yt[bi]
        z1 = xb @ W1.T + b1; a1 = np.maximum(z1, 0)
        z2 = a1 @ W2.T + b2
        z2 -= z2.max(1, keepdims=True); e = np.exp(z2); p = e / e.sum(1, keepdims=True)
        d2 = p; d2[np.arange(B), yb] -= 1; d2 /= B
        gW2 = d2.T @ a1; gb2 = d2.sum(0)
        d1 = (d2 @ W2) * (z1 > 0)
        gW1 = d1.T @ xb; gb1 = d1.sum(0)
        grads = [gW1, gb1, gW2, gb2]
        if opt == "sgd":
            for q, g in zip(params, grads): q -= 0.05 * g
        else:
            bc1, bc2 = 1 - 0.9 ** t, 1 - 0.999 ** t
            for q, g, mm, vv in zip(params, grads, m, v):
                mm *= 0.9; mm += 0.1 * g
                vv *= 0.999; vv += 0.001 * g * g
                q -= (1e-3 / bc1) * mm / (np.sqrt(vv) / np.sqrt(bc2) + 1e-8)
    return steps / (time.perf_counter() - t0)

print(json.dumps({"numpy": np.__version__, "sgd": max(train("sgd") for _ in range(3)),
                  "adam": max(train("adam") for _ in range(3))}))

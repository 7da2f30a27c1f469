#!/usr/bin/env python3
"""Quickstart: your own training loop, tuned by tuned, with tuned_client.trial().

Logistic regression by minibatch SGD with momentum on a small synthetic dataset — plain
Python, no numpy — written the way a real training script is: hyperparameters from
``t.config``, state (weights, velocity, RNG) from the checkpoint, metrics through
``t.report``, the checkpoint written with ``t.save``. Resuming is exact: two segments
through a checkpoint print what one run prints.

Under tuned (clients/python/examples/quickstart.toml)::

    tunectl submit clients/python/examples/quickstart.toml --wait

By hand, for debugging (no daemon; defaults below, a temporary checkpoint directory)::

    python3 quickstart_trial.py
    python3 quickstart_trial.py --config '{"lr": 0.3, "momentum": 0.9, "batch_size": 32}' --steps 100
    python3 quickstart_trial.py --restore /tmp/tuned-trial-XXXX --start-step 100 --steps 200
"""

import math
import random

import tuned_client

DIM, TRAIN, VALID = 8, 512, 256


def dataset():
    """A fixed dataset (its own seed: the same for every trial), labels from a hidden model."""
    gen = random.Random(20261208)
    truth = [gen.gauss(0, 1) for _ in range(DIM)]
    rows = []
    for _ in range(TRAIN + VALID):
        x = [gen.gauss(0, 1) for _ in range(DIM)]
        p = 1 / (1 + math.exp(-sum(a * b for a, b in zip(truth, x))))
        rows.append((x, 1.0 if gen.random() < p else 0.0))
    return rows[:TRAIN], rows[TRAIN:]


def loss_and_accuracy(w, rows):
    loss, correct = 0.0, 0
    for x, y in rows:
        z = sum(a * b for a, b in zip(w, x))
        p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        p = min(max(p, 1e-12), 1 - 1e-12)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        correct += (p >= 0.5) == (y == 1.0)
    return loss / len(rows), correct / len(rows)


def main():
    t = tuned_client.trial(default_config={"lr": 0.1, "momentum": 0.9, "batch_size": 16}, default_steps=200)
    # Hyperparameters: always from t.config (under PBT the checkpoint may be another member's).
    lr = float(t.config["lr"])
    momentum = float(t.config.get("momentum", 0.0))
    batch_size = int(t.config.get("batch_size", 16))

    train, valid = dataset()
    # State: from the checkpoint when resuming, else fresh from the trial's seed.
    state = t.load()
    if state is None:
        rng = random.Random(t.seed)
        w = [rng.gauss(0, 0.01) for _ in range(DIM)]
        velocity = [0.0] * DIM
    else:
        w, velocity = state["w"], state["velocity"]
        rng = random.Random()
        rng.setstate(tuned_client.rng_state(state["rng"]))

    train_loss = 0.0
    for step in t.steps():  # start_step+1 … end_step: steps completed after this update
        batch = [train[rng.randrange(TRAIN)] for _ in range(batch_size)]
        grad = [0.0] * DIM
        train_loss = 0.0
        for x, y in batch:
            z = sum(a * b for a, b in zip(w, x))
            p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
            p = min(max(p, 1e-12), 1 - 1e-12)
            train_loss -= (y * math.log(p) + (1 - y) * math.log(1 - p)) / batch_size
            for i in range(DIM):
                grad[i] += (p - y) * x[i] / batch_size
        for i in range(DIM):
            velocity[i] = momentum * velocity[i] + grad[i]
            w[i] -= lr * velocity[i]
        if step % 20 == 0 or step == t.end_step:
            val_loss, val_accuracy = loss_and_accuracy(w, valid)
            t.report(step, train_loss=train_loss, val_loss=val_loss, val_accuracy=val_accuracy, lr=lr)

    # The checkpoint: written atomically (temporary name, fsync, rename) into t.checkpoint_dir.
    t.save({"w": w, "velocity": velocity, "rng": rng.getstate()})


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tuned against its peers on one workload, at one budget (run by scripts/compare-peers.sh).

Every method tunes the same digits MLP (64 -> 64 ReLU -> 10, batch 64, the workload's fixed
80/20 split) over the same search space (sgd, momentum, adam, adamw, lion; lr log-uniform
1e-4..1; weight decay log-uniform 1e-6..0.1; beta1 0.8..0.99), and every training step of
every method runs through `tuned train`, so the workload is identical and only the tuner
differs. Budget: 32,000 training steps per run (8 trials x 4,000 steps).

  random         8 configurations sampled uniformly, 4,000 steps each
  optuna-tpe-mp  Optuna TPE + median pruner; a trial trains in segments of 500 steps
                 (checkpoint, report, maybe pruned) until the budget is spent
  ray-pbt        Ray Tune PopulationBasedTraining: population 8, interval 100 steps,
                 quantile 0.25, resample probability 0.25; a function trainable that
                 restores and saves checkpoints through `tuned train --restore/--checkpoint`
  tuned-pbt-hd   tuned's own PBT with hypergradient descent, submitted to a local daemon

For each method and seed: the best final validation loss of any completed trial/member, the
training steps spent (over all trials, in the order they ran) until some trial first reached
the target loss (the best peer's mean best final loss), and the wall time.
"""

import argparse
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOAD = {"kind": "mlp", "dataset": os.path.join(ROOT, "datasets", "digits.csv"), "target": "target",
            "hidden": [64], "batch_size": 64}
OPTIMIZERS = ["sgd", "momentum", "adam", "adamw", "lion"]
STEPS_PER_TRIAL = 4000
EVAL_EVERY = 100


# ---- tuned train: the one workload every method drives -------------------------------------

def train(tuned, config, seed, steps, restore=None, checkpoint=None, exploit=False):
    """Trains `config` up to `steps` (from `restore`'s step, or 0); returns (final JSON,
    [(step, val_loss)] recorded along the way)."""
    cmd = [tuned, "train", "--workload", json.dumps(WORKLOAD), "--config", json.dumps(config),
           "--steps", str(steps), "--seed", str(seed), "--eval-every", str(EVAL_EVERY)]
    if restore:
        cmd += ["--restore", restore] + (["--exploit"] if exploit else [])
    if checkpoint:
        cmd += ["--checkpoint", checkpoint]
    p = subprocess.run(cmd, capture_output=True, text=True)
    lines = p.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"tuned train failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    final = json.loads(lines[-1])
    curve = []
    for line in lines[:-1]:
        if line.startswith("tuned:"):
            fields = dict(f.split("=", 1) for f in line[6:].split() if "=" in f)
            if "val_loss" in fields:
                curve.append((int(fields["step"]), float(fields["val_loss"])))
    return final, curve


def loss(value):
    v = float(value)
    return v if math.isfinite(v) else math.inf


def sample(rng):
    config = {"optimizer": rng.choice(OPTIMIZERS), "lr": math.exp(rng.uniform(math.log(1e-4), math.log(1.0))),
              "weight_decay": math.exp(rng.uniform(math.log(1e-6), math.log(0.1)))}
    if config["optimizer"] in ("adam", "adamw", "lion"):
        config["beta1"] = rng.uniform(0.8, 0.99)
    if config["optimizer"] == "momentum":
        config["momentum"] = 0.9
    return config


# ---- the methods: each returns {"finals": [...], "events": [(steps_spent, val_loss)], "seconds"} --

def random_search(tuned, seed, budget):
    rng = random.Random(seed)
    finals, events, spent = [], [], 0
    while spent + STEPS_PER_TRIAL <= budget:
        final, curve = train(tuned, sample(rng), seed, STEPS_PER_TRIAL)
        events += [(spent + s, v) for s, v in curve]
        spent += STEPS_PER_TRIAL
        finals.append(loss(final["val_loss"]))
    return {"finals": finals, "events": events}


def optuna_tpe_median(tuned, seed, budget, segment=500):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0))
    finals, events, spent = [], [], 0
    work = tempfile.mkdtemp(prefix="optuna-")
    try:
        while spent < budget:
            trial = study.ask()
            config = {"optimizer": trial.suggest_categorical("optimizer", OPTIMIZERS),
                      "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
                      "weight_decay": trial.suggest_float("weight_decay", 1e-6, 0.1, log=True)}
            if config["optimizer"] in ("adam", "adamw", "lion"):
                config["beta1"] = trial.suggest_float("beta1", 0.8, 0.99)
            if config["optimizer"] == "momentum":
                config["momentum"] = 0.9
            step, restore, value, state = 0, None, math.inf, None
            while step < STEPS_PER_TRIAL:
                if spent >= budget:
                    state = optuna.trial.TrialState.FAIL  # out of budget mid-trial: not a final value
                    break
                end = min(step + segment, STEPS_PER_TRIAL, step + budget - spent)
                ck = os.path.join(work, f"{trial.number}-{end}")
                final, curve = train(tuned, config, seed, end, restore=restore, checkpoint=ck)
                events += [(spent + s - step, v) for s, v in curve]
                spent += end - step
                step, restore, value = end, ck, loss(final["val_loss"])
                if final.get("diverged"):
                    state = optuna.trial.TrialState.PRUNED
                    break
                trial.report(value, step)
                if trial.should_prune():
                    state = optuna.trial.TrialState.PRUNED
                    break
            if state is None:
                study.tell(trial, value)
                finals.append(value)
            else:
                study.tell(trial, state=state)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"finals": finals, "events": events, "trials": len(study.trials)}


def _ray_trainable(config):
    """One PBT member: trains `interval` steps per iteration through tuned train, restoring
    from and saving to Ray checkpoints (so exploits copy the donor's weights)."""
    try:
        from ray.tune import Checkpoint, get_checkpoint, report
    except ImportError:  # older Ray
        from ray.train import Checkpoint, get_checkpoint, report
    hp = {k: v for k, v in config.items() if not k.startswith("_")}
    # PBT's x0.8/x1.2 perturbations walk past the search space (beta1 > 1 is invalid):
    # train with the value clipped to the bounds of the search space.
    for key, (low, high) in {"lr": (1e-4, 1.0), "weight_decay": (1e-6, 0.1), "beta1": (0.8, 0.99)}.items():
        hp[key] = min(max(hp[key], low), high)
    if hp["optimizer"] not in ("adam", "adamw", "lion"):
        hp.pop("beta1", None)
    if hp["optimizer"] == "momentum":
        hp["momentum"] = 0.9
    local = tempfile.mkdtemp(prefix="pbt-")
    step, restore, exploit = 0, None, False
    checkpoint = get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as d:
            restore = os.path.join(local, "restored")
            shutil.copytree(d, restore)
        with open(os.path.join(restore, "step.json")) as f:
            step = json.load(f)["step"]
        # Ray hands a member a checkpoint after an exploit (possibly with a perturbed config):
        # the config's hyperparameters must win over the checkpoint's (`tuned train --exploit`).
        exploit = True
    while step < config["_steps"]:
        end = step + config["_interval"]
        out = tempfile.mkdtemp(prefix="ck-", dir=local)
        final, _ = train(config["_tuned"], hp, config["_seed"], end, restore=restore, checkpoint=out, exploit=exploit)
        exploit = False
        with open(os.path.join(out, "step.json"), "w") as f:
            json.dump({"step": end}, f)
        step, restore = end, out
        value = loss(final["val_loss"])
        report({"val_loss": value if math.isfinite(value) else 1e9, "step": end},
               checkpoint=Checkpoint.from_directory(out))


def ray_pbt(tuned, seed, budget, population=8, interval=100):
    import ray
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining
    from ray.tune.search.basic_variant import BasicVariantGenerator
    try:
        from ray.tune import RunConfig
    except ImportError:
        from ray.train import RunConfig
    storage = tempfile.mkdtemp(prefix="ray-")
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        pbt = PopulationBasedTraining(
            time_attr="training_iteration", perturbation_interval=1, quantile_fraction=0.25,
            resample_probability=0.25, perturbation_factors=(1.2, 0.8),
            hyperparam_mutations={"lr": tune.loguniform(1e-4, 1.0), "weight_decay": tune.loguniform(1e-6, 0.1),
                                  "beta1": tune.uniform(0.8, 0.99)})
        random.seed(seed)  # PBT's own choices (which donor, perturb or resample) use `random`
        space = {"optimizer": tune.choice(OPTIMIZERS), "lr": tune.loguniform(1e-4, 1.0),
                 "weight_decay": tune.loguniform(1e-6, 0.1), "beta1": tune.uniform(0.8, 0.99),
                 "_tuned": tuned, "_seed": seed, "_steps": budget // population, "_interval": interval}
        # Every member live at once (a quarter CPU each), as PBT assumes: with fewer slots than
        # members, Ray pauses and restarts members, a new actor process each time.
        trainable = tune.with_resources(_ray_trainable, {"cpu": os.cpu_count() / population})
        tuner = tune.Tuner(
            trainable, param_space=space,
            tune_config=tune.TuneConfig(scheduler=pbt, metric="val_loss", mode="min", num_samples=population,
                                        search_alg=BasicVariantGenerator(random_state=seed)),
            run_config=RunConfig(storage_path=storage, verbose=0,
                                 stop={"training_iteration": budget // population // interval}))
        grid = tuner.fit()
        finals, rows = [], []
        for r in grid:
            if r.metrics and "val_loss" in r.metrics:
                finals.append(r.metrics["val_loss"])
            df = r.metrics_dataframe
            if df is not None:
                rows += [(float(t), float(v)) for t, v in zip(df["timestamp"], df["val_loss"])]
        rows.sort()
        events = [((i + 1) * interval, v) for i, (_, v) in enumerate(rows)]
        errors = [str(r.error).splitlines()[-1] for r in grid if r.error]
        if errors:
            print(f"ray-pbt: {len(errors)} member(s) failed, e.g. {errors[0]}", file=sys.stderr)
        return {"finals": finals, "events": events, "failed_members": len(errors)}
    finally:
        ray.shutdown()
        shutil.rmtree(storage, ignore_errors=True)


class Daemon:
    """JSON-RPC over the daemon's Unix socket, one request line, one reply line."""

    def __init__(self, path):
        self.path, self.n = path, 0

    def call(self, method, params):
        self.n += 1
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.path)
            s.sendall((json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}) + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf)
        if "error" in reply:
            raise RuntimeError(reply["error"]["message"])
        return reply["result"]


def tuned_pbt_hd(tuned, seed, budget, daemon):
    task_file = os.path.join(ROOT, "scripts", "peers", "digits-pbt-hd.toml")
    with open(task_file) as f:
        text = f.read().replace("seed = 0", f"seed = {seed}")
    task = daemon.call("task.submit", {"text": text, "format": "toml", "filename": task_file,
                                       "base_dir": os.path.dirname(task_file)})["task_id"]
    while daemon.call("task.get", {"task_id": task})["status"] in ("queued", "running"):
        time.sleep(1)
    curves = daemon.call("task.curves", {"task_id": task, "metrics": ["val_loss"], "max_points": 100000})
    finals, points = [], []
    for t in curves["trials"]:
        for s in t["series"]:
            values = [loss(v) for v in s["values"]]
            points += list(zip(s["steps"], values))
            if t["status"] == "completed" and values:
                finals.append(values[-1])
    population = max(1, len(curves["trials"]))
    # The members run side by side: by step s of each, about population x s steps are spent.
    events = sorted((s * population, v) for s, v in points)
    return {"finals": finals, "events": events}


# ---- the report ------------------------------------------------------------------------------

def summarise(results, methods):
    best = {m: [min(r["finals"]) if r["finals"] else math.inf for r in results[m]] for m in methods}
    peers = [m for m in methods if m != "tuned-pbt-hd" and best[m]]
    target = min(statistics.mean(best[m]) for m in peers) if peers else None
    target_text = f"{target:.4f}" if target is not None else "-"
    print(f"\nbudget {results['_budget']:,} training steps per run, up to {results['_seeds']} seeds; "
          f"target = the best peer's mean best final loss = {target_text}")
    print(f"{'method':<15} {'best final val loss':>22} {'steps to target':>20} {'wall time':>14}")
    for m in methods:
        runs = results[m]
        if not runs:
            continue
        b = best[m]
        sd = statistics.stdev(b) if len(b) > 1 else 0.0
        reach = []
        for r in runs:
            hit = next((s for s, v in sorted(r["events"]) if target is not None and v <= target), None)
            reach.append(hit)
        hits = [h for h in reach if h is not None]
        steps = f"{statistics.mean(hits):,.0f} ({len(hits)}/{len(runs)})" if hits else f"- (0/{len(runs)})"
        secs = [r["seconds"] for r in runs]
        print(f"{m:<15} {statistics.mean(b):>13.4f} ± {sd:<6.4f} {steps:>20} {statistics.mean(secs):>12.1f} s")
    return target


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tuned", required=True, help="the tuned binary (a release build)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=32000)
    ap.add_argument("--trial-steps", type=int, default=4000,
                    help="steps of one trial (random, Optuna); PBT members get budget / 8")
    ap.add_argument("--methods", default="random,optuna-tpe-mp,ray-pbt,tuned-pbt-hd")
    ap.add_argument("--ray-seeds", type=int, help="seeds for ray-pbt (default: --seeds; it is the slow one)")
    ap.add_argument("--socket", help="a running tuned daemon's socket, for tuned-pbt-hd")
    ap.add_argument("--json", help="also write every run's numbers to this file")
    args = ap.parse_args()
    globals()["STEPS_PER_TRIAL"] = args.trial_steps
    methods = args.methods.split(",")
    runners = {"random": random_search, "optuna-tpe-mp": optuna_tpe_median, "ray-pbt": ray_pbt}
    results = {m: [] for m in methods}
    results["_budget"], results["_seeds"] = args.budget, args.seeds
    for m in methods:
        for seed in range(args.ray_seeds if m == "ray-pbt" and args.ray_seeds else args.seeds):
            t0 = time.monotonic()
            try:
                if m == "tuned-pbt-hd":
                    if not args.socket:
                        print("tuned PBT: not available on this build (no daemon socket)")
                        break
                    r = tuned_pbt_hd(args.tuned, seed, args.budget, Daemon(args.socket))
                else:
                    r = runners[m](args.tuned, seed, args.budget)
            except ImportError as e:
                print(f"{m}: skipped, {e}")
                break
            except RuntimeError as e:
                if m == "tuned-pbt-hd":
                    print(f"tuned PBT: not available on this build ({e})")
                    break
                raise
            r["seconds"] = time.monotonic() - t0
            results[m].append(r)
            best = min(r["finals"]) if r["finals"] else math.inf
            print(f"{m} seed {seed}: best final val loss {best:.4f}, {r['seconds']:.1f} s", flush=True)
    summarise(results, methods)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main()

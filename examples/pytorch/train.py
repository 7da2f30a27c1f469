"""A small CNN on datasets/digits.csv (8x8 images, 10 classes), trained by PyTorch under
tuned's command-workload contract (docs/COMMAND_WORKLOADS.md):

- hyperparameters from TUNED_CONFIG: the optimizer's (lr, weight_decay, momentum) and the
  model's own `channels` (the width of the first convolution; the second has twice as many);
- one segment per run: steps TUNED_START_STEP..TUNED_END_STEP, resumed from
  TUNED_RESTORE_DIR (weights, optimizer state, the minibatch generator, the step) and
  checkpointed to TUNED_CHECKPOINT_DIR, so that [0, 100) then [100, 200) gives bit for bit
  what one run of [0, 200) gives;
- exploit-safe: after a PBT exploit the checkpoint is another member's and TUNED_CONFIG is
  a perturbed one. The state comes from the checkpoint, the hyperparameters from
  TUNED_CONFIG (the optimizer's lr and weight_decay are overwritten after loading its
  state). `channels` shapes the weights, so it must be the checkpoint's: the task file
  leaves it out of [strategy] mutate, tuned copies it from the donor with the checkpoint,
  and this program refuses a mismatch rather than load weights of another shape;
- metrics on stdout as `tuned: step=N train_loss=… val_loss=… val_accuracy=…`.

Try it without a daemon:
  mkdir -p /tmp/ck && TUNED_CONFIG='{"lr":0.05,"weight_decay":1e-4,"momentum":0.9,"channels":8}' \
    TUNED_START_STEP=0 TUNED_END_STEP=100 TUNED_RESTORE_DIR= TUNED_CHECKPOINT_DIR=/tmp/ck \
    TUNED_SEED=1 python3 examples/pytorch/train.py
"""
import csv
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("DIGITS_CSV", os.path.join(HERE, "..", "..", "datasets", "digits.csv"))
EVAL_EVERY = 50
BATCH_SIZE = 64

torch.set_num_threads(1)  # one thread: reproducible sums, and tuned already runs one worker per core
torch.use_deterministic_algorithms(True)


def load_digits(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    t = header.index("target")
    x = torch.tensor([[float(v) for i, v in enumerate(r) if i != t] for r in rows], dtype=torch.float32) / 16.0
    y = torch.tensor([int(r[t]) for r in rows], dtype=torch.long)
    # A fixed split, the same for every trial (independent of TUNED_SEED): 20 % held out.
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    n_val = len(y) // 5
    val, train = order[:n_val], order[n_val:]
    return x[train].view(-1, 1, 8, 8), y[train], x[val].view(-1, 1, 8, 8), y[val]


class CNN(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.head = nn.Linear(2 * channels * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 8x8 -> 4x4
        x = F.relu(self.conv2(x))
        return self.head(x.flatten(1))


def main():
    cfg = json.loads(os.environ["TUNED_CONFIG"])
    try:
        lr, weight_decay = float(cfg["lr"]), float(cfg.get("weight_decay", 0.0))
        momentum, channels = float(cfg.get("momentum", 0.9)), cfg["channels"]
    except KeyError as e:
        sys.exit(f"TUNED_CONFIG lacks {e}; the task's [search] must set lr and channels")
    if type(channels) is not int or channels < 1:
        sys.exit(f"channels must be a positive integer, got {channels!r}")
    start, end = int(os.environ["TUNED_START_STEP"]), int(os.environ["TUNED_END_STEP"])
    restore, ckpt = os.environ["TUNED_RESTORE_DIR"], os.environ["TUNED_CHECKPOINT_DIR"]
    seed = int(os.environ["TUNED_SEED"])

    x_train, y_train, x_val, y_val = load_digits(DATA)
    torch.manual_seed(seed)  # initial weights: the trial's seed
    model = CNN(channels)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    batches = torch.Generator().manual_seed(seed)  # minibatch order: the trial's seed

    if restore:
        state = torch.load(os.path.join(restore, "state.pt"), weights_only=False)
        if state["channels"] != channels:
            sys.exit(f"the checkpoint in {restore} has channels={state['channels']}, TUNED_CONFIG says {channels}; "
                     "a key that shapes the model must not be in [strategy] mutate")
        if state["step"] != start:
            sys.exit(f"the checkpoint is at step {state['step']}, asked to start at {start}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        batches.set_state(state["batches"])
        for group in opt.param_groups:  # the hyperparameters are TUNED_CONFIG's, not the checkpoint's
            group.update(lr=lr, momentum=momentum, weight_decay=weight_decay)
    elif start != 0:
        sys.exit(f"no checkpoint to resume step {start} from")

    def evaluate():
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            loss = F.cross_entropy(logits, y_val).item()
            acc = (logits.argmax(1) == y_val).float().mean().item()
        model.train()
        return loss, acc

    train_loss = float("nan")
    for step in range(start + 1, end + 1):
        idx = torch.randint(len(y_train), (BATCH_SIZE,), generator=batches)
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        train_loss = loss.item()
        if step % EVAL_EVERY == 0 or step == end:
            val_loss, val_acc = evaluate()
            print(f"tuned: step={step} train_loss={train_loss!r} val_loss={val_loss!r} "
                  f"val_accuracy={val_acc!r} lr={lr!r}", flush=True)

    tmp = os.path.join(ckpt, "state.pt.tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "batches": batches.get_state(),
                "step": end, "channels": channels}, tmp)
    os.replace(tmp, os.path.join(ckpt, "state.pt"))


if __name__ == "__main__":
    main()

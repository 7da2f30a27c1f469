"""A small CNN on datasets/digits.csv (8x8 images, 10 classes), trained by PyTorch under
tuned's command-workload contract (docs/COMMAND_WORKLOADS.md), through the Python client
(`tuned_client.trial()`, clients/python):

- hyperparameters from TUNED_CONFIG (`t.config`): the optimizer's (lr, weight_decay, momentum) and the
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
- metrics on stdout as `tuned: step=N train_loss=… val_loss=… val_accuracy=…` (`t.report`).

Try it without a daemon (trial() takes options when tuned does not run it):
  PYTHONPATH=clients/python/src python3 examples/pytorch/train.py \
    --config '{"lr":0.05,"weight_decay":1e-4,"momentum":0.9,"channels":8}' --steps 100 --seed 1
"""
import csv
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import tuned_client  # clients/python: the task file puts its src/ on PYTHONPATH (or pip install it)

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
    t = tuned_client.trial()  # the segment: TUNED_* under tuned, options or defaults by hand
    try:
        lr, weight_decay = t.config["lr"], t.config.get("weight_decay", 0.0)
        momentum, channels = t.config.get("momentum", 0.9), t.config["channels"]
    except KeyError as e:
        sys.exit(f"the configuration lacks {e}; the task's [search] must set lr and channels")
    if type(channels) is not int or channels < 1:
        sys.exit(f"channels must be a positive integer, got {channels!r}")

    x_train, y_train, x_val, y_val = load_digits(DATA)
    torch.manual_seed(t.seed)  # initial weights: the trial's seed
    model = CNN(channels)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    batches = torch.Generator().manual_seed(t.seed)  # minibatch order: the trial's seed

    state = t.load("state.pt", loader=lambda path: torch.load(path, weights_only=False))
    if state is not None:
        if state["channels"] != channels:
            sys.exit(f"the checkpoint in {t.restore_dir} has channels={state['channels']}, the configuration says "
                     f"{channels}; a key that shapes the model must not be in [strategy] mutate")
        if state["step"] != t.start_step:
            sys.exit(f"the checkpoint is at step {state['step']}, asked to start at {t.start_step}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        batches.set_state(state["batches"])
        for group in opt.param_groups:  # the hyperparameters are the configuration's, not the checkpoint's
            group.update(lr=lr, momentum=momentum, weight_decay=weight_decay)
    elif t.start_step != 0:
        sys.exit(f"no checkpoint to resume step {t.start_step} from")

    def evaluate():
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            loss = F.cross_entropy(logits, y_val).item()
            acc = (logits.argmax(1) == y_val).float().mean().item()
        model.train()
        return loss, acc

    for step in t.steps():
        idx = torch.randint(len(y_train), (BATCH_SIZE,), generator=batches)
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % EVAL_EVERY == 0 or step == t.end_step:
            val_loss, val_acc = evaluate()
            t.report(step, train_loss=loss.item(), val_loss=val_loss, val_accuracy=val_acc, lr=lr)

    t.save(lambda path: torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                    "batches": batches.get_state(), "step": t.end_step, "channels": channels}, path),
           name="state.pt")  # atomically: a temporary name, fsync, rename


if __name__ == "__main__":
    main()

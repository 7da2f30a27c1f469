# A command workload that follows the contract: gradient descent on f(w) = (w - 3)^2.
# Reads TUNED_CONFIG, resumes from TUNED_RESTORE_DIR/state.json if given, prints metric
# lines, writes TUNED_CHECKPOINT_DIR/state.json (with what it saw, for the tests).
import json, os
config = json.loads(os.environ["TUNED_CONFIG"])
lr = config["lr"]
start, end = int(os.environ["TUNED_START_STEP"]), int(os.environ["TUNED_END_STEP"])
restore = os.environ["TUNED_RESTORE_DIR"]
w, restored_step = 0.0, None
if restore:
    with open(os.path.join(restore, "state.json")) as f:
        state = json.load(f)
    w, restored_step = state["w"], state["step"]
print("starting", start, "->", end)
for step in range(start + 1, end + 1):
    w -= lr * 2 * (w - 3)
    if step % 5 == 0 or step == end:
        print(f"tuned: step={step} train_loss={(w - 3) ** 2!r} lr={lr!r}")
seen = {k: os.environ.get(k) for k in ("TUNED_TRIAL", "TUNED_SEGMENT", "TUNED_SEED", "TUNED_TASK",
                                      "TUNED_START_STEP", "TUNED_END_STEP", "TUNED_RESTORE_DIR",
                                      "OPENBLAS_NUM_THREADS", "EXTRA")}
with open(os.path.join(os.environ["TUNED_CHECKPOINT_DIR"], "state.json"), "w") as f:
    json.dump({"w": w, "step": end, "restored_step": restored_step, "config": config, "env": seen}, f)

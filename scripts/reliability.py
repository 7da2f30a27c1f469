#!/usr/bin/env python3
"""The reliability suite of tuned (run it through scripts/reliability.sh; docs/RELIABILITY.md).

Starts the real `tuned` daemon on temporary sockets and stores and checks, one summary line
each: kill -9 of the daemon mid-task, kill -9 / SIGSTOP of workers, fuzzed protocol lines,
broken task and configuration files, a full disk, another uid, a soak of 64 clients, and
daemon memory against history. Exit status 0 when every line passes.
"""
import argparse, atexit, glob, json, os, random, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = []  # (name, passed, detail)
DAEMONS = []  # every daemon started, stopped at exit whatever happens


def log(msg):
    print(f"  · {msg}", flush=True)


# ---------------------------------------------------------------- daemon and client

class RPCError(Exception):
    def __init__(self, err):
        super().__init__(err.get("message"))
        self.code, self.message, self.data = err.get("code"), err.get("message"), err.get("data")


class Client:
    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.n = 0

    def line(self):
        while b"\n" not in self.buf:
            b = self.s.recv(65536)
            if not b:
                raise ConnectionError("daemon closed the connection")
            self.buf += b
        l, self.buf = self.buf.split(b"\n", 1)
        return l

    def call(self, method, params=None):
        self.n += 1
        req = {"jsonrpc": "2.0", "id": self.n, "method": method}
        if params is not None:
            req["params"] = params
        self.s.sendall(json.dumps(req).encode() + b"\n")
        r = json.loads(self.line())
        if "error" in r:
            raise RPCError(r["error"])
        return r["result"]

    def close(self):
        self.s.close()


class Daemon:
    def __init__(self, args, root, workers=2, lease=3.0, extra=(), store=None):
        self.args, self.root, self.workers, self.lease, self.extra = args, root, workers, lease, list(extra)
        self.socket = os.path.join(root, "t.sock")
        self.store = store or os.path.join(root, "store", "tuned.db")
        self.proc = None
        self.starts = 0
        DAEMONS.append(self)

    def start(self):
        self.starts += 1
        logf = open(os.path.join(self.root, f"daemon-{self.starts}.log"), "wb")
        self.proc = subprocess.Popen(
            [self.args.tuned, "serve", "--socket", self.socket, "--store", self.store, "--workers", str(self.workers),
             "--lease-seconds", str(self.lease)] + self.extra, stdout=logf, stderr=logf, start_new_session=False)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}; see {logf.name}")
            try:
                c = Client(self.socket, timeout=5)
                c.call("daemon.status")
                c.close()
                return self
            except (OSError, RPCError, ValueError):
                time.sleep(0.05)
        raise RuntimeError("daemon did not answer within 60 s")

    def client(self):
        return Client(self.socket)

    def kill9(self):
        workers = children(self.proc.pid)
        self.proc.kill()
        self.proc.wait()
        # Orphaned workers exit when their connection breaks; wait for them, so runs do not overlap.
        deadline = time.time() + 10
        while time.time() < deadline and any(alive(p) for p in workers):
            time.sleep(0.05)
        for p in workers:
            if alive(p):
                os.kill(p, signal.SIGKILL)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                if int(s[s.rindex(")") + 2:].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, ValueError):
                pass
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_task(c, task_id, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = c.call("task.get", {"task_id": task_id})
        if d["status"] in ("completed", "failed", "cancelled"):
            return d
        time.sleep(0.2)
    raise TimeoutError(f"task {task_id} not finished after {timeout} s")


def submit(c, text, name="reliability.toml", base=REPO):
    return c.call("task.submit", {"text": text, "format": "toml", "filename": name, "base_dir": base})["task_id"]


def metric_rows(store, task_id):
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT t.member, m.step, m.name, m.value FROM metrics m JOIN trials t ON t.id = m.trial_id "
        "WHERE t.task_id = ? ORDER BY t.member, m.step, m.name", (task_id,)).fetchall()
    dups = db.execute(
        "SELECT COUNT(*) FROM (SELECT m.trial_id, m.step, m.name FROM metrics m JOIN trials t ON t.id = m.trial_id "
        "WHERE t.task_id = ? GROUP BY m.trial_id, m.step, m.name HAVING COUNT(*) > 1)", (task_id,)).fetchone()[0]
    db.close()
    return rows, dups


def outcome(c, task_id):
    r = c.call("task.results", {"task_id": task_id})
    return (r["status"], json.dumps(r.get("best_config"), sort_keys=True), (r.get("best") or {}).get("value"),
            sorted((t["member"], t["status"], t["steps_done"]) for t in r["trials"]))


# ---------------------------------------------------------------- the task of the kill tests

def task_text(kind, size):
    members, steps, interval = size
    head = f"""name = "reliability-{kind}"
[workload]
kind = "mlp"
dataset = "datasets/digits.csv"
target = "target"
hidden = [16]
[search]
optimizer = ["sgd", "adamw"]
lr = {{ log_uniform = [1e-3, 1e-1] }}
batch_size = 32
"""
    if kind == "pbt":
        strat = f"""[strategy]
kind = "pbt"
population = {members}
interval = {interval}
synchronous = true
"""
    else:
        strat = f"""[strategy]
kind = "random"
trials = {members}
"""
    return head + strat + f"""[budget]
steps = {steps}
segment_steps = {interval}
seed = 11
[objective]
metric = "val_loss"
mode = "min"
"""


class Reference:
    """One uninterrupted run of the task, the yardstick of the kill tests."""
    def __init__(self, args, base):
        self.args = args
        self.kind = "pbt"
        self.note = ""
        d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="ref-"), workers=2).start()
        c = d.client()
        try:
            try:
                tid = submit(c, task_text("pbt", args.task_size))
            except RPCError as e:
                self.kind = "random"
                self.note = f"PBT unavailable ({e.message[:80]}); random search instead"
                log(self.note)
                tid = submit(c, task_text("random", args.task_size))
            t0 = time.time()
            wait_task(c, tid, 600)
            self.seconds = time.time() - t0
            self.outcome = outcome(c, tid)
            self.rows, self.dups = metric_rows(d.store, tid)
            log(f"reference {self.kind} run: {self.seconds:.1f} s, {len(self.rows)} metric rows, status {self.outcome[0]}")
        finally:
            c.close()
            d.stop()

    def compare(self, c, store, tid):
        o = outcome(c, tid)
        rows, dups = metric_rows(store, tid)
        missing = len(set(self.rows) - set(rows))
        extra = len(set(rows) - set(self.rows))
        same = o == self.outcome and rows == self.rows and dups == 0
        return same, f"{len(rows)} metric rows ({missing} missing, {extra} unexpected, {dups} duplicated); " + (
            "result equals the uninterrupted run" if o == self.outcome else f"result differs: {o} vs {self.outcome}")


# ---------------------------------------------------------------- checks

def check_kill9(args, base, ref):
    d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="kill9-"), workers=2).start()
    c = d.client()
    tid = submit(c, task_text(ref.kind, args.task_size))
    c.close()
    rng = random.Random(args.seed)
    kills = 0
    for _ in range(args.kills):
        # Spread the kills over the reference run's duration (a short smoke task included).
        hi = ref.seconds / (args.kills + 2)
        time.sleep(rng.uniform(min(0.3, hi / 2), max(0.1, hi)))
        c = d.client()
        st = c.call("task.get", {"task_id": tid})["status"]
        c.close()
        if st in ("completed", "failed"):
            break
        d.kill9()
        kills += 1
        d.start()
    c = d.client()
    wait_task(c, tid, 600)
    same, detail = ref.compare(c, d.store, tid)
    c.close()
    d.stop()
    ok = same and kills == args.kills
    return ok, f"{kills}/{args.kills} kill -9 of the daemon during a {ref.kind} task; {detail}"


def check_workers(args, base, ref):
    d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="workers-"), workers=2, lease=2).start()
    c = d.client()
    tid = submit(c, task_text(ref.kind, args.task_size))
    time.sleep(min(1.0, ref.seconds / 4))
    ws = children(d.proc.pid)
    os.kill(ws[0], signal.SIGKILL)
    time.sleep(min(1.0, ref.seconds / 4))
    ws = children(d.proc.pid)
    stopped = ws[-1]
    os.kill(stopped, signal.SIGSTOP)
    time.sleep(d.lease * 2.5)  # the stopped worker's lease expires; its segment goes to the other
    os.kill(stopped, signal.SIGCONT)
    wait_task(c, tid, 600)
    same, detail = ref.compare(c, d.store, tid)
    with open(os.path.join(d.root, "daemon-1.log"), errors="replace") as f:
        expired = f.read().count("lease expired")
    c.close()
    d.stop()
    return same, f"kill -9 of a worker, SIGSTOP of another past its lease ({expired} lease(s) expired); {detail}"


def fuzz_lines(n, rng):
    valid = ['{"jsonrpc":"2.0","id":%d,"method":"daemon.status"}', '{"jsonrpc":"2.0","id":%d,"method":"task.list","params":{}}']
    methods = ["task.submit", "task.get", "task.results", "task.cancel", "trial.list", "worker.lease", "worker.finish",
               "worker.report", "worker.heartbeat", "daemon.status", "nope"]
    for i in range(n):
        k = rng.randrange(10)
        if k == 0:
            yield bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 200))).replace(b"\n", b" ")
        elif k == 1:
            s = (valid[0] % i)
            yield s[: rng.randrange(1, len(s))].encode()
        elif k == 2:
            yield ('{"jsonrpc":"2.0","id":%d,"method":"task.get","params":{"task_id":%s}}' % (
                i, rng.choice(["1e400", "-1e400", "123456789012345678901234567890", "-0", "1.5", "NaN", "9" * 400]))).encode()
        elif k == 3:
            depth = rng.choice([10, 100, 1000, 100000])
            yield ('{"jsonrpc":"2.0","id":%d,"method":"task.submit","params":' % i + "[" * depth + "]" * depth + "}").encode()
        elif k == 4:
            yield ('{"jsonrpc":"2.0","id":%d,"method":"%s","params":%s}' % (i, rng.choice(methods), rng.choice(
                ['{"task_id":"x"}', '[]', '"s"', '{"text":5}', '{"worker_id":[],"segment_id":{}}', 'null', 'true',
                 '{"task_id":1,"status":["x"]}', '{"text":"name=1","format":"yaml"}']))).encode()
        elif k == 5:
            size = 1_100_000 if rng.random() < 0.01 else rng.choice([1000, 100_000])  # a few over the 1 MiB limit
            yield b'{"jsonrpc":"2.0","id":%d,"method":"daemon.status","pad":"' % i + b"x" * size + b'"}'
        elif k == 6:
            yield ('{"jsonrpc":"1.0","id":%s,"method":5}' % rng.choice(['{}', '[]', 'null', '1.5', '"a"'])).encode()
        elif k == 7:
            yield b""
        elif k == 8:
            yield ('{"jsonrpc":"2.0","method":"%s"}' % rng.choice(methods)).encode()  # notification: no reply
        else:
            yield (valid[1] % i).encode()


def check_fuzz(args, base):
    d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="fuzz-"), workers=0).start()
    pid = d.proc.pid
    rng = random.Random(args.seed)
    sent = replies = reconnects = 0
    c = d.client()
    batch = []
    for line in fuzz_lines(args.fuzz_lines, rng):
        batch.append(line)
        if len(batch) == 200:
            r, rc = fuzz_batch(d, c, batch, sent)
            replies += r
            if rc:
                reconnects += 1
                c = d.client()
            sent += len(batch)
            batch = []
    if batch:
        replies += fuzz_batch(d, c, batch, sent)[0]
        sent += len(batch)
    alive_after = d.proc.poll() is None and d.proc.pid == pid
    st = d.client().call("daemon.status") if alive_after else None
    d.stop()
    crashes = 0 if alive_after and st and st["pid"] == pid else 1
    return crashes == 0, f"{sent} fuzzed lines, {replies} replies, {reconnects} reconnects, {crashes} crashes"


def fuzz_batch(d, c, batch, base_id):
    sentinel = f"sentinel-{base_id}"
    payload = b"\n".join(batch) + b"\n" + json.dumps({"jsonrpc": "2.0", "id": sentinel, "method": "daemon.status"}).encode() + b"\n"
    try:
        c.s.sendall(payload)
        n = 0
        while True:
            r = json.loads(c.line())
            n += 1
            if r.get("id") == sentinel:
                return n - 1, False
    except (OSError, ConnectionError, ValueError):
        return 0, True


def check_broken(args, base):
    d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="broken-"), workers=0).start()
    c = d.client()
    tasks = sorted(glob.glob(os.path.join(REPO, "Tests/TunedEngineTests/Fixtures/broken/*"))) + sorted(
        glob.glob(os.path.join(REPO, "Tests/TunedOpsTests/Fixtures/task-broken/*.toml")))
    clear = 0
    bad = []
    for f in tasks:
        fmt = "json" if f.endswith(".json") else "toml"
        try:
            c.call("task.submit", {"text": open(f).read(), "format": fmt, "filename": os.path.basename(f), "base_dir": os.path.dirname(f)})
            bad.append(os.path.basename(f) + " accepted")
        except RPCError as e:
            if e.code == -32001 and e.message.startswith(os.path.basename(f)) and len(e.message) > len(f) // 2:
                clear += 1
            else:
                bad.append(f"{os.path.basename(f)}: {e.message}")
    c.close()
    d.stop()
    configs = sorted(glob.glob(os.path.join(REPO, "Tests/TunedOpsTests/Fixtures/config-broken/*.toml")))
    for f in configs:
        r = subprocess.run([args.tuned, "check-config", f], capture_output=True, text=True)
        if r.returncode == 1 and r.stderr.startswith(f + ":"):
            clear += 1
        else:
            bad.append(f"{os.path.basename(f)}: exit {r.returncode} {r.stderr.strip()}")
    features = sorted(glob.glob(os.path.join(REPO, "Tests/*/Fixtures/*feature*broken*/*")))
    total = len(tasks) + len(configs) + len(features)
    for b in bad[:5]:
        log(b)
    return total >= 50 and clear == len(tasks) + len(configs), (
        f"{total} broken files ({len(tasks)} task, {len(configs)} config, {len(features)} feature): {clear} clear errors naming file and line")


def attempts(store, task_id):
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    n = db.execute("SELECT COALESCE(MAX(attempts), 0) FROM segments WHERE task_id = ?", (task_id,)).fetchone()[0]
    db.close()
    return n


def check_diskfull(args, base, ref):
    """The store and checkpoints on a 20 MiB tmpfs; once the task has committed its first
    segment the disk is filled for args.full_seconds, then freed. The daemon must pause
    (status shows it), consume no attempt (default max_retries) and end like the reference."""
    if os.geteuid() != 0:
        return None, "skipped: mounting a size-limited tmpfs needs root"
    root = tempfile.mkdtemp(dir=base, prefix="disk-")
    mnt = os.path.join(root, "mnt")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", mnt]).returncode != 0:
        return None, "skipped: cannot mount tmpfs here"
    try:
        d = Daemon(args, root, workers=2, lease=2, store=os.path.join(mnt, "store", "tuned.db")).start()
        c = d.client()
        tid = submit(c, task_text(ref.kind, args.task_size))
        deadline = time.time() + 60
        while c.call("task.get", {"task_id": tid})["steps_done"] == 0 and time.time() < deadline:
            time.sleep(0.01)
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        # While the disk is full: the daemon stays up, pauses (status and the task say so),
        # and a submission gets a clear error.
        store_error, task_paused, err = None, None, None
        t_full = time.time()
        while time.time() - t_full < args.full_seconds:
            st = c.call("daemon.status")
            store_error = store_error or st["store"].get("error")
            task_paused = task_paused or c.call("task.get", {"task_id": tid}).get("paused")
            if err is None and store_error is not None:  # the training's own fault first, then a submission
                try:
                    submit(c, task_text("random", (2, 100, 50)).replace("reliability-random", "while-full"))
                except RPCError as e:
                    err = e.message
            time.sleep(0.25)
        up = d.proc.poll() is None and c.call("daemon.status")["pid"] == d.proc.pid
        os.remove(filler)
        wait_task(c, tid, 600)
        same, detail = ref.compare(c, d.store, tid)
        used = attempts(d.store, tid)
        c.close()
        d.stop()
    finally:
        subprocess.run(["umount", "-l", mnt])
    log(f"while full: store.error {store_error!r}; task paused {task_paused!r}; a submission: {err!r}")
    ok = up and same and used == 0 and store_error is not None and task_paused is not None
    return ok, (f"store on a full 20 MiB tmpfs for {args.full_seconds:.0f} s: daemon up {up}, paused "
                f"{'shown' if task_paused else 'NOT shown'} (store.error \"{(store_error or 'none')[:60]}\"), "
                f"attempts consumed {used}; after space returned: {detail}")


def check_forgery(args, base):
    """A client of the daemon's own uid without the worker secret (or with a wrong one) calls
    every worker method: each gets -32002 and the store does not change."""
    d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="forge-"), workers=0).start()
    c = d.client()
    tid = submit(c, task_text("random", (1, 100, 100)))
    def snapshot():
        db = sqlite3.connect(f"file:{d.store}?mode=ro", uri=True)
        r = [db.execute(q).fetchone()[0] for q in (
            "SELECT COUNT(*) FROM metrics", "SELECT COUNT(*) FROM checkpoints", "SELECT COUNT(*) FROM events",
            "SELECT COUNT(*) FROM segments WHERE status != 'queued'")]
        db.close()
        return r
    before = snapshot()
    codes = []
    calls = [
        ("worker.hello", {"worker_id": "w1", "pid": os.getpid()}),
        ("worker.hello", {"worker_id": "w1", "pid": os.getpid(), "secret": "0123456789abcdef-guess"}),
        ("worker.lease", {"worker_id": "w1"}),
        ("worker.heartbeat", {"worker_id": "w1", "segment_id": 1}),
        ("worker.report", {"worker_id": "w1", "segment_id": 1, "metrics": [{"step": 1, "name": "val_loss", "value": -12345}]}),
        ("worker.finish", {"worker_id": "w1", "segment_id": 1, "status": "ok",
                           "checkpoint": {"path": "/etc/shadow", "step": 100, "checksum": "sha256:" + "0" * 64, "size": 1}}),
    ]
    for method, params in calls:
        try:
            c.call(method, params)
            codes.append(0)
        except RPCError as e:
            codes.append(e.code)
    after = snapshot()
    c.close()
    d.stop()
    ok = all(code == -32002 for code in codes) and before == after
    return ok, f"{len(calls)} worker calls without the secret: codes {sorted(set(codes))}; store {'unchanged' if before == after else f'CHANGED {before} -> {after}'} (task {tid})"


def check_runas(args, base):
    """A root daemon runs a command workload submitted by uid 65534 as uid 65534."""
    if os.geteuid() != 0:
        return None, "skipped: switching users needs a root daemon"
    root = tempfile.mkdtemp(dir=base, prefix="runas-")
    os.chmod(root, 0o755)
    conf = os.path.join(root, "tuned.toml")
    with open(conf, "w") as f:
        f.write('[command_workloads]\nallow_users = ["nobody"]\n')
    d = Daemon(args, root, workers=1, extra=["--config", conf]).start()
    os.chown(d.socket, 0, 65534)
    script = os.path.join(root, "whoami.py")
    with open(script, "w") as f:
        f.write("import os\nend = int(os.environ['TUNED_END_STEP'])\n"
                "print(f'tuned: step={end} val_loss=1.0 uid={os.getuid()} gid={os.getgid()}', flush=True)\n"
                "open(os.path.join(os.environ['TUNED_CHECKPOINT_DIR'], 'state'), 'w').write('x')\n")
    task = os.path.join(root, "task.toml")
    with open(task, "w") as f:
        f.write(f'name = "run-as"\n[workload]\nkind = "command"\ncommand = ["python3", "{script}"]\n'
                '[search]\noptimizer = "sgd"\nlr = 0.1\n[strategy]\nkind = "random"\ntrials = 1\n[budget]\nsteps = 10\n'
                '[objective]\nmetric = "val_loss"\nmode = "min"\n')
    for p in (script, task):
        os.chmod(p, 0o644)
    tunectl = os.path.join(root, "tunectl")
    shutil.copy(os.path.join(os.path.dirname(args.tuned), "tunectl"), tunectl)
    os.chmod(tunectl, 0o755)
    r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", tunectl, "--socket", d.socket,
                        "submit", task, "--wait"], capture_output=True, text=True)
    c = d.client()
    res = c.call("task.results", {"task_id": 1})
    c.close()
    d.stop()
    final = (res["trials"][0].get("final_metrics") or {}) if res["trials"] else {}
    ok = r.returncode == 0 and final.get("uid") == 65534 and final.get("gid") == 65534
    return ok, f"submitted by uid 65534: the program ran as uid {final.get('uid')}, gid {final.get('gid')} (tunectl exit {r.returncode})"


def check_otheruid(args, base):
    if os.geteuid() != 0:
        return None, "skipped: switching to uid 65534 (setpriv) needs root"
    root = tempfile.mkdtemp(dir=base, prefix="uid-")
    os.chmod(root, 0o755)
    d = Daemon(args, root, workers=0, extra=["--socket-mode", "666"]).start()
    tunectl = os.path.join(root, "tunectl")
    shutil.copy(os.path.join(os.path.dirname(args.tuned), "tunectl"), tunectl)
    os.chmod(tunectl, 0o755)
    r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", tunectl, "--socket", d.socket,
                        "daemon", "status"], capture_output=True, text=True)
    # The raw reply, read without sending (tunectl sends at once; the server's close with its
    # request unread can reset the connection before the refusal line is read).
    py = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nd=b''\n"
          "while True:\n b=s.recv(65536)\n if not b: break\n d+=b\nsys.stdout.write(d.decode())")
    raw = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable, "-c", py, d.socket],
                         capture_output=True, text=True)
    up = d.client().call("daemon.status")["pid"] == d.proc.pid
    d.stop()
    refused = '"code":-32002' in raw.stdout.replace(" ", "")
    ok = r.returncode == 1 and refused and up
    return ok, (f"uid 65534: tunectl exit {r.returncode}; the daemon's reply: {raw.stdout.strip()[:110]}; "
                f"daemon serves its own user after: {up}")


def check_soak(args, base):
    # 64 clients, this script's own connection and 2 per worker (lease + heartbeat) > the default 64.
    d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="soak-"), workers=2, lease=3, extra=["--max-connections", "80"]).start()
    c = d.client()
    tid = submit(c, task_text("random", (1000, 100000, 100)).replace("reliability-random", "soak"))
    stop = threading.Event()
    counts = {"calls": 0, "errors": 0}
    lock = threading.Lock()
    first_error = []

    def client_loop(k):
        rng = random.Random(k)
        try:
            cl = d.client()
        except OSError as e:
            with lock:
                counts["errors"] += 1
                first_error.append(str(e))
            return
        while not stop.is_set():
            try:
                m = rng.choice(["daemon.status", "task.list", "task.get", "trial.list"])
                cl.call(m, {"task_id": tid} if m in ("task.get", "trial.list") else None)
                with lock:
                    counts["calls"] += 1
            except Exception as e:  # noqa: BLE001 — every failure counts
                with lock:
                    counts["errors"] += 1
                    first_error.append(f"{m}: {e}")
                return
            time.sleep(rng.uniform(0, 0.05))
        cl.close()

    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(64)]
    for t in threads:
        t.start()
    samples = []
    t0 = time.time()
    while time.time() - t0 < args.soak_seconds:
        time.sleep(min(5, args.soak_seconds / 10))
        samples.append(d.rss_kib())
    stop.set()
    for t in threads:
        t.join()
    c.close()  # idle for the whole soak: the daemon's idle timeout (300 s) has closed it
    c = d.client()
    segs = c.call("task.get", {"task_id": tid})["steps_done"]
    c.call("task.cancel", {"task_id": tid})
    c.close()
    d.stop()
    half = max(1, len(samples) // 2)
    early, late = max(samples[:half]), max(samples[half:] or samples[-1:])
    flat = late <= early * 1.10
    for e in first_error[:3]:
        log(e)
    return counts["errors"] == 0 and flat, (
        f"64 clients + 2 workers for {args.soak_seconds:.0f} s: {counts['calls']} calls, {counts['errors']} errors, "
        f"{segs} steps trained; RSS max first half {early / 1024:.1f} MiB, second half {late / 1024:.1f} MiB")


def check_history(args, base):
    d = Daemon(args, tempfile.mkdtemp(dir=base, prefix="history-"), workers=2).start()
    c = d.client()
    n = args.history
    text = f"""name = "history"
[workload]
kind = "rosenbrock"
[search]
optimizer = ["sgd"]
lr = {{ log_uniform = [1e-5, 1e-3] }}
[strategy]
kind = "random"
trials = {n}
[budget]
steps = 5
seed = 1
[objective]
metric = "val_loss"
mode = "min"
"""
    t0 = time.time()
    tid = submit(c, text)
    db = sqlite3.connect(f"file:{d.store}?mode=ro", uri=True)
    rss_at = {}
    while True:
        done = db.execute("SELECT COUNT(*) FROM trials WHERE task_id = ? AND status IN ('succeeded','failed')", (tid,)).fetchone()[0]
        for mark in (100, 1000, 2500, 5000):
            if mark < n and done >= mark and mark not in rss_at:
                rss_at[mark] = d.rss_kib()
        if done >= n:
            rss_at[n] = d.rss_kib()  # before any client asks for the 10,000-row task (below)
            break
        if time.time() - t0 > 3600:
            break
        time.sleep(0.05)
    seconds = time.time() - t0
    wait_task(c, tid, 600)
    c.call("task.results", {"task_id": tid})
    after_rpc = d.rss_kib()  # a reply listing every trial: its peak stays in malloc's arenas
    db.close()
    c.close()
    d.stop()
    growth = rss_at[n] / rss_at[100] - 1
    curve = ", ".join(f"{k}: {v / 1024:.1f}" for k, v in sorted(rss_at.items()))
    return growth <= 0.10, (
        f"daemon RSS after 100 finished trials {rss_at[100] / 1024:.1f} MiB, after {n} {rss_at[n] / 1024:.1f} MiB "
        f"({growth * 100:+.1f} %; MiB by trials finished: {curve}); {n} trials in {seconds:.0f} s ({n / seconds:.0f} trials/s); "
        f"after task.get + task.results of all {n} trials {after_rpc / 1024:.1f} MiB")


# ---------------------------------------------------------------- main

CHECKS = ["kill9", "workers", "fuzz", "broken", "diskfull", "otheruid", "forgery", "runas", "soak", "history"]


def main():
    p = argparse.ArgumentParser(description="tuned reliability suite (docs/RELIABILITY.md)")
    p.add_argument("--short", action="store_true", help="30 s soak, smaller sizes (minutes in all)")
    p.add_argument("--smoke", action="store_true", help="every check at a tiny size (the test suite runs this)")
    p.add_argument("--minutes", type=float, default=10, help="soak duration (default 10)")
    p.add_argument("--bin", default=None, help="folder with tuned and tunectl (default .build/release, else .build/debug)")
    p.add_argument("--only", default=",".join(CHECKS), help="comma-separated checks: " + ", ".join(CHECKS))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the temporary folders (daemon logs)")
    args = p.parse_args()
    binary = args.bin or next((b for b in [os.path.join(REPO, ".build/release"), os.path.join(REPO, ".build/debug")]
                               if os.path.exists(os.path.join(b, "tuned"))), None)
    if not binary:
        sys.exit("reliability: no built tuned; run swift build -c release, or pass --bin DIR")
    args.tuned = os.path.join(os.path.abspath(binary), "tuned")
    if args.smoke:
        args.kills, args.fuzz_lines, args.soak_seconds, args.history, args.task_size = 1, 1000, 3, 150, (2, 400, 50)
        args.full_seconds = 20
    elif args.short:
        args.kills, args.fuzz_lines, args.soak_seconds, args.history, args.task_size = 10, 100_000, 30, 10_000, (4, 800, 100)
        args.full_seconds = 20
    else:
        args.kills, args.fuzz_lines, args.soak_seconds, args.history, args.task_size = 10, 100_000, args.minutes * 60, 10_000, (8, 1500, 100)
        args.full_seconds = 20
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    for c in only:
        if c not in CHECKS:
            sys.exit(f"reliability: unknown check '{c}' (known: {', '.join(CHECKS)})")
    atexit.register(lambda: [d.stop() for d in DAEMONS])
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    base = tempfile.mkdtemp(prefix="tuned-reliability-")
    os.chmod(base, 0o755)  # the other-uid check must reach the socket to be refused by the daemon
    print(f"reliability: {args.tuned}, {'smoke' if args.smoke else 'short' if args.short else 'full'} run, folder {base}", flush=True)
    ref = None
    t_all = time.time()
    for name in only:
        t0 = time.time()
        print(f"[{name}]", flush=True)
        try:
            if name in ("kill9", "workers", "diskfull") and ref is None:
                ref = Reference(args, base)
            fn = globals()["check_" + name]
            ok, detail = fn(args, base, ref) if name in ("kill9", "workers", "diskfull") else fn(args, base)
        except Exception as e:  # noqa: BLE001 — a check that blows up is a failed line, not a crash of the suite
            ok, detail = False, f"error: {type(e).__name__}: {e}"
        if ref is not None and ref.note and name == "kill9":
            detail += f" [{ref.note}]"
        RESULTS.append((name, ok, detail, time.time() - t0))
        print(f"  = {'PASS' if ok else 'SKIP' if ok is None else 'FAIL'} ({time.time() - t0:.0f} s): {detail}", flush=True)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    print("\nSummary")
    print(f"{'check':<9} {'result':<6} {'time':>6}  detail")
    for name, ok, detail, secs in RESULTS:
        print(f"{name:<9} {'PASS' if ok else 'SKIP' if ok is None else 'FAIL':<6} {secs:>5.0f}s  {detail}")
    failed = [n for n, ok, _, _ in RESULTS if ok is False]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} passed in {time.time() - t_all:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

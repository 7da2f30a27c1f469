-- 0001_initial: the first schema of the tuned store.
--
-- RULE: this file has shipped. Never edit it; add 0002_*.sql instead. The store records
-- a checksum of every applied migration and refuses to open a file whose recorded
-- checksum differs from the binary's copy (see docs/STORE.md).
--
-- Conventions
--   * ids are INTEGER PRIMARY KEY (rowid aliases); times are REAL seconds since
--     1970-01-01 UTC; JSON columns hold UTF-8 JSON text (`*_json`).
--   * metric values are REAL; NULL stands for NaN (SQLite cannot store NaN).
--   * statuses are TEXT with CHECK constraints, so a bad status is an error, not data.
--   * foreign keys are enforced (PRAGMA foreign_keys = ON on every connection).
--   * rows are never deleted by the daemon; checkpoints are "released" instead.
--
-- Tables
--   tasks        one submitted task: its file as sent (spec_text), the daemon's
--                normalised form (spec_json), objective, seed, task features, status
--                queued|running|succeeded|failed|cancelled and its times.
--   trials       one member (PBT) or configuration (random/grid/ASHA) of a task: current
--                config, status pending|running|paused|succeeded|failed|diverged|stopped|
--                pruned, committed progress (steps_done, checkpoint_id), the best value of
--                the task's objective metric so far and the latest value of every metric
--                (final_metrics_json), both maintained by the store from `metrics`.
--   checkpoints  a trial's state at a step: a file reference (path) or an inline blob,
--                with size and checksum. `pinned` keeps it forever; `released_at` is set
--                once garbage collection has deleted the file.
--   segments     a unit of work: "trial t, config c, steps [start_step, end_step),
--                starting from checkpoint k". status queued|leased|done|failed; a leased
--                segment has an owner and an expiry; attempts counts leases that ended
--                without a commit.
--   metrics      one value of one metric of one trial at one step. The primary key
--                (trial_id, name, step) makes a replayed segment unable to duplicate a
--                committed metric (inserts are INSERT OR IGNORE: the first value wins).
--   lineage      one PBT exploit/explore edge: at step/generation, recipient copied donor's
--                checkpoint, its config went from old to new; changes_json says what changed.
--   events       an append-only log of what happened to a task or trial (for watch/debug).
--   policies     versions of learned documents (recommendation policy, batch-size model),
--                by kind; at most one active version per kind.
-- (schema_migrations is created by the migration runner itself, before this file runs.)

CREATE TABLE tasks (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    spec_text         TEXT    NOT NULL,
    spec_format       TEXT    NOT NULL CHECK (spec_format IN ('toml', 'json')),
    spec_json         TEXT    NOT NULL,
    strategy          TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    seed              INTEGER NOT NULL DEFAULT 0,
    features_json     TEXT,
    objective_metric  TEXT    NOT NULL,
    objective_mode    TEXT    NOT NULL CHECK (objective_mode IN ('min', 'max')),
    error             TEXT,
    created_at        REAL    NOT NULL,
    started_at        REAL,
    finished_at       REAL
);
CREATE INDEX tasks_by_status ON tasks (status, id);

CREATE TABLE trials (
    id                  INTEGER PRIMARY KEY,
    task_id             INTEGER NOT NULL REFERENCES tasks (id),
    member              INTEGER NOT NULL CHECK (member >= 0),
    generation          INTEGER NOT NULL DEFAULT 0,
    config_json         TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'running', 'paused', 'succeeded', 'failed',
                                          'diverged', 'stopped', 'pruned')),
    steps_done          INTEGER NOT NULL DEFAULT 0,
    checkpoint_id       INTEGER REFERENCES checkpoints (id),
    best_value          REAL,
    best_step           INTEGER,
    final_metrics_json  TEXT,
    error               TEXT,
    created_at          REAL    NOT NULL,
    updated_at          REAL    NOT NULL,
    UNIQUE (task_id, member, generation)
);
-- results(task:) ranks by objective: (task_id, best_value) serves "best trial" directly.
CREATE INDEX trials_by_task_best ON trials (task_id, best_value);
-- Lease bookkeeping: "no trial is running without a live lease" is checked through this.
CREATE INDEX trials_running ON trials (id) WHERE status = 'running';
CREATE INDEX trials_by_checkpoint ON trials (checkpoint_id) WHERE checkpoint_id IS NOT NULL;

CREATE TABLE checkpoints (
    id           INTEGER PRIMARY KEY,
    trial_id     INTEGER NOT NULL REFERENCES trials (id),
    segment_id   INTEGER REFERENCES segments (id),
    step         INTEGER NOT NULL CHECK (step >= 0),
    path         TEXT,
    blob         BLOB,
    size         INTEGER NOT NULL CHECK (size >= 0),
    checksum     TEXT    NOT NULL,
    pinned       INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    created_at   REAL    NOT NULL,
    released_at  REAL,
    CHECK ((path IS NULL) <> (blob IS NULL))
);
CREATE INDEX checkpoints_by_trial ON checkpoints (trial_id, step);
CREATE INDEX checkpoints_live ON checkpoints (id) WHERE released_at IS NULL;

CREATE TABLE segments (
    id                  INTEGER PRIMARY KEY,
    trial_id            INTEGER NOT NULL REFERENCES trials (id),
    task_id             INTEGER NOT NULL REFERENCES tasks (id),
    start_step          INTEGER NOT NULL CHECK (start_step >= 0),
    end_step            INTEGER NOT NULL CHECK (end_step > start_step),
    config_json         TEXT    NOT NULL,
    from_checkpoint_id  INTEGER REFERENCES checkpoints (id),
    status              TEXT    NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'leased', 'done', 'failed')),
    lease_owner         TEXT,
    lease_expires_at    REAL,
    attempts            INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    error               TEXT,
    created_at          REAL    NOT NULL,
    updated_at          REAL    NOT NULL,
    CHECK ((status = 'leased') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- The work queue and the lease sweeper read only these small partial indexes.
CREATE INDEX segments_queued ON segments (id) WHERE status = 'queued';
CREATE INDEX segments_leased ON segments (lease_expires_at) WHERE status = 'leased';
CREATE INDEX segments_by_trial ON segments (trial_id, start_step);
CREATE INDEX segments_by_task ON segments (task_id, status);
CREATE INDEX segments_by_checkpoint ON segments (from_checkpoint_id)
    WHERE from_checkpoint_id IS NOT NULL;

CREATE TABLE metrics (
    trial_id    INTEGER NOT NULL REFERENCES trials (id),
    name        TEXT    NOT NULL,
    step        INTEGER NOT NULL,
    value       REAL,
    segment_id  INTEGER REFERENCES segments (id),
    PRIMARY KEY (trial_id, name, step)
) WITHOUT ROWID;

CREATE TABLE lineage (
    id                   INTEGER PRIMARY KEY,
    task_id              INTEGER NOT NULL REFERENCES tasks (id),
    step                 INTEGER NOT NULL,
    generation           INTEGER NOT NULL,
    donor_trial_id       INTEGER NOT NULL REFERENCES trials (id),
    recipient_trial_id   INTEGER NOT NULL REFERENCES trials (id),
    donor_checkpoint_id  INTEGER REFERENCES checkpoints (id),
    old_config_json      TEXT    NOT NULL,
    new_config_json      TEXT    NOT NULL,
    changes_json         TEXT    NOT NULL,
    created_at           REAL    NOT NULL
);
CREATE INDEX lineage_by_task ON lineage (task_id, step, id);
CREATE INDEX lineage_by_recipient ON lineage (recipient_trial_id);
CREATE INDEX lineage_by_checkpoint ON lineage (donor_checkpoint_id)
    WHERE donor_checkpoint_id IS NOT NULL;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER REFERENCES tasks (id),
    trial_id    INTEGER REFERENCES trials (id),
    kind        TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    data_json   TEXT,
    created_at  REAL    NOT NULL
);
CREATE INDEX events_by_task ON events (task_id, id);

CREATE TABLE policies (
    version        INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    document_json  TEXT    NOT NULL,
    created_at     REAL    NOT NULL,
    active         INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);
CREATE UNIQUE INDEX policies_one_active ON policies (kind) WHERE active = 1;
CREATE INDEX policies_by_kind ON policies (kind, version);

-- 0003_segment_logs: why a segment attempt failed, with the program's last words.
--
-- One row per failed or diverged attempt of a segment (a retried segment has one row per
-- failed attempt): the one-line `reason` (for a command workload the last line of its
-- traceback or stderr, e.g. "KeyError: 'lr'"; else the worker's error), the full `error`
-- the worker or the daemon reported, the tail of the program's stderr (bounded by the
-- worker: the last 50 lines / 8 KiB) and the worker's own lines for the segment (ordinary
-- stdout lines and warnings, same bound). Rows are appended, never updated or deleted.

CREATE TABLE segment_logs (
    id           INTEGER PRIMARY KEY,
    task_id      INTEGER NOT NULL REFERENCES tasks (id),
    trial_id     INTEGER NOT NULL REFERENCES trials (id),
    segment_id   INTEGER NOT NULL REFERENCES segments (id),
    attempt      INTEGER NOT NULL CHECK (attempt >= 1),
    status       TEXT    NOT NULL CHECK (status IN ('failed', 'diverged')),
    reason       TEXT    NOT NULL,
    error        TEXT    NOT NULL,
    stderr_tail  TEXT,
    worker_log   TEXT,
    worker       TEXT,
    created_at   REAL    NOT NULL
);
-- `tunectl logs TASK TRIAL` and a trial's latest reason; a task's first failure.
CREATE INDEX segment_logs_by_trial ON segment_logs (trial_id, id);
CREATE INDEX segment_logs_by_task ON segment_logs (task_id, id);

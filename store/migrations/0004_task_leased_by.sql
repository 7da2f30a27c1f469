-- Who runs a task's segments: the daemon's workers ('worker', every task so far) or a client
-- of the task's submitter that asks for them (`study.ask`, `[workload] kind = "external"`:
-- the user's own training loop drives the tuning, ask/tell). Workers never lease a 'client'
-- task's segments, and `study.ask` leases only its own task's.
ALTER TABLE tasks ADD COLUMN leased_by TEXT NOT NULL DEFAULT 'worker' CHECK (leased_by IN ('worker', 'client'));

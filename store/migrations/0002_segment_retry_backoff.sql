-- A failed segment that is retried waits before it can be leased again (Store.retryDelay:
-- 0.5 s doubling per attempt, at most 30 s), so a segment that fails at once does not burn
-- its attempts within milliseconds. NULL: leasable now.
ALTER TABLE segments ADD COLUMN not_before REAL;

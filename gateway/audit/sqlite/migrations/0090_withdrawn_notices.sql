-- A required notice whose sender withdrew the release it was delivered
-- under before the recipient acknowledged it (audit.Withdrawal): closed,
-- with withdrawn_ns and withdrawn_idx, the entry of the withdrawal. It is
-- no longer escalated, called overdue or acknowledged.
ALTER TABLE notices ADD COLUMN withdrawn_ns INTEGER;
ALTER TABLE notices ADD COLUMN withdrawn_idx INTEGER REFERENCES leaves (idx);

-- An acknowledgement of an obligation notice from a peer gateway, made
-- here while that gateway could not be reached: it stands here and is
-- forwarded to the peer later. Both columns are projected from the log,
-- like the rest of aftercare_notices: fwd_due is 1 when the
-- acknowledgement's entry says detail.peer_outcome deferred; fwd_idx is the
-- entry that forwarded it (detail.forwards), once one did.
ALTER TABLE aftercare_notices ADD COLUMN fwd_due INTEGER NOT NULL DEFAULT 0 CHECK (fwd_due IN (0, 1));
ALTER TABLE aftercare_notices ADD COLUMN fwd_idx INTEGER;

CREATE INDEX aftercare_notices_forward_due ON aftercare_notices (idx) WHERE fwd_due = 1 AND fwd_idx IS NULL;

-- A required notice from an agency behind a peer gateway that its
-- recipient acknowledged here while that gateway could not be reached:
-- the acknowledgement stands here and is forwarded to the peer later.
-- fwd_due is set with the acknowledgement (its entry says
-- detail.peer_outcome deferred); forwarded_ns and forwarded_idx, the
-- entry whose forward the peer took, once it did.
ALTER TABLE notices ADD COLUMN fwd_due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notices ADD COLUMN forwarded_ns INTEGER;
ALTER TABLE notices ADD COLUMN forwarded_idx INTEGER REFERENCES leaves (idx);

CREATE INDEX notices_forward_due ON notices (acked_ns) WHERE fwd_due = 1 AND forwarded_ns IS NULL;

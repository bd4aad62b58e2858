-- A required notice from an agency behind a peer gateway that its
-- recipient acknowledged here while that gateway could not be reached:
-- the acknowledgement stands here and is forwarded to the peer later.
-- fwd_due is set with the acknowledgement (its entry says
-- detail.peer_outcome deferred); forwarded_ns and forwarded_idx, the
-- entry whose forward the peer took, once it did.
ALTER TABLE notices ADD COLUMN fwd_due BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notices ADD COLUMN forwarded_ns BIGINT;
ALTER TABLE notices ADD COLUMN forwarded_idx BIGINT REFERENCES leaves (idx);

CREATE INDEX notices_forward_due ON notices (acked_ns) WHERE fwd_due AND forwarded_ns IS NULL;

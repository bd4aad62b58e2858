-- peer is the peer gateway that tracks a required notice with this one,
-- as the entry that created the notice records it (audit.NoticePeer):
-- the gateway that delivered it (detail.via_peer) or else the one it was
-- forwarded to (detail.peer); NULL for a notice between this gateway's
-- own agencies. ListNotices names it (TrackedNotice.peer) instead of the
-- gateway the registry lists for the sender or recipient now, which an
-- operator moving agencies behind another gateway changes. The notices
-- tracked before are filled in here from their entries, as the gateway
-- fills in a new one from its entry.
ALTER TABLE notices ADD COLUMN peer TEXT;

UPDATE notices SET peer = (
	SELECT coalesce(nullif(json_extract(l.leaf_text, '$.detail.via_peer'), ''),
		nullif(json_extract(l.leaf_text, '$.detail.peer'), ''))
	FROM leaves l WHERE l.idx = notices.audit_idx);

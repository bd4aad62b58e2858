-- peer is the peer gateway that tracks a required notice with this one,
-- as the entry that created the notice records it (audit.NoticePeer):
-- the gateway that delivered it (detail.via_peer) or else the one it was
-- forwarded to (detail.peer); NULL for a notice between this gateway's
-- own agencies. ListNotices names it (TrackedNotice.peer) instead of the
-- gateway the registry lists for the sender or recipient now, which an
-- operator moving agencies behind another gateway changes. The notices
-- tracked before are filled in here from their entries, as the gateway
-- fills in a new one from its entry. The leaf is read as
-- liaison_leaf_index reads it (a NUL escape is not jsonb).
ALTER TABLE notices ADD COLUMN peer TEXT;

UPDATE notices n SET peer = coalesce(nullif(x.j #>> '{detail,via_peer}', ''), nullif(x.j #>> '{detail,peer}', ''))
FROM leaves l, LATERAL (SELECT replace(replace(replace(convert_from(l.leaf, 'UTF8'),
		chr(92) || chr(92), chr(1)),
		chr(92) || 'u0000', chr(92) || 'ufffe'),
		chr(1), chr(92) || chr(92))::jsonb AS j) x
WHERE l.idx = n.audit_idx;

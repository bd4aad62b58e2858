-- A required notice forwarded to a peer gateway that delivered it without
-- tracking it (its entry's detail.peer_tracks_notice is "false": a peer
-- of a release before both gateways tracked such notices) is tracked by
-- this gateway alone: no peer tracks it with this one (audit.NoticePeer),
-- and ListNotices names none (TrackedNotice.peer). 0140_notice_peer.sql
-- named the peer it was forwarded to; the notices it filled in so, and
-- any tracked since with that peer, are put right here from their
-- entries. The leaf is read as liaison_leaf_index reads it (a NUL escape
-- is not jsonb).
UPDATE notices n SET peer = NULL
FROM leaves l, LATERAL (SELECT replace(replace(replace(convert_from(l.leaf, 'UTF8'),
		chr(92) || chr(92), chr(1)),
		chr(92) || 'u0000', chr(92) || 'ufffe'),
		chr(1), chr(92) || chr(92))::jsonb AS j) x
WHERE l.idx = n.audit_idx AND n.peer IS NOT NULL
	AND coalesce(x.j #>> '{detail,via_peer}', '') = ''
	AND x.j #>> '{detail,peer_tracks_notice}' = 'false';

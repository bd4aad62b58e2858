-- A required notice forwarded to a peer gateway that delivered it without
-- tracking it (its entry's detail.peer_tracks_notice is "false": a peer
-- of a release before both gateways tracked such notices) is tracked by
-- this gateway alone: no peer tracks it with this one (audit.NoticePeer),
-- and ListNotices names none (TrackedNotice.peer). 0140_notice_peer.sql
-- named the peer it was forwarded to; the notices it filled in so, and
-- any tracked since with that peer, are put right here from their entries.
UPDATE notices SET peer = NULL
WHERE peer IS NOT NULL AND EXISTS (
	SELECT 1 FROM leaves l
	WHERE l.idx = notices.audit_idx
		AND coalesce(json_extract(l.leaf_text, '$.detail.via_peer'), '') = ''
		AND json_extract(l.leaf_text, '$.detail.peer_tracks_notice') = 'false');

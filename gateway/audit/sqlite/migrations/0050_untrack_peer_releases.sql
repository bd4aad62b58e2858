-- A release to an agency behind a peer gateway is tracked to the end of
-- its legal basis by that agency's gateway, whose own entry of it carries
-- the same basis (audit.RecipientBehindPeer): this gateway no longer
-- tracks it, and its expiry timer could not deliver the notice anyway
-- (PEER_NOTICE_UNSUPPORTED). A projection built before that still holds
-- such releases open; they leave it here, as a rebuild from the log would
-- leave them out. Only the projection changes; the log does not.
DELETE FROM aftercare_releases WHERE closed_by IS NULL AND idx IN (
	SELECT r.idx FROM aftercare_releases r JOIN leaves l ON l.idx = r.idx
	WHERE CASE json_extract(l.leaf_text, '$.action')
		WHEN 'request' THEN coalesce(json_extract(l.leaf_text, '$.detail.via_peer'), '') <> ''
		ELSE coalesce(json_extract(l.leaf_text, '$.detail.peer'), '') <> ''
	END
);

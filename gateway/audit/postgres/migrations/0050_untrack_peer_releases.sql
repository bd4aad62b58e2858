-- A release to an agency behind a peer gateway is tracked to the end of
-- its legal basis by that agency's gateway, whose own entry of it carries
-- the same basis (audit.RecipientBehindPeer): this gateway no longer
-- tracks it, and its expiry timer could not deliver the notice anyway
-- (PEER_NOTICE_UNSUPPORTED). A projection built before that still holds
-- such releases open; they leave it here, as a rebuild from the log would
-- leave them out. Only the projection changes; the log does not. The leaf
-- is read as liaison_leaf_index reads it (a NUL escape is not jsonb).
DELETE FROM aftercare_releases r USING leaves l
WHERE l.idx = r.idx AND r.closed_by IS NULL AND (
	SELECT CASE l.ix->>'action'
		WHEN 'request' THEN coalesce(x.j #>> '{detail,via_peer}', '') <> ''
		ELSE coalesce(x.j #>> '{detail,peer}', '') <> ''
	END
	FROM (SELECT replace(replace(replace(convert_from(l.leaf, 'UTF8'),
		chr(92) || chr(92), chr(1)),
		chr(92) || 'u0000', chr(92) || 'ufffe'),
		chr(1), chr(92) || chr(92))::jsonb AS j) x
);

-- A correction is itself a release, so a later notice (a correction, a
-- withdrawal or an expiry notice) to the same recipient can refer to an
-- obligation notice; sent before that notice was acknowledged, it
-- supersedes it: the notice is closed without an acknowledgement (its
-- unread inbox item was withdrawn, so it could never be acknowledged).
-- sup_idx is the superseding notice, projected from the log like the rest
-- of aftercare_notices; the rows projected already get it here.
ALTER TABLE aftercare_notices ADD COLUMN sup_idx INTEGER;

-- Each notice m's references are joined to the notice they name by its
-- key, not searched for in every later notice's text: the backfill takes
-- time in proportion to the notices, on a log with many of them too
-- (CROSS JOIN keeps SQLite's join in this order).
UPDATE aftercare_notices SET sup_idx = f.sup FROM (
	SELECT n.idx, min(m.idx) AS sup
	FROM aftercare_notices m CROSS JOIN json_each('[' || m.refers_to || ']') AS r
	CROSS JOIN aftercare_notices n
	WHERE n.idx = r.value AND m.idx > n.idx AND m.recipient = n.recipient
	AND (n.ack_idx IS NULL OR n.ack_idx > m.idx)
	GROUP BY n.idx) AS f
WHERE aftercare_notices.idx = f.idx;

DROP INDEX aftercare_notices_open;
CREATE INDEX aftercare_notices_open ON aftercare_notices (idx) WHERE ack_idx IS NULL AND sup_idx IS NULL;

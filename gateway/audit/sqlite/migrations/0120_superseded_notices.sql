-- A correction is itself a release, so a later notice (a correction, a
-- withdrawal or an expiry notice) to the same recipient can refer to an
-- obligation notice; sent before that notice was acknowledged, it
-- supersedes it: the notice is closed without an acknowledgement (its
-- unread inbox item was withdrawn, so it could never be acknowledged).
-- sup_idx is the superseding notice, projected from the log like the rest
-- of aftercare_notices; the rows projected already get it here.
ALTER TABLE aftercare_notices ADD COLUMN sup_idx INTEGER;

UPDATE aftercare_notices SET sup_idx = (
	SELECT min(m.idx) FROM aftercare_notices m
	WHERE m.idx > aftercare_notices.idx AND m.recipient = aftercare_notices.recipient
	AND ',' || m.refers_to || ',' LIKE '%,' || aftercare_notices.idx || ',%'
	AND (aftercare_notices.ack_idx IS NULL OR aftercare_notices.ack_idx > m.idx));

DROP INDEX aftercare_notices_open;
CREATE INDEX aftercare_notices_open ON aftercare_notices (idx) WHERE ack_idx IS NULL AND sup_idx IS NULL;

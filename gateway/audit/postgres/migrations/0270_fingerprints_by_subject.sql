-- The fingerprints of a release are keyed by recipient, then by a tag of
-- the subject the content is about (audit.SubjectTag: the 8 bytes of its
-- audit pseudonym after "apsn:"), then by fingerprint, as in the SQLite
-- store (its 0270_fingerprints_by_subject.sql says why): a release's
-- fingerprints, all about one subject, lie together in the key's index
-- instead of at six or seven random places of it.
--
-- After the fingerprint comes after_idx, the log's size when it was
-- stored, and then the request id, so that the same content released
-- again goes at the end of its fingerprint's entries in the index rather
-- than at a random place among them (the SQLite store's migration says
-- more); AddFingerprints looks for one stored already before it stores.
--
-- A fingerprint is bound to its subject (the gateway keys it with the
-- subject's audit pseudonym), so a lookup, which names the subject, finds
-- what it found before. The stored fingerprints take the tag of their
-- release's subject; those whose release is not known (stored before it
-- and never confirmed) or has no subject keep the empty tag, under which
-- MatchFingerprints looks too.
ALTER TABLE aftercare_fingerprints
	ADD COLUMN subject_tag BYTEA NOT NULL DEFAULT '\x'::bytea CHECK (length(subject_tag) <= 8);

UPDATE aftercare_fingerprints AS f
SET subject_tag = substr(convert_to(l.ix->>'subject', 'UTF8'), 6, 8)
FROM leaves AS l
WHERE l.idx = f.audit_idx AND l.ix->>'subject' IS NOT NULL;

ALTER TABLE aftercare_fingerprints
	ALTER COLUMN subject_tag DROP DEFAULT,
	DROP CONSTRAINT aftercare_fingerprints_pkey,
	ADD PRIMARY KEY (recipient, subject_tag, fp, after_idx, request_id);

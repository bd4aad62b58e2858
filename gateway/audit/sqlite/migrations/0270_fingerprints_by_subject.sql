-- The fingerprints of a release are keyed by recipient, then by a tag of
-- the subject the content is about (audit.SubjectTag: the 8 bytes of its
-- audit pseudonym after "apsn:"), then by fingerprint, so that a release's
-- fingerprints, all about one subject, lie together on one page of the
-- table. Keyed by recipient and fingerprint, each of a Disclose's six or
-- seven fingerprints went to a page of its own at a random place, and
-- half the pages that a commit of Disclose entries wrote to the WAL were
-- theirs: BenchmarkWALFrames gave 12.5 frames an entry at 16 entries a
-- commit, and 7.0 with a release's fingerprints together
-- (docs/performance.md).
--
-- After the fingerprint comes after_idx, the log's size when the
-- fingerprint was stored (an entry's own index, for those stored with
-- it), and then the request id: the same content released again (the
-- same fingerprint for the same recipient and subject, under a new,
-- random request id) goes at the end of its fingerprint's rows, on a page
-- the writer has at hand, rather than at a random place among them. One
-- stored already (the same recipient, subject, fingerprint and request
-- id) is still ignored: an append stores an entry's fingerprints with its
-- own index, and AddFingerprints looks first.
--
-- A fingerprint is bound to its subject (the gateway keys it with the
-- subject's audit pseudonym), so a lookup, which names the subject, finds
-- what it found before. The stored fingerprints take the tag of their
-- release's subject; those whose release is not known (stored before it
-- and never confirmed) or has no subject take the empty tag, under which
-- MatchFingerprints looks too.
CREATE TABLE aftercare_fingerprints_by_subject (
	recipient   TEXT    NOT NULL,
	subject_tag BLOB    NOT NULL CHECK (length(subject_tag) <= 8),
	fp          BLOB    NOT NULL CHECK (length(fp) = 32),
	request_id  TEXT    NOT NULL,
	after_idx   INTEGER NOT NULL,
	audit_idx   INTEGER,
	PRIMARY KEY (recipient, subject_tag, fp, after_idx, request_id)
) STRICT, WITHOUT ROWID;

INSERT INTO aftercare_fingerprints_by_subject (recipient, subject_tag, fp, request_id, after_idx, audit_idx)
SELECT f.recipient, coalesce(substr(CAST(l.subject AS BLOB), 6, 8), X''), f.fp, f.request_id, f.after_idx, f.audit_idx
FROM aftercare_fingerprints AS f LEFT JOIN leaves AS l ON l.idx = f.audit_idx
ORDER BY 1, 2, 3, 5, 4;

DROP TABLE aftercare_fingerprints;
ALTER TABLE aftercare_fingerprints_by_subject RENAME TO aftercare_fingerprints;
CREATE INDEX aftercare_fingerprints_unconfirmed ON aftercare_fingerprints (request_id) WHERE audit_idx IS NULL;

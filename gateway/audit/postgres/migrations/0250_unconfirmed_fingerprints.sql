-- aftercare_fingerprints_request served one query: ConfirmFingerprints,
-- which records the release index of fingerprints stored before their
-- release committed (AddFingerprints: audit_idx NULL). The fingerprints
-- that an append stores with its entry are confirmed already, and each of
-- them cost the append a page of this index, at a place as random as the
-- request's id: about one page of every nine that a Disclose's commit
-- writes. The index now holds the unconfirmed fingerprints only, which
-- are all that ConfirmFingerprints changes.
DROP INDEX aftercare_fingerprints_request;
CREATE INDEX aftercare_fingerprints_unconfirmed ON aftercare_fingerprints (request_id) WHERE audit_idx IS NULL;

-- The disclosure log. Times are Unix nanoseconds, UTC.

-- leaves holds the Merkle leaves (the entries' canonical JSON) and, beside
-- them, the columns that Query filters on. The leaf is authoritative.
CREATE TABLE leaves (
	idx              INTEGER PRIMARY KEY CHECK (idx >= 0),
	leaf             BLOB    NOT NULL,
	time_ns          INTEGER NOT NULL,
	action           TEXT    NOT NULL,
	requester_agency TEXT,
	officer          TEXT,
	holder_agency    TEXT,
	subject          TEXT,
	legal_basis      TEXT,
	outcome          TEXT    NOT NULL,
	record_type      TEXT
) STRICT;

CREATE INDEX leaves_time        ON leaves (time_ns);
CREATE INDEX leaves_action      ON leaves (action);
CREATE INDEX leaves_officer     ON leaves (officer)     WHERE officer IS NOT NULL;
CREATE INDEX leaves_subject     ON leaves (subject)     WHERE subject IS NOT NULL;
CREATE INDEX leaves_legal_basis ON leaves (legal_basis) WHERE legal_basis IS NOT NULL;
CREATE INDEX leaves_outcome     ON leaves (outcome);
CREATE INDEX leaves_record_type ON leaves (record_type) WHERE record_type IS NOT NULL;

-- leaf_agencies lists every agency an entry involves (requester, holder,
-- recipients), for the agency filter.
CREATE TABLE leaf_agencies (
	agency TEXT    NOT NULL,
	idx    INTEGER NOT NULL REFERENCES leaves (idx),
	PRIMARY KEY (agency, idx)
) STRICT, WITHOUT ROWID;

-- hashes holds the tlog stored hashes, by storage index
-- (tlog.StoredHashIndex).
CREATE TABLE hashes (
	idx  INTEGER PRIMARY KEY CHECK (idx >= 0),
	hash BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- checkpoints holds signed checkpoints (C2SP signed notes) by tree size.
CREATE TABLE checkpoints (
	size       INTEGER PRIMARY KEY CHECK (size >= 0),
	note       BLOB    NOT NULL,
	created_ns INTEGER NOT NULL
) STRICT;

-- inbox holds deliveries to recipients, committed with the leaf that
-- records them. acked_ns is set, and the payload dropped, on
-- acknowledgement; expires_ns NULL means never.
CREATE TABLE inbox (
	cursor     INTEGER PRIMARY KEY AUTOINCREMENT,
	recipient  TEXT    NOT NULL,
	audit_idx  INTEGER NOT NULL REFERENCES leaves (idx),
	kind       TEXT    NOT NULL,
	payload    BLOB    NOT NULL,
	created_ns INTEGER NOT NULL,
	expires_ns INTEGER,
	acked_ns   INTEGER
) STRICT;

CREATE INDEX inbox_unacked ON inbox (recipient, cursor) WHERE acked_ns IS NULL;

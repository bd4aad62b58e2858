-- The disclosure log. Times are Unix nanoseconds, UTC, as in the SQLite
-- store. Text columns hold their value as is when it is valid UTF-8 without
-- NUL and does not start with U+FFFE; any other value is stored as U+FFFE
-- followed by the hex of its bytes (see text in postgres.go), so that
-- equality on them is equality of the original strings.

-- leaves holds the Merkle leaves (the entries' canonical JSON) and, beside
-- them, the columns that Query filters on. The leaf is authoritative.
-- Appends serialise on a transaction-level advisory lock and read the size
-- under it; the primary key is the last line of defence against a fork.
CREATE TABLE leaves (
	idx              BIGINT PRIMARY KEY CHECK (idx >= 0),
	leaf             BYTEA  NOT NULL,
	time_ns          BIGINT NOT NULL,
	action           TEXT   NOT NULL,
	requester_agency TEXT,
	officer          TEXT,
	holder_agency    TEXT,
	subject          TEXT,
	legal_basis      TEXT,
	outcome          TEXT   NOT NULL,
	record_type      TEXT
);

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
	agency TEXT   NOT NULL,
	idx    BIGINT NOT NULL REFERENCES leaves (idx),
	PRIMARY KEY (agency, idx)
);

-- hashes holds the tlog stored hashes, by storage index
-- (tlog.StoredHashIndex).
CREATE TABLE hashes (
	idx  BIGINT PRIMARY KEY CHECK (idx >= 0),
	hash BYTEA  NOT NULL CHECK (length(hash) = 32)
);

-- checkpoints holds signed checkpoints (C2SP signed notes) by tree size.
CREATE TABLE checkpoints (
	size       BIGINT PRIMARY KEY CHECK (size >= 0),
	note       BYTEA  NOT NULL,
	created_ns BIGINT NOT NULL
);

-- inbox holds deliveries to recipients, committed with the leaf that
-- records them. Cursors are drawn under the append lock, so that they
-- increase in commit order (which holds only while the identity's
-- sequence keeps CACHE 1, the default). acked_ns is set, and the payload
-- dropped, on acknowledgement; expires_ns NULL means never.
CREATE TABLE inbox (
	cursor     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	recipient  TEXT   NOT NULL,
	audit_idx  BIGINT NOT NULL REFERENCES leaves (idx),
	kind       TEXT   NOT NULL,
	payload    BYTEA  NOT NULL,
	created_ns BIGINT NOT NULL,
	expires_ns BIGINT,
	acked_ns   BIGINT
);

CREATE INDEX inbox_unacked ON inbox (recipient, cursor) WHERE acked_ns IS NULL;

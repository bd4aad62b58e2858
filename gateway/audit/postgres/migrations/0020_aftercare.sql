-- What the gateway keeps after sharing (gateway/audit/aftercare.go).
-- aftercare_releases and aftercare_notices are a projection of the log,
-- rebuilt from it: aftercare_watermark says how far. Times are Unix
-- nanoseconds, UTC; dates are YYYY-MM-DD.

-- aftercare_leases: named leases, so that one process runs each timer.
CREATE TABLE aftercare_leases (
	name       TEXT    PRIMARY KEY,
	holder     TEXT    NOT NULL,
	expires_ns BIGINT NOT NULL
);

-- aftercare_watermark: the index of the first entry not yet projected.
CREATE TABLE aftercare_watermark (
	id       BIGINT PRIMARY KEY CHECK (id = 1),
	next_idx BIGINT NOT NULL CHECK (next_idx >= 0)
);

INSERT INTO aftercare_watermark (id, next_idx) VALUES (1, 0);

-- aftercare_releases: releases whose legal basis ends (valid_until), until
-- a withdrawal, a correction or the expiry notice closes them.
CREATE TABLE aftercare_releases (
	idx         BIGINT PRIMARY KEY CHECK (idx >= 0),
	recipient   TEXT    NOT NULL,
	holder      TEXT    NOT NULL,
	subject     TEXT    NOT NULL,
	legal_basis TEXT    NOT NULL,
	record_type TEXT    NOT NULL,
	valid_until TEXT    NOT NULL,
	revised_by  BIGINT,
	closed_by   BIGINT
);

CREATE INDEX aftercare_releases_due     ON aftercare_releases (valid_until, idx) WHERE closed_by IS NULL;
CREATE INDEX aftercare_releases_subject ON aftercare_releases (subject, holder)   WHERE closed_by IS NULL;

-- aftercare_notices: corrections, withdrawals and expiry notices sent, and
-- their acknowledgement. refers_to lists release indexes, comma-separated.
-- swept is 1 once the unread inbox items of those releases are withdrawn.
CREATE TABLE aftercare_notices (
	idx         BIGINT PRIMARY KEY CHECK (idx >= 0),
	kind        TEXT    NOT NULL,
	recipient   TEXT    NOT NULL,
	holder      TEXT    NOT NULL,
	subject     TEXT    NOT NULL,
	record_type TEXT    NOT NULL,
	refers_to   TEXT    NOT NULL,
	reason      TEXT    NOT NULL,
	obligation  TEXT    NOT NULL,
	sent_ns     BIGINT NOT NULL,
	ack_idx     BIGINT,
	ack_ns      BIGINT,
	done        TEXT,
	swept       BIGINT NOT NULL DEFAULT 0 CHECK (swept IN (0, 1))
);

CREATE INDEX aftercare_notices_open    ON aftercare_notices (idx) WHERE ack_idx IS NULL;
CREATE INDEX aftercare_notices_unswept ON aftercare_notices (idx) WHERE swept = 0;

-- aftercare_fingerprints: keyed digests (HMAC-SHA256 under a key the
-- gateway derives and never stores) of content released to a recipient,
-- never the content. request_id names the releasing exchange; audit_idx is
-- its entry once confirmed; after_idx bounds where to look for it before.
CREATE TABLE aftercare_fingerprints (
	recipient  TEXT    NOT NULL,
	fp         BYTEA   NOT NULL CHECK (length(fp) = 32),
	request_id TEXT    NOT NULL,
	after_idx  BIGINT NOT NULL,
	audit_idx  BIGINT,
	PRIMARY KEY (recipient, fp, request_id)
);

CREATE INDEX aftercare_fingerprints_request ON aftercare_fingerprints (request_id);

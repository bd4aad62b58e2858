-- State that outlives a request, kept beside the log and changed only in
-- the transaction that appends the entry recording the change
-- (audit.StateStore.AppendState). Times are Unix nanoseconds, UTC.

-- cases holds the latest version of each multi-agency case: the whole
-- state as JSON (audit.CaseState) and, beside it, the columns that lookups
-- filter on. subject is the audit-domain pseudonym, never an identifier.
-- audit_idx is the entry that wrote this version.
CREATE TABLE cases (
	id           TEXT    PRIMARY KEY,
	kind         TEXT    NOT NULL,
	jurisdiction TEXT    NOT NULL,
	subject      TEXT,
	lead         TEXT    NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
	source       TEXT    NOT NULL,
	version      BIGINT NOT NULL CHECK (version >= 1),
	state        BYTEA    NOT NULL,
	audit_idx    BIGINT NOT NULL REFERENCES leaves (idx)
);

CREATE INDEX cases_subject ON cases (subject, status) WHERE subject IS NOT NULL;

-- case_agencies lists every agency of a case with its status, for the
-- lookup by agency.
CREATE TABLE case_agencies (
	case_id TEXT NOT NULL REFERENCES cases (id),
	agency  TEXT NOT NULL,
	status  TEXT NOT NULL,
	PRIMARY KEY (agency, case_id)
);

-- notices tracks required notices: delivered under audit_idx to
-- recipient, to be acknowledged by deadline_ns, escalated at escalate_ns.
-- Each later step (acknowledged, escalated, overdue) is set once, with
-- the entry that records it.
CREATE TABLE notices (
	id             TEXT    PRIMARY KEY,
	audit_idx      BIGINT NOT NULL REFERENCES leaves (idx),
	recipient      TEXT    NOT NULL,
	sender         TEXT    NOT NULL,
	event_type     TEXT    NOT NULL,
	rule           TEXT    NOT NULL,
	created_ns     BIGINT NOT NULL,
	escalate_ns    BIGINT NOT NULL,
	deadline_ns    BIGINT NOT NULL,
	acked_ns       BIGINT,
	ack_idx        BIGINT REFERENCES leaves (idx),
	escalated_ns   BIGINT,
	escalation_idx BIGINT REFERENCES leaves (idx),
	overdue_ns     BIGINT,
	overdue_idx    BIGINT REFERENCES leaves (idx)
);

CREATE INDEX notices_open      ON notices (escalate_ns) WHERE acked_ns IS NULL;
CREATE INDEX notices_recipient ON notices (recipient, audit_idx);
CREATE INDEX notices_deadline  ON notices (deadline_ns);

-- leases elects the one process that runs a timer: a lease is held by
-- holder until expires_ns.
CREATE TABLE leases (
	name       TEXT    PRIMARY KEY,
	holder     TEXT    NOT NULL,
	expires_ns BIGINT NOT NULL
);

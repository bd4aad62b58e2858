-- The query index is derived from the leaves by the database, so that it
-- is what the Merkle tree commits to. Before this migration the columns
-- were written by the gateway beside each leaf and could be edited
-- without trace: changing an entry's officer hid it from a query by
-- officer while the log still verified.
--
-- The columns are virtual generated columns: SQLite computes them from the
-- leaf whenever they are read or indexed, and refuses to UPDATE them. The
-- agencies an entry involves go into leaf_agencies by a trigger that reads
-- them from the leaf; other triggers refuse to change or delete its rows.
-- Changing any of this needs a change of the schema, which the store
-- checks on every query against a database it builds from these
-- migrations; PRAGMA integrity_check, run by the full index check, finds
-- index entries that do not match their rows.

DROP INDEX leaves_time;
DROP INDEX leaves_action;
DROP INDEX leaves_officer;
DROP INDEX leaves_subject;
DROP INDEX leaves_legal_basis;
DROP INDEX leaves_outcome;
DROP INDEX leaves_record_type;

ALTER TABLE leaves DROP COLUMN time_ns;
ALTER TABLE leaves DROP COLUMN action;
ALTER TABLE leaves DROP COLUMN requester_agency;
ALTER TABLE leaves DROP COLUMN officer;
ALTER TABLE leaves DROP COLUMN holder_agency;
ALTER TABLE leaves DROP COLUMN subject;
ALTER TABLE leaves DROP COLUMN legal_basis;
ALTER TABLE leaves DROP COLUMN outcome;
ALTER TABLE leaves DROP COLUMN record_type;

-- The leaf is canonical JSON stored as a BLOB; JSON functions read a BLOB
-- as JSONB, so each expression casts it to TEXT. The entry's time is
-- RFC 3339 in UTC with up to nine fractional digits: the seconds, then the
-- fraction padded to nine digits (none is zero).
ALTER TABLE leaves ADD COLUMN time_ns INTEGER GENERATED ALWAYS AS (
	unixepoch(substr(json_extract(CAST(leaf AS TEXT), '$.time'), 1, 19)) * 1000000000
	+ CAST(substr(replace(json_extract(CAST(leaf AS TEXT), '$.time'), 'Z', '') || '000000000', 21, 9) AS INTEGER)
) VIRTUAL;
ALTER TABLE leaves ADD COLUMN action TEXT
	GENERATED ALWAYS AS (nullif(json_extract(CAST(leaf AS TEXT), '$.action'), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN officer TEXT
	GENERATED ALWAYS AS (nullif(json_extract(CAST(leaf AS TEXT), '$.requester.officer'), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN subject TEXT
	GENERATED ALWAYS AS (nullif(json_extract(CAST(leaf AS TEXT), '$.subject.pseudonym'), '')) VIRTUAL;
-- The decided legal basis, or the claimed one when none was decided.
ALTER TABLE leaves ADD COLUMN legal_basis TEXT
	GENERATED ALWAYS AS (nullif(coalesce(json_extract(CAST(leaf AS TEXT), '$.legal_basis.id'),
		json_extract(CAST(leaf AS TEXT), '$.claimed_legal_basis')), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN outcome TEXT
	GENERATED ALWAYS AS (nullif(json_extract(CAST(leaf AS TEXT), '$.outcome'), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN record_type TEXT
	GENERATED ALWAYS AS (nullif(json_extract(CAST(leaf AS TEXT), '$.record_type'), '')) VIRTUAL;

CREATE INDEX leaves_time        ON leaves (time_ns);
CREATE INDEX leaves_action      ON leaves (action);
CREATE INDEX leaves_officer     ON leaves (officer)     WHERE officer IS NOT NULL;
CREATE INDEX leaves_subject     ON leaves (subject)     WHERE subject IS NOT NULL;
CREATE INDEX leaves_legal_basis ON leaves (legal_basis) WHERE legal_basis IS NOT NULL;
CREATE INDEX leaves_outcome     ON leaves (outcome);
CREATE INDEX leaves_record_type ON leaves (record_type) WHERE record_type IS NOT NULL;

-- leaf_agencies: every agency an entry involves (requester, holder,
-- recipients), read from the leaf when it is inserted.
DELETE FROM leaf_agencies;
INSERT OR IGNORE INTO leaf_agencies (agency, idx)
	SELECT a, idx FROM (
		SELECT idx, json_extract(CAST(leaf AS TEXT), '$.requester.agency') AS a FROM leaves
		UNION ALL SELECT idx, json_extract(CAST(leaf AS TEXT), '$.holder.agency') FROM leaves
		UNION ALL SELECT l.idx, json_extract(r.value, '$.agency')
			FROM leaves AS l, json_each(CAST(l.leaf AS TEXT), '$.recipients') AS r
	) WHERE a IS NOT NULL AND a <> '';

CREATE TRIGGER leaves_agencies AFTER INSERT ON leaves BEGIN
	INSERT OR IGNORE INTO leaf_agencies (agency, idx)
		SELECT a, NEW.idx FROM (
			SELECT json_extract(CAST(NEW.leaf AS TEXT), '$.requester.agency') AS a
			UNION ALL SELECT json_extract(CAST(NEW.leaf AS TEXT), '$.holder.agency')
			UNION ALL SELECT json_extract(r.value, '$.agency') FROM json_each(CAST(NEW.leaf AS TEXT), '$.recipients') AS r
		) WHERE a IS NOT NULL AND a <> '';
END;

CREATE TRIGGER leaf_agencies_no_update BEFORE UPDATE ON leaf_agencies BEGIN
	SELECT RAISE(ABORT, 'leaf_agencies is derived from the leaves and cannot be changed');
END;

CREATE TRIGGER leaf_agencies_no_delete BEFORE DELETE ON leaf_agencies BEGIN
	SELECT RAISE(ABORT, 'leaf_agencies is derived from the leaves and cannot be changed');
END;

-- The query index reads the leaf as text once per entry instead of once
-- per column. SQLite's JSON functions read a BLOB as JSONB, so every
-- expression of 0003_index_from_leaf.sql cast the leaf to TEXT, copying
-- it each time: ten copies of every leaf an append wrote, about a tenth
-- of the log's append time. leaf_text is that cast, as a virtual column
-- of its own; SQLite computes it once for the row it inserts and the
-- other columns, the indexes and the trigger read it from there. What the
-- columns say, and that the database derives them from the leaf, does not
-- change.

DROP TRIGGER leaves_agencies;

DROP INDEX leaves_time;
DROP INDEX leaves_action;
DROP INDEX leaves_officer;
DROP INDEX leaves_subject;
DROP INDEX leaves_legal_basis;
DROP INDEX leaves_outcome;
DROP INDEX leaves_record_type;

ALTER TABLE leaves DROP COLUMN time_ns;
ALTER TABLE leaves DROP COLUMN action;
ALTER TABLE leaves DROP COLUMN officer;
ALTER TABLE leaves DROP COLUMN subject;
ALTER TABLE leaves DROP COLUMN legal_basis;
ALTER TABLE leaves DROP COLUMN outcome;
ALTER TABLE leaves DROP COLUMN record_type;

ALTER TABLE leaves ADD COLUMN leaf_text TEXT GENERATED ALWAYS AS (CAST(leaf AS TEXT)) VIRTUAL;
ALTER TABLE leaves ADD COLUMN time_ns INTEGER GENERATED ALWAYS AS (
	unixepoch(substr(json_extract(leaf_text, '$.time'), 1, 19)) * 1000000000
	+ CAST(substr(replace(json_extract(leaf_text, '$.time'), 'Z', '') || '000000000', 21, 9) AS INTEGER)
) VIRTUAL;
ALTER TABLE leaves ADD COLUMN action TEXT
	GENERATED ALWAYS AS (nullif(json_extract(leaf_text, '$.action'), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN officer TEXT
	GENERATED ALWAYS AS (nullif(json_extract(leaf_text, '$.requester.officer'), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN subject TEXT
	GENERATED ALWAYS AS (nullif(json_extract(leaf_text, '$.subject.pseudonym'), '')) VIRTUAL;
-- The decided legal basis, or the claimed one when none was decided.
ALTER TABLE leaves ADD COLUMN legal_basis TEXT
	GENERATED ALWAYS AS (nullif(coalesce(json_extract(leaf_text, '$.legal_basis.id'),
		json_extract(leaf_text, '$.claimed_legal_basis')), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN outcome TEXT
	GENERATED ALWAYS AS (nullif(json_extract(leaf_text, '$.outcome'), '')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN record_type TEXT
	GENERATED ALWAYS AS (nullif(json_extract(leaf_text, '$.record_type'), '')) VIRTUAL;

CREATE INDEX leaves_time        ON leaves (time_ns);
CREATE INDEX leaves_action      ON leaves (action);
CREATE INDEX leaves_officer     ON leaves (officer)     WHERE officer IS NOT NULL;
CREATE INDEX leaves_subject     ON leaves (subject)     WHERE subject IS NOT NULL;
CREATE INDEX leaves_legal_basis ON leaves (legal_basis) WHERE legal_basis IS NOT NULL;
CREATE INDEX leaves_outcome     ON leaves (outcome);
CREATE INDEX leaves_record_type ON leaves (record_type) WHERE record_type IS NOT NULL;

CREATE TRIGGER leaves_agencies AFTER INSERT ON leaves BEGIN
	INSERT OR IGNORE INTO leaf_agencies (agency, idx)
		SELECT a, NEW.idx FROM (
			SELECT json_extract(NEW.leaf_text, '$.requester.agency') AS a
			UNION ALL SELECT json_extract(NEW.leaf_text, '$.holder.agency')
			UNION ALL SELECT json_extract(r.value, '$.agency') FROM json_each(NEW.leaf_text, '$.recipients') AS r
		) WHERE a IS NOT NULL AND a <> '';
END;

-- The trigger that fills leaf_agencies reads the agencies from virtual
-- columns of the row it was fired for, instead of from the leaf's text.
-- SQLite runs a trigger as a program of its own, which starts with an
-- empty cache of parsed JSON: the trigger of 0040_leaf_text.sql parsed
-- every leaf a second time, after the indexed columns had parsed it
-- once. The columns below are computed by the INSERT itself, with the
-- other columns, from the parse they share; the trigger then reads two
-- short values and the recipients' small array. Without fsync, an append
-- costs about a tenth less CPU and the log appends about a fifth faster
-- (docs/performance.md). What leaf_agencies holds, and that the database
-- derives it from the leaf, does not change; the rows already there stay.

DROP TRIGGER leaves_agencies;

ALTER TABLE leaves ADD COLUMN requester_agency TEXT
	GENERATED ALWAYS AS (json_extract(leaf_text, '$.requester.agency')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN holder_agency TEXT
	GENERATED ALWAYS AS (json_extract(leaf_text, '$.holder.agency')) VIRTUAL;
-- The recipients as JSON text (->), for json_each.
ALTER TABLE leaves ADD COLUMN recipients TEXT
	GENERATED ALWAYS AS (leaf_text -> '$.recipients') VIRTUAL;

CREATE TRIGGER leaves_agencies AFTER INSERT ON leaves BEGIN
	INSERT OR IGNORE INTO leaf_agencies (agency, idx)
		SELECT a, NEW.idx FROM (
			SELECT NEW.requester_agency AS a
			UNION ALL SELECT NEW.holder_agency
			UNION ALL SELECT json_extract(r.value, '$.agency') FROM json_each(NEW.recipients) AS r
		) WHERE a IS NOT NULL AND a <> '';
END;

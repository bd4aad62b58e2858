-- The agencies an entry involves are indexed where the other index
-- columns are: in indexes of virtual columns computed from the leaf by the
-- INSERT itself, instead of in rows that a trigger writes into
-- leaf_agencies for every entry. The trigger ran a program of its own for
-- every entry (a UNION of three selects, json_each over the recipients,
-- INSERT OR IGNORE): in BenchmarkAppend's profile the log's one writer
-- spent 26 to 27 µs an entry with it, 19 to 20 without it, and 21 with
-- the three indexes below instead (docs/performance.md).
--
-- The requester's and the holder's agency keep their columns; the first
-- recipient's agency and the number of recipients get theirs. An entry
-- with more than one recipient still has the agencies of the recipients
-- after the first written into leaf_agencies, by a trigger that runs only
-- for such an entry. The rows leaf_agencies holds for the entries before
-- this migration (every agency they involve) stay. An entry's agencies are
-- therefore its requester's, its holder's and its first recipient's
-- columns, with its rows of leaf_agencies; a query by agency, and the full
-- index check, read all four. They are all derived from the leaf by the
-- database, as before.
--
-- An empty agency, and a missing one (NULL), are no agency: the partial
-- indexes leave out NULL, and a query never asks for ''.

DROP TRIGGER leaves_agencies;

-- Computed by every INSERT, and not read since the trigger went.
ALTER TABLE leaves DROP COLUMN recipients;

ALTER TABLE leaves ADD COLUMN recipient_agency TEXT
	GENERATED ALWAYS AS (json_extract(leaf_text, '$.recipients[0].agency')) VIRTUAL;
ALTER TABLE leaves ADD COLUMN recipient_count INTEGER
	GENERATED ALWAYS AS (json_array_length(leaf_text, '$.recipients')) VIRTUAL;

CREATE INDEX leaves_requester_agency ON leaves (requester_agency) WHERE requester_agency IS NOT NULL;
CREATE INDEX leaves_holder_agency    ON leaves (holder_agency)    WHERE holder_agency IS NOT NULL;
CREATE INDEX leaves_recipient_agency ON leaves (recipient_agency) WHERE recipient_agency IS NOT NULL;

-- The WHEN clause reads a column the INSERT computed, so the trigger costs
-- an entry with one recipient or none nothing more; json_each parses the
-- leaf again only for an entry with more.
CREATE TRIGGER leaves_agencies AFTER INSERT ON leaves WHEN NEW.recipient_count > 1 BEGIN
	INSERT OR IGNORE INTO leaf_agencies (agency, idx)
		SELECT a, NEW.idx FROM (
			SELECT json_extract(r.value, '$.agency') AS a FROM json_each(NEW.leaf_text, '$.recipients') AS r WHERE r.key > 0
		) WHERE a <> '';
END;

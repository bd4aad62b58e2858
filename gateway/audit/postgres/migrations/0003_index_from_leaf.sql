-- The query index is derived from the leaves by the database, so that it
-- is what the Merkle tree commits to. Before this migration the columns
-- were written by the gateway beside each leaf and could be edited
-- without trace: changing an entry's officer hid it from a query by
-- officer while the log still verified.
--
-- liaison_leaf_index computes, from a leaf, the values Query selects on as
-- one JSON object; leaves.ix is a stored generated column holding it,
-- which PostgreSQL refuses to UPDATE or INSERT into, and the query
-- indexes are expression indexes on ix. Changing any of this needs a
-- change of the schema, which the store checks on every query.
--
-- A leaf is canonical JSON, always valid UTF-8 (the database must be
-- UTF8). PostgreSQL's jsonb cannot hold the escape \u0000 that a string
-- with a NUL carries, so the function first rewrites that escape to
-- \ufffe (after setting escaped backslashes aside, so that a backslash
-- followed by "u0000" is left alone): a NUL is indexed as U+FFFE, and the
-- store tells the two apart by the leaf.

DROP TABLE leaf_agencies;
ALTER TABLE leaves
	DROP COLUMN time_ns,
	DROP COLUMN action,
	DROP COLUMN requester_agency,
	DROP COLUMN officer,
	DROP COLUMN holder_agency,
	DROP COLUMN subject,
	DROP COLUMN legal_basis,
	DROP COLUMN outcome,
	DROP COLUMN record_type;

CREATE FUNCTION liaison_leaf_index(leaf bytea) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
	j jsonb := replace(replace(replace(convert_from(leaf, 'UTF8'),
		chr(92) || chr(92), chr(1)),
		chr(92) || 'u0000', chr(92) || 'ufffe'),
		chr(1), chr(92) || chr(92))::jsonb;
	t text := j->>'time';
	agencies text[] := ARRAY[]::text[];
	a text;
BEGIN
	FOREACH a IN ARRAY ARRAY[j->'requester'->>'agency', j->'holder'->>'agency'] LOOP
		IF a <> '' AND NOT a = ANY(agencies) THEN
			agencies := agencies || a;
		END IF;
	END LOOP;
	IF jsonb_typeof(j->'recipients') = 'array' THEN
		FOR i IN 0 .. jsonb_array_length(j->'recipients') - 1 LOOP
			a := j->'recipients'->i->>'agency';
			IF a <> '' AND NOT a = ANY(agencies) THEN
				agencies := agencies || a;
			END IF;
		END LOOP;
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object(
		-- RFC 3339 in UTC with up to nine fractional digits, in Unix nanoseconds
		'time_ns', ((make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, substr(t, 9, 2)::int) - make_date(1970, 1, 1))::bigint * 86400
			+ substr(t, 12, 2)::bigint * 3600 + substr(t, 15, 2)::bigint * 60 + substr(t, 18, 2)::bigint) * 1000000000
			+ CASE WHEN substr(t, 20, 1) = '.' THEN rpad(substr(t, 21, length(t) - 21), 9, '0')::bigint ELSE 0 END,
		'action', NULLIF(j->>'action', ''),
		'agencies', to_jsonb(agencies),
		'officer', NULLIF(j->'requester'->>'officer', ''),
		'subject', NULLIF(j->'subject'->>'pseudonym', ''),
		-- the decided legal basis, or the claimed one when none was decided
		'legal_basis', NULLIF(COALESCE(j->'legal_basis'->>'id', j->>'claimed_legal_basis'), ''),
		'outcome', NULLIF(j->>'outcome', ''),
		'record_type', NULLIF(j->>'record_type', '')));
END
$fn$;

ALTER TABLE leaves ADD COLUMN ix jsonb NOT NULL GENERATED ALWAYS AS (liaison_leaf_index(leaf)) STORED;

CREATE INDEX leaves_time        ON leaves (((ix->>'time_ns')::bigint));
CREATE INDEX leaves_action      ON leaves ((ix->>'action'));
CREATE INDEX leaves_agencies    ON leaves USING gin ((ix->'agencies') jsonb_path_ops);
CREATE INDEX leaves_officer     ON leaves ((ix->>'officer'))     WHERE (ix->>'officer') IS NOT NULL;
CREATE INDEX leaves_subject     ON leaves ((ix->>'subject'))     WHERE (ix->>'subject') IS NOT NULL;
CREATE INDEX leaves_legal_basis ON leaves ((ix->>'legal_basis')) WHERE (ix->>'legal_basis') IS NOT NULL;
CREATE INDEX leaves_outcome     ON leaves ((ix->>'outcome'));
CREATE INDEX leaves_record_type ON leaves ((ix->>'record_type')) WHERE (ix->>'record_type') IS NOT NULL;

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// The query index lives in virtual columns of leaves, their indexes, and
// leaf_agencies with its triggers (migrations/0003_index_from_leaf.sql,
// 0040_leaf_text.sql, 0130_agencies_in_columns.sql and
// 0260_agencies_indexed.sql).

// indexColumns maps the virtual columns of leaves to the index columns
// they hold.
var indexColumns = map[string]string{
	"time_ns":     audit.ColumnTime,
	"action":      audit.ColumnAction,
	"officer":     audit.ColumnOfficer,
	"subject":     audit.ColumnSubject,
	"legal_basis": audit.ColumnLegalBasis,
	"outcome":     audit.ColumnOutcome,
	"record_type": audit.ColumnRecordType,
}

// agencyColumns are the virtual columns of leaves that hold an entry's
// agencies, or say whether the trigger leaves_agencies writes more into
// leaf_agencies (migrations/0260_agencies_indexed.sql).
var agencyColumns = []string{"requester_agency", "holder_agency", "recipient_agency", "recipient_count"}

// agencyIndexes maps the indexes of agency columns to their columns.
var agencyIndexes = map[string]string{
	"leaves_requester_agency": "requester_agency",
	"leaves_holder_agency":    "holder_agency",
	"leaves_recipient_agency": "recipient_agency",
}

// A schemaObject is a row of sqlite_schema.
type schemaObject struct {
	typ, name, table, sql string
}

const schemaQuery = `SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_schema
	WHERE tbl_name IN ('leaves', 'leaf_agencies')`

// readSchema reads the definitions of the log's tables, indexes and
// triggers, with runs of white space made one space.
func readSchema(ctx context.Context, q querier) (map[string]schemaObject, error) {
	rows, err := q.QueryContext(ctx, schemaQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	objs := map[string]schemaObject{}
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return nil, err
		}
		o.sql = strings.Join(strings.Fields(o.sql), " ")
		objs[o.typ+" "+o.name] = o
	}
	return objs, rows.Err()
}

// referenceSchema builds a database in memory with the migrations and
// returns its schema: what the log's schema must be.
func referenceSchema(ctx context.Context) (map[string]schemaObject, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("sqlite: reference schema: %v", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("sqlite: reference schema: %v", err)
	}
	slices.Sort(names)
	for _, name := range names {
		text, err := fs.ReadFile(migrations, name)
		if err == nil {
			_, err = db.ExecContext(ctx, string(text))
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: reference schema: %s: %v", name, err)
		}
	}
	objs, err := readSchema(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reference schema: %v", err)
	}
	return objs, nil
}

// checkSchema compares the log's schema with the one the migrations
// create. A difference means that the index may no longer be derived from
// the leaves: it is reported as an *audit.IndexError naming the column.
func (s *Store) checkSchema(ctx context.Context) error {
	got, err := readSchema(ctx, s.rc)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	for _, key := range slices.Sorted(maps.Keys(s.schema)) {
		want := s.schema[key]
		g, ok := got[key]
		switch {
		case !ok:
			return &audit.IndexError{Index: -1, Column: objectColumn(want, schemaObject{}), Detail: want.typ + " " + want.name + " is missing"}
		case g != want:
			return &audit.IndexError{Index: -1, Column: objectColumn(want, g), Detail: want.typ + " " + want.name + " was changed"}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(got)) {
		if _, ok := s.schema[key]; !ok {
			o := got[key]
			return &audit.IndexError{Index: -1, Column: objectColumn(o, schemaObject{}), Detail: o.typ + " " + o.name + " was added"}
		}
	}
	return nil
}

// objectColumn names the index column a schema object serves. For the
// table leaves, it compares the definitions of want and got column by
// column.
func objectColumn(want, got schemaObject) string {
	switch {
	case want.table == "leaf_agencies" || want.name == "leaves_agencies" || agencyIndexes[want.name] != "":
		return audit.ColumnAgencies
	case want.typ == "index":
		if c, ok := indexColumns[strings.TrimPrefix(want.name, "leaves_")]; ok {
			return c
		}
		if want.name == "leaves_time" {
			return audit.ColumnTime
		}
	case want.typ == "table" && want.name == "leaves":
		w, g := columnDefs(want.sql), columnDefs(got.sql)
		for _, name := range slices.Sorted(maps.Keys(w)) {
			if w[name] == g[name] {
				continue
			}
			if c, ok := indexColumns[name]; ok {
				return c
			}
			if slices.Contains(agencyColumns, name) {
				return audit.ColumnAgencies
			}
		}
	}
	return "schema"
}

// columnDefs splits a CREATE TABLE statement into its column definitions,
// by column name.
func columnDefs(stmt string) map[string]string {
	open, end := strings.IndexByte(stmt, '('), strings.LastIndexByte(stmt, ')')
	defs := map[string]string{}
	if open < 0 || end < open {
		return defs
	}
	body := stmt[open+1 : end]
	depth, quote, start := 0, byte(0), 0
	add := func(def string) {
		def = strings.TrimSpace(def)
		if name, _, ok := strings.Cut(def, " "); ok {
			defs[strings.Trim(name, `"`)] = def
		}
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			add(body[start:i])
			start = i + 1
		}
	}
	add(body[start:])
	return defs
}

// CheckIndex recomputes the index values of the entries in [start, end)
// from their leaves and compares them with the virtual columns and with
// leaf_agencies; it checks the schema first and, last, runs PRAGMA
// integrity_check on leaves and leaf_agencies, which finds index entries
// that no longer match their rows. It reads every leaf in the range.
func (s *Store) CheckIndex(ctx context.Context, start, end int64) error {
	if start < 0 || end < start {
		return fmt.Errorf("sqlite: check index: invalid range [%d, %d)", start, end)
	}
	if err := s.checkSchema(ctx); err != nil {
		return fmt.Errorf("sqlite: check index: %w", err)
	}
	if err := s.checkRows(ctx, start, end); err != nil {
		return fmt.Errorf("sqlite: check index: %w", err)
	}
	for _, table := range []string{"leaves", "leaf_agencies"} {
		rows, err := s.rc.QueryContext(ctx, "PRAGMA integrity_check("+table+")")
		if err != nil {
			return fmt.Errorf("sqlite: check index: integrity_check(%s): %w", table, err)
		}
		var problems []string
		for rows.Next() {
			var msg string
			if err := rows.Scan(&msg); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: check index: integrity_check(%s): %w", table, err)
			}
			if msg != "ok" {
				problems = append(problems, msg)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: check index: integrity_check(%s): %w", table, err)
		}
		if len(problems) > 0 {
			return fmt.Errorf("sqlite: check index: %w", s.integrityError(ctx, table, start, end, problems[0]))
		}
	}
	return nil
}

var indexName = regexp.MustCompile(`index (leaves_[a-z_]+)`)

// integrityError turns a problem PRAGMA integrity_check found into an
// *audit.IndexError. For an index of a generated column, it looks for the
// first entry in [start, end) that the index does not hold under the
// value its leaf gives.
func (s *Store) integrityError(ctx context.Context, table string, start, end int64, problem string) error {
	detail := fmt.Sprintf("integrity_check(%s): %s", table, problem)
	if table == "leaf_agencies" {
		return &audit.IndexError{Index: -1, Column: audit.ColumnAgencies, Detail: detail}
	}
	m := indexName.FindStringSubmatch(problem)
	if m == nil {
		return &audit.IndexError{Index: -1, Column: "schema", Detail: detail}
	}
	index, sqlCol, column := m[1], agencyIndexes[m[1]], audit.ColumnAgencies
	for c := range indexColumns {
		if index == "leaves_"+strings.TrimSuffix(c, "_ns") {
			sqlCol, column = c, indexColumns[c]
		}
	}
	if sqlCol == "" {
		return &audit.IndexError{Index: -1, Column: "schema", Detail: detail}
	}
	// The outer scan computes the column from the leaf; the inner lookup
	// reads the index alone.
	var idx int64
	err := s.rc.QueryRowContext(ctx, fmt.Sprintf(`SELECT l.idx FROM leaves AS l NOT INDEXED
		WHERE l.idx >= ? AND l.idx < ? AND l.%[1]s IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM leaves AS m INDEXED BY %[2]s WHERE m.%[1]s = l.%[1]s AND m.idx = l.idx)
		ORDER BY l.idx LIMIT 1`, sqlCol, index), start, end).Scan(&idx)
	if err != nil {
		idx = -1 // the stale entry is outside the range, or the index holds extra ones
	}
	return &audit.IndexError{Index: idx, Column: column, Detail: "index " + index + " does not match the leaves"}
}

// checkRows compares the stored index of each entry in [start, end) with
// the one its leaf gives. It reads leaves and leaf_agencies in index
// order, side by side: an entry's agencies are those of its agency
// columns with its rows of leaf_agencies.
func (s *Store) checkRows(ctx context.Context, start, end int64) error {
	leaves, err := s.rc.QueryContext(ctx, `SELECT idx, leaf, time_ns, action, officer, subject, legal_basis, outcome, record_type,
		requester_agency, holder_agency, recipient_agency
		FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx`, start, end)
	if err != nil {
		return err
	}
	defer leaves.Close()
	agencies, err := s.rc.QueryContext(ctx, `SELECT idx, agency FROM leaf_agencies WHERE idx >= ? AND idx < ? ORDER BY idx, agency`, start, end)
	if err != nil {
		return err
	}
	defer agencies.Close()

	// next agency row, read ahead
	var aIdx int64
	var aName string
	aOK := agencies.Next()
	if aOK {
		if err := agencies.Scan(&aIdx, &aName); err != nil {
			return err
		}
	}
	for leaves.Next() {
		var idx int64
		var leaf []byte
		var t sql.NullInt64
		var action, officer, subject, basis, outcome, recordType sql.NullString
		var agencyCols [3]sql.NullString
		if err := leaves.Scan(&idx, &leaf, &t, &action, &officer, &subject, &basis, &outcome, &recordType,
			&agencyCols[0], &agencyCols[1], &agencyCols[2]); err != nil {
			return err
		}
		if aOK && aIdx < idx {
			return &audit.IndexError{Index: aIdx, Column: audit.ColumnAgencies, Detail: "an agency is indexed for an entry that does not exist"}
		}
		stored := audit.Index{Time: t.Int64, Action: action.String, Officer: officer.String, Subject: subject.String,
			LegalBasis: basis.String, Outcome: outcome.String, RecordType: recordType.String}
		for _, a := range agencyCols {
			if a.String != "" {
				stored.Agencies = append(stored.Agencies, a.String)
			}
		}
		for aOK && aIdx == idx {
			stored.Agencies = append(stored.Agencies, aName)
			if aOK = agencies.Next(); aOK {
				if err := agencies.Scan(&aIdx, &aName); err != nil {
					return err
				}
			}
		}
		e, err := audit.Unmarshal(leaf)
		if err != nil {
			return fmt.Errorf("%w: entry %d: the leaf is not an entry: %v", audit.ErrTampered, idx, err)
		}
		if !t.Valid {
			return &audit.IndexError{Index: idx, Column: audit.ColumnTime, Detail: "no time"}
		}
		if c := audit.IndexOf(e).Diff(stored); c != "" {
			return &audit.IndexError{Index: idx, Column: c}
		}
	}
	if err := leaves.Err(); err != nil {
		return err
	}
	if aOK {
		return &audit.IndexError{Index: aIdx, Column: audit.ColumnAgencies, Detail: "an agency is indexed for an entry that does not exist"}
	}
	return agencies.Err()
}

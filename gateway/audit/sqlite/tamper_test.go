package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

func TestTampering(t *testing.T) {
	audittest.RunTampering(t, func(t *testing.T) (audittest.OpenFunc, audittest.Tamperer) {
		path := filepath.Join(t.TempDir(), "audit.db")
		open := func(t *testing.T) audit.Store {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open(%q) = %v", path, err)
			}
			return s
		}
		return open, &tamperer{path: path}
	})
}

// tamperer changes the database file through a connection of its own,
// without the store's pragmas (foreign keys are not enforced).
type tamperer struct {
	path  string
	saved string // the definition of leaves before Force
}

var sqlColumn = map[string]string{
	audit.ColumnTime: "time_ns", audit.ColumnAction: "action", audit.ColumnOfficer: "officer",
	audit.ColumnSubject: "subject", audit.ColumnLegalBasis: "legal_basis", audit.ColumnOutcome: "outcome",
	audit.ColumnRecordType: "record_type",
}

func (tp *tamperer) db(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: tp.path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// literal is value as an SQL literal of column's type.
func literal(column, value string) string {
	if column == audit.ColumnTime {
		return value
	}
	return "'" + strings.ReplaceAll(value, "'", "''") + "'"
}

func (tp *tamperer) Edit(t *testing.T, column string, index int64, value string) error {
	db := tp.db(t)
	defer db.Close()
	if column == audit.ColumnAgencies {
		if _, err := db.Exec("DELETE FROM leaf_agencies WHERE idx = ?", index); err != nil {
			return err
		}
		_, err := db.Exec("INSERT INTO leaf_agencies (agency, idx) VALUES (?, ?)", value, index)
		return err
	}
	_, err := db.Exec(fmt.Sprintf("UPDATE leaves SET %s = %s WHERE idx = %d", sqlColumn[column], literal(column, value), index))
	return err
}

// Force drops the triggers that guard leaf_agencies, or rewrites the
// definition of a generated column in sqlite_schema (PRAGMA
// writable_schema) so that it gives value for the entry, and rebuilds its
// index.
func (tp *tamperer) Force(t *testing.T, column string, index int64, value string) {
	t.Helper()
	if column == audit.ColumnAgencies {
		tp.Exec(t, "DROP TRIGGER leaf_agencies_no_delete", "DROP TRIGGER leaf_agencies_no_update")
		if err := tp.Edit(t, column, index, value); err != nil {
			t.Fatalf("edit after dropping the triggers: %v", err)
		}
		return
	}
	db := tp.db(t)
	var table string
	if err := db.QueryRow("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'leaves'").Scan(&table); err != nil {
		t.Fatal(err)
	}
	tp.saved = table
	def := sqlite.ColumnDefs(table)[sqlColumn[column]]
	head, expr, ok := strings.Cut(def, "GENERATED ALWAYS AS (")
	expr, okTail := strings.CutSuffix(expr, ") VIRTUAL")
	if !ok || !okTail {
		t.Fatalf("unexpected definition of %s: %q", column, def)
	}
	forged := fmt.Sprintf("%sGENERATED ALWAYS AS (iif(idx = %d, %s, (%s))) VIRTUAL", head, index, literal(column, value), expr)
	tp.writeSchema(t, db, strings.Replace(table, def, forged, 1))
	db.Close()
	index_ := "leaves_" + strings.TrimSuffix(sqlColumn[column], "_ns")
	tp.Exec(t, "REINDEX "+index_)
}

// writeSchema replaces the definition of leaves and bumps the schema
// version, so that every connection reloads it.
func (tp *tamperer) writeSchema(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	var version int
	if err := db.QueryRow("PRAGMA schema_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"PRAGMA writable_schema = ON",
		"UPDATE sqlite_schema SET sql = '" + strings.ReplaceAll(table, "'", "''") + "' WHERE type = 'table' AND name = 'leaves'",
		fmt.Sprintf("PRAGMA schema_version = %d", version+1),
		"PRAGMA writable_schema = OFF",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func (tp *tamperer) Restore(t *testing.T, column string) {
	t.Helper()
	if column == audit.ColumnAgencies {
		tp.Exec(t, `CREATE TRIGGER leaf_agencies_no_update BEFORE UPDATE ON leaf_agencies BEGIN
	SELECT RAISE(ABORT, 'leaf_agencies is derived from the leaves and cannot be changed');
END`, `CREATE TRIGGER leaf_agencies_no_delete BEFORE DELETE ON leaf_agencies BEGIN
	SELECT RAISE(ABORT, 'leaf_agencies is derived from the leaves and cannot be changed');
END`)
		return
	}
	db := tp.db(t)
	defer db.Close()
	tp.writeSchema(t, db, tp.saved)
}

func (tp *tamperer) Exec(t *testing.T, stmts ...string) {
	t.Helper()
	db := tp.db(t)
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAgencyColumnChanged rewrites the definition of a virtual column
// that holds an entry's agencies, or that says whether the trigger writes
// more into leaf_agencies: queries fail with ErrTampered and CheckIndex
// names the agencies, not just the schema.
func TestAgencyColumnChanged(t *testing.T) {
	for _, column := range []string{"requester_agency", "holder_agency", "recipient_agency", "recipient_count"} {
		t.Run(column, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "audit.db")
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			e := &audit.Entry{Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Action: "disclose", Outcome: "disclose",
				Requester: &audit.Requester{Agency: "police-nl", Officer: "officer-1"}, Holder: &audit.Party{Agency: "probation-nl"},
				Recipients: []audit.Party{{Agency: "police-nl"}}}
			leaf, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Append(ctx, []audit.Pending{{Leaf: leaf, Entry: e}}); err != nil {
				t.Fatal(err)
			}
			tp := &tamperer{path: path}
			db := tp.db(t)
			var table string
			if err := db.QueryRow("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'leaves'").Scan(&table); err != nil {
				t.Fatal(err)
			}
			def := sqlite.ColumnDefs(table)[column]
			head, _, ok := strings.Cut(def, "GENERATED ALWAYS AS (")
			if !ok {
				t.Fatalf("unexpected definition of %s: %q", column, def)
			}
			tp.writeSchema(t, db, strings.Replace(table, def, head+"GENERATED ALWAYS AS (NULL) VIRTUAL", 1))
			db.Close()

			if _, err := s.Query(ctx, audit.Filter{Agency: "police-nl"}); !errors.Is(err, audit.ErrTampered) {
				t.Errorf("Query() after %s was changed = %v, want an error wrapping ErrTampered", column, err)
			}
			err = s.CheckIndex(ctx, 0, 1)
			if ie, ok := errors.AsType[*audit.IndexError](err); !ok || ie.Column != audit.ColumnAgencies {
				t.Errorf("CheckIndex() after %s was changed = %v, want an *IndexError naming %s", column, err, audit.ColumnAgencies)
			}
		})
	}
}

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/audittest"
	"github.com/liaison-gateway/liaison/gateway/audit/postgres/pgtest"
)

func TestTampering(t *testing.T) {
	serverURL(t)
	audittest.RunTampering(t, func(t *testing.T) (audittest.OpenFunc, audittest.Tamperer) {
		dbURL := newDatabase(t)
		return func(t *testing.T) audit.Store { return mustOpen(t, dbURL) }, &tamperer{url: dbURL}
	})
}

// tamperer changes the database through a connection of its own, as its
// owner can.
type tamperer struct {
	url   string
	saved string // the body of liaison_leaf_index before Force
}

// jsonValue is the SQL for value as leaves.ix holds column.
func jsonValue(column, value string) (path, expr string) {
	switch column {
	case audit.ColumnTime:
		return "{time_ns}", "to_jsonb(" + value + "::bigint)"
	case audit.ColumnAgencies:
		return "{agencies}", "jsonb_build_array('" + value + "'::text)"
	}
	return "{" + column + "}", "to_jsonb('" + value + "'::text)"
}

func (tp *tamperer) exec(t *testing.T, stmts ...string) error {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	conn, err := pgx.Connect(ctx, tp.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (tp *tamperer) Edit(t *testing.T, column string, index int64, value string) error {
	path, expr := jsonValue(column, value)
	return tp.exec(t, fmt.Sprintf("UPDATE leaves SET ix = jsonb_set(ix, '%s', %s) WHERE idx = %d", path, expr, index))
}

// Force replaces liaison_leaf_index by a function that forges the value,
// and has the entry's ix computed again.
func (tp *tamperer) Force(t *testing.T, column string, index int64, value string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	conn, err := pgx.Connect(ctx, tp.url)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, "SELECT prosrc FROM pg_proc WHERE oid = 'liaison_leaf_index(bytea)'::regprocedure").Scan(&tp.saved)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path, expr := jsonValue(column, value)
	if err := tp.exec(t,
		"CREATE FUNCTION liaison_true_index(leaf bytea) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE STRICT AS $fn$"+tp.saved+"$fn$",
		fmt.Sprintf(`CREATE OR REPLACE FUNCTION liaison_leaf_index(leaf bytea) RETURNS jsonb
			LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
			BEGIN RETURN jsonb_set(liaison_true_index(leaf), '%s', %s); END $fn$`, path, expr),
		fmt.Sprintf("UPDATE leaves SET leaf = leaf WHERE idx = %d", index),
	); err != nil {
		t.Fatal(err)
	}
}

func (tp *tamperer) Restore(t *testing.T, column string) {
	t.Helper()
	if err := tp.exec(t,
		`CREATE OR REPLACE FUNCTION liaison_leaf_index(leaf bytea) RETURNS jsonb
			LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$`+tp.saved+"$fn$",
		"DROP FUNCTION liaison_true_index(bytea)",
	); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tp.saved, "liaison_true_index") {
		t.Fatal("restored a forged function")
	}
}

func (tp *tamperer) Exec(t *testing.T, stmts ...string) {
	t.Helper()
	pgtest.Exec(t, tp.url, stmts...)
}

func errorsIsTampered(err error) bool { return errors.Is(err, audit.ErrTampered) }

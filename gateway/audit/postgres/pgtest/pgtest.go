// Package pgtest gives tests throwaway PostgreSQL databases on the server
// named by LIAISON_TEST_POSTGRES_URL (which `make test` starts), and skips
// them, saying how to run them, when there is none.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the server URL variable.
const EnvVar = "LIAISON_TEST_POSTGRES_URL"

// ServerURL returns the URL of the PostgreSQL server the tests may create
// databases on, or skips the test.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		tb.Skip(EnvVar + " not set; skipping the PostgreSQL tests. " +
			"`make test` runs them; or: bash -c '. .ci/postgres.sh; start_postgres; go test ./...'")
	}
	return u
}

// NewDatabase creates an empty database on the test server, drops it when
// the test ends, and returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	base := ServerURL(tb)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("%s must be a postgres:// URL (%v)", EnvVar, err)
	}
	name := strings.ToLower("liaison_test_" + rand.Text()[:16])
	admin := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin(tb.Context(), "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("CREATE DATABASE %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := admin(context.WithoutCancel(tb.Context()), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("DROP DATABASE %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Exec runs statements on a database, as an administrator (or an attacker
// with access to the server) would.
func Exec(tb testing.TB, dbURL string, stmts ...string) {
	tb.Helper()
	ctx := context.WithoutCancel(tb.Context())
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

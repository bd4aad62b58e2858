package main

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// restartRefused stops the gateway, if running, and checks that it
// refuses to start again, with an error that says want.
func (s *auditStack) restartRefused(t *testing.T, want string) {
	t.Helper()
	s.d.gw.Stop()
	s.d.gw = nil
	gw, err := startGateway(t.Context(), s.opts)
	if err == nil {
		s.d.gw = gw
		t.Fatalf("the gateway started on a tampered store; want it to refuse, saying %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("the gateway refused to start with %q, want it to say %q", err, want)
	}
	t.Logf("refused: %v", err)
}

// forgetSigned removes the record of the last signed checkpoint that the
// file signer keeps beside its key.
func (s *auditStack) forgetSigned(t *testing.T) {
	t.Helper()
	if err := os.Remove(s.opts.AuditKey + ".checkpoint"); err != nil {
		t.Fatal(err)
	}
}

// TestServeRefusesRolledBackStore rolls the audit database back, as
// restoring an older backup or deleting rows would, and checks that the
// gateway refuses to start, naming the rollback; a plain restart is
// accepted.
func TestServeRefusesRolledBackStore(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			for _, tt := range []struct {
				name   string
				tamper func(t *testing.T, s *auditStack, size int64)
				want   string
			}{
				{"a plain restart", func(t *testing.T, s *auditStack, size int64) {}, ""},
				{"the last entries and their checkpoints deleted", func(t *testing.T, s *auditStack, size int64) {
					tamper(t, s.opts.AuditDB,
						"DELETE FROM inbox WHERE audit_idx >= 3",
						"DELETE FROM leaves WHERE idx >= 3",
						fmt.Sprintf("DELETE FROM hashes WHERE idx >= %d", tlog.StoredHashCount(3)),
						"DELETE FROM checkpoints WHERE size > 3")
				}, "audit store rolled back: the last signed checkpoint (in %s) covers %d entries, the store holds 3"},
				{"the last rows deleted", func(t *testing.T, s *auditStack, size int64) {
					tamper(t, s.opts.AuditDB, "DELETE FROM inbox WHERE audit_idx >= 3", "DELETE FROM leaves WHERE idx >= 3")
				}, "audit store rolled back: the last signed checkpoint (in %s) covers %d entries, the store holds 3"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					s := startAuditStack(t, kind.newDB(t))
					s.traffic(t)
					s.d.gw.Stop() // signs a last checkpoint
					s.d.gw = nil
					st, err := openStore(t.Context(), s.opts.AuditDB)
					if err != nil {
						t.Fatal(err)
					}
					size, _ := st.Size(t.Context())
					st.Close()
					tt.tamper(t, s, size)
					if tt.want == "" {
						s.restart(t)
						return
					}
					s.restartRefused(t, fmt.Sprintf(tt.want, s.opts.AuditKey+".checkpoint", size))
				})
			}
		})
	}
}

// tryTamper runs one statement on the audit database directly and returns
// the database's error.
func tryTamper(t *testing.T, dsn, stmt string) error {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres") {
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		_, err = conn.Exec(t.Context(), stmt)
		return err
	}
	db, err := sql.Open("sqlite", dsn+"?_pragma=busy_timeout(10000)") // the gateway may be writing
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(stmt)
	return err
}

// TestAuditVerifyFullDetectsIndexTampering edits the query index of a
// disclosure behind the gateway's back: the plain edit is refused by the
// schema; once the schema is changed to allow it, `audit query` over the
// edited column fails rather than leave the entry out, and `audit verify
// -full` reports the tampering.
func TestAuditVerifyFullDetectsIndexTampering(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			s := startAuditStack(t, kind.newDB(t))
			s.traffic(t)
			dsn := s.opts.AuditDB
			pg := strings.HasPrefix(dsn, "postgres")
			// The officer of the pseudonymised answer, and the query that
			// finds it.
			query := []string{"-officer", "insp.de.vries"}
			plain := "UPDATE leaves SET officer = 'someone-else' WHERE officer = 'insp.de.vries'"
			forced := []string{"DROP TRIGGER leaf_agencies_no_delete", "DELETE FROM leaf_agencies WHERE agency = 'nl-police-rotterdam'"}
			if pg {
				plain = `UPDATE leaves SET ix = jsonb_set(ix, '{officer}', '"someone-else"') WHERE ix->>'officer' = 'insp.de.vries'`
				// The owner replaces the function that derives ix by one
				// that hides the officer, and has ix computed again. (Making
				// ix a plain column instead stops every append: the
				// gateway fails closed.)
				forced = []string{
					`DO $$ BEGIN EXECUTE format('CREATE FUNCTION liaison_true_index(leaf bytea) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE STRICT AS %L',
						(SELECT prosrc FROM pg_proc WHERE proname = 'liaison_leaf_index')); END $$`,
					`CREATE OR REPLACE FUNCTION liaison_leaf_index(leaf bytea) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
					DECLARE ix jsonb := liaison_true_index(leaf);
					BEGIN
						IF ix->>'officer' = 'insp.de.vries' THEN RETURN jsonb_set(ix, '{officer}', '"someone-else"'); END IF;
						RETURN ix;
					END $fn$`,
					`UPDATE leaves SET leaf = leaf WHERE ix->>'officer' = 'insp.de.vries'`,
				}
			} else {
				query = []string{"-agency", "nl-police-rotterdam"}
			}
			out, err := s.audit(t, "query", query...)
			if err != nil || !strings.Contains(out, "insp.de.vries") {
				t.Fatalf("query %v before tampering: %v\n%s", query, err, out)
			}
			if err := tryTamper(t, dsn, plain); err == nil {
				t.Fatalf("%s: the schema let the index be edited", plain)
			} else {
				t.Logf("refused: %v", err)
			}
			if out, err := s.audit(t, "verify", "-full"); err != nil {
				t.Fatalf("verify -full after a refused edit: %v\n%s", err, out)
			}

			tamper(t, dsn, forced...)
			// A plain gRPC client gets DATA_LOSS with a stable reason.
			conn, err := s.d.client("dk-prison-east", "dpo.kristensen", []string{"auditor"}, "")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := &liaisonv1.QueryRequest{Officer: "insp.de.vries"}
			if !pg {
				req = &liaisonv1.QueryRequest{Agency: "nl-police-rotterdam"}
			}
			_, err = liaisonv1.NewAuditClient(conn).Query(t.Context(), req)
			st := status.Convert(err)
			var reason string
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					reason = ei.GetReason()
				}
			}
			if st.Code() != codes.DataLoss || reason != "AUDIT_INDEX_TAMPERED" {
				t.Errorf("Audit.Query over the tampered index = %v (reason %q), want DataLoss with reason AUDIT_INDEX_TAMPERED", err, reason)
			}
			out, err = s.audit(t, "query", query...)
			if err == nil || !strings.Contains(err.Error(), "DataLoss") || !strings.Contains(err.Error(), "query index") {
				t.Errorf("query %v after tampering = %v\n%s\nwant a DataLoss error about the query index", query, err, out)
			}
			out, err = s.audit(t, "verify", "-full")
			if err == nil || !strings.Contains(err.Error(), "FAILED") || !strings.Contains(err.Error(), "query index") {
				t.Errorf("verify -full after tampering = %v\n%s\nwant it to fail about the query index", err, out)
			}
			t.Logf("verify -full: %v", err)
		})
	}
}

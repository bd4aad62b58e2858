package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/audit/sqlite"
)

// An auditor verifies an export (the leaves, the signed checkpoint and the
// log's verifier key) without trusting the gateway's database.
func ExampleVerifyLeaves() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)

	// The gateway side: a log that records three disclosures.
	store, _ := sqlite.Open(ctx, filepath.Join(dir, "audit.db"))
	defer store.Close()
	signer, vkey, _ := audit.LoadOrCreateSignerKey(filepath.Join(dir, "signer.key"), "audit.example")
	log, _ := audit.New(ctx, audit.Config{Store: store, Signer: signer, Logger: slog.New(slog.DiscardHandler)})
	for _, officer := range []string{"o-1", "o-2", "o-3"} {
		log.Append(ctx, &audit.Entry{
			Time:      time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
			Action:    "disclose",
			Requester: &audit.Requester{Agency: "police-nl", Officer: officer},
			Outcome:   "disclose",
		})
	}
	size, checkpoint, _ := log.Checkpoint(ctx)
	leaves, _ := log.Leaves(ctx, 0, size)
	log.Close(ctx)

	// The auditor side: only the export and the verifier key.
	verifier, _ := note.NewVerifier(vkey)
	n, err := audit.VerifyLeaves(leaves, checkpoint, verifier)
	fmt.Println("verified", n, "entries, error:", err)

	leaves[1] = []byte(`{"time":"2026-11-02T09:00:00Z","action":"disclose","outcome":"deny"}`)
	_, err = audit.VerifyLeaves(leaves, checkpoint, verifier)
	fmt.Println("rewritten entry detected:", errors.Is(err, audit.ErrRootMismatch))

	_, err = audit.VerifyLeaves(leaves[:2], checkpoint, verifier)
	fmt.Println(err)
	// Output:
	// verified 3 entries, error: <nil>
	// rewritten entry detected: true
	// audit: verify: checkpoint covers 3 entries, got 2 (truncated)
}

package gateway_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestExportOfLargeEntries: Export's messages stay within what a gRPC
// client receives by default (4 MiB), however large the entries. It sent
// 500 entries a message whatever their size; a justification may be 2,000
// bytes of characters JSON writes as \u00XX (validJustification lets them
// through), 12,000 bytes in the leaf, and 500 such entries in a row made
// a message of some 7 MB that liaison audit export and audit verify -full
// refused (ResourceExhausted), so that no auditor could export the log.
func TestExportOfLargeEntries(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	justification := strings.Repeat("\x01", 2000)
	var wg sync.WaitGroup
	errs := make(chan error, 600)
	for i := range 600 {
		wg.Go(func() {
			_, err := s.log.Append(ctx, &audit.Entry{
				Action: "request", RequestID: fmt.Sprintf("R%d", i), Requester: &audit.Requester{Agency: "nl-police-rotterdam", Officer: "insp.de.vries"},
				Justification: justification, Outcome: audit.OutcomeDeny, Reasons: []string{"NO_LEGAL_BASIS"},
			})
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stream, err := liaisonv1.NewAuditClient(s.conn(t, dkAuditor)).Export(ctx, &liaisonv1.ExportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var size, n int64
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Export after %d entries: %v", n, err)
		}
		if cp := m.GetCheckpoint(); cp != nil {
			size = cp.GetSize()
		}
		for _, e := range m.GetEntries() {
			if e.GetIndex() != n {
				t.Fatalf("entry %d arrived at position %d", e.GetIndex(), n)
			}
			n++
		}
	}
	if size < 600 || n != size {
		t.Errorf("Export streamed %d entries of a checkpoint of %d, want all of at least 600", n, size)
	}
}

package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
)

// fillTo appends entries to the stack's log until it holds exactly n, each
// with "risk_management" for changeLeaf to find.
func (s *auditStack) fillTo(t *testing.T, n int64) {
	t.Helper()
	ctx := t.Context()
	size, err := s.d.gw.Audit.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if size > n {
		t.Fatalf("the log already holds %d entries, more than %d", size, n)
	}
	for i := size; i < n; i++ {
		if _, err := s.d.gw.Audit.Append(ctx, &audit.Entry{
			Time: time.Now(), Action: "disclose", RequestID: fmt.Sprintf("fill-%d", i),
			Requester: &audit.Requester{Agency: "dk-prison-east", Officer: "kf.release.coordinator"},
			Holder:    &audit.Party{Agency: "dk-prison-east"}, Recipients: []audit.Party{{Agency: "dk-police-aarhus"}},
			RecordType: "release_notice", Purpose: "risk_management", Outcome: audit.OutcomeDisclose,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditVerifySamplesDistinctEntries: -sample 100 on a 17-entry log
// checks all 17 entries, so that one changed entry cannot escape it (with
// repeats, 17 draws left about a third of such logs passing).
func TestAuditVerifySamplesDistinctEntries(t *testing.T) {
	s := startAuditStack(t, "")
	s.fillTo(t, 17)
	out, err := s.audit(t, "verify", "-sample", "100")
	if err != nil || !strings.Contains(out, "checkpoint: 17 entries") || !strings.Contains(out, "inclusion checked for 17 entries") {
		t.Fatalf("verify -sample 100 of 17 entries: %v\n%s", err, out)
	}

	for range 3 { // each run of a tampered log must fail, not one in three
		s := startAuditStack(t, "")
		s.fillTo(t, 17)
		tamper(t, s.opts.AuditDB, changeLeaf(s.opts.AuditDB, 11))
		out, err := s.audit(t, "verify", "-sample", "100")
		if err == nil {
			t.Fatalf("verify -sample 100 passed a 17-entry log with entry 11 changed:\n%s", out)
		}
		if !strings.Contains(err.Error(), "FAILED") || !strings.Contains(err.Error(), "entry does not match the checkpoint") || !strings.Contains(err.Error(), "entry 11") {
			t.Errorf("verify error = %v, want a FAILED message naming entry 11", err)
		}
	}
}

func TestAuditQueryFlagsRefuseUnknownValues(t *testing.T) {
	for _, tt := range []struct {
		flag, value, accepted string
	}{
		{"-outcome", "denied", "disclose, pseudonymise, hit_only, deny, refused, failed, not_found, ok, pending"},
		{"-outcome", "OUTCOME_DENY", "not_found"},
		{"-record-type", "risk", "risk_assessment"},
		{"-action", "approve", "reidentify"},
	} {
		var out bytes.Buffer
		// No gateway is running: the flags are refused before any call.
		err := run(t.Context(), []string{"audit", "query", "-gateway", "127.0.0.1:1", tt.flag, tt.value}, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.flag+" \""+tt.value+"\"") || !strings.Contains(err.Error(), tt.accepted) {
			t.Errorf("audit query %s %s: %v; want the flag named and %q among the accepted values", tt.flag, tt.value, err, tt.accepted)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"audit", "query", "-h"}, &out, &out); err != nil && !strings.Contains(err.Error(), "help") {
		t.Fatal(err)
	}
	for _, want := range []string{"not_found", "police_observation", "audit_read"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("audit query -h does not list %q:\n%s", want, out.String())
		}
	}
}

// TestAuditQueryPages: a query that fills -limit says so and where the
// next page starts, and -start reads it, so that an auditor reads every
// matching entry, not the oldest hundred only.
func TestAuditQueryPages(t *testing.T) {
	s := startAuditStack(t, "")
	s.fillTo(t, 25)
	indexes := func(out string) []string {
		var idx []string
		for line := range strings.SplitSeq(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] != "INDEX" && strings.Trim(f[0], "0123456789") == "" {
				idx = append(idx, f[0])
			}
		}
		return idx
	}
	out, err := s.audit(t, "query", "-action", "disclose", "-limit", "1000")
	if err != nil {
		t.Fatalf("query -limit 1000: %v\n%s", err, out)
	}
	all := indexes(out)
	if len(all) < 20 || strings.Contains(out, "-start") {
		t.Fatalf("query -limit 1000 listed %d entries (want at least 20, and no next page):\n%s", len(all), out)
	}
	var paged []string
	args := []string{"-action", "disclose", "-limit", "7"}
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatalf("paging does not end: %v", paged)
		}
		out, err := s.audit(t, "query", args...)
		if err != nil {
			t.Fatalf("query %v: %v\n%s", args, err, out)
		}
		page := indexes(out)
		paged = append(paged, page...)
		_, next, full := strings.Cut(out, "the next page is -start ")
		if full != (len(page) == 7) {
			t.Fatalf("query %v listed %d entries; it names a next page: %v\n%s", args, len(page), full, out)
		}
		if !full {
			break
		}
		args = []string{"-action", "disclose", "-limit", "7", "-start", strings.Fields(next)[0]}
	}
	if strings.Join(paged, ",") != strings.Join(all, ",") {
		t.Errorf("the pages listed %v, one query %v", paged, all)
	}
}

// TestAuditProveNeedsAnIndex: prove without -index (or with a negative
// one) says that -index is missing before any call, rather than pass -1 to
// the gateway, which refuses "index: must be below the tree size N" and
// records the refusal.
func TestAuditProveNeedsAnIndex(t *testing.T) {
	for _, extra := range [][]string{nil, {"-index", "-3"}} {
		var out bytes.Buffer
		// No gateway is running: the flag is refused before any call.
		args := append([]string{"audit", "prove", "-gateway", "127.0.0.1:1", "-verifier-key", "test.liaison+5f5873e3+AXs5RASa4X47zZZjB7kTj31qhptUYgc5V9drJBByBDdE"}, extra...)
		err := run(t.Context(), args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "-index") || strings.Contains(err.Error(), "-cert") {
			t.Errorf("audit prove %v: %v; want an error saying -index is required", extra, err)
		}
	}
}

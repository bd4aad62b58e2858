package gateway_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway/audit"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestRefusedGetReceiptIsLogged: GetReceipt is a read of the log, and a
// refused one is recorded as the Audit service records its refusals (one
// audit_read entry, outcome refused, naming the field): before, an agency
// could ask about index after index (is this a release to us?) and
// leave no trace.
func TestRefusedGetReceiptIsLogged(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	resp, err := s.exchange(t, nlPolice).Request(ctx, riskRequest)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		who   officer
		index int64
	}{
		{"negative", nlPolice, -1},
		{"beyond the log", nlPolice, 1 << 40},
		{"another agency's release", dkPolice, resp.GetReleased().GetAuditIndex()},
	} {
		n0, err := s.db.Size(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = aftercare(t, s, tt.who).GetReceipt(ctx, &liaisonv1.GetReceiptRequest{AuditIndex: tt.index})
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "audit_index" {
			t.Errorf("%s: GetReceipt(%d) = %v, want INVALID_ARGUMENT naming audit_index", tt.name, tt.index, err)
		}
		n1, _ := s.db.Size(ctx)
		if n1 != n0+1 {
			t.Errorf("%s: a refused GetReceipt wrote %d entries, want 1", tt.name, n1-n0)
			continue
		}
		_, e := s.lastEntry(t)
		if e.Action != audit.ActionAuditRead || e.Outcome != audit.OutcomeRefused || e.Detail["operation"] != "get_receipt" ||
			e.Detail["field"] != "audit_index" || e.Requester == nil || e.Requester.Agency != tt.who.agency {
			t.Errorf("%s: entry = %+v, want a refused get_receipt read by %s naming audit_index", tt.name, e, tt.who.agency)
		}
	}
}

// TestOfficerIDHasOneSpelling: the officer a token names (sub) is spelt as
// Audit.Query's officer filter says an officer id is: printable, in
// Unicode NFC, without white space around it, at most 256 bytes. A token
// whose sub is not (a control character, an escape sequence, a leading
// space, a decomposed letter, an invisible character, kilobytes) is
// refused BAD_CLAIMS, one refused authenticate entry that does not
// record it, rather than acting as an officer who appears in the log
// under a second spelling that no query by officer can name. A query for
// such a spelling is refused naming officer.
func TestOfficerIDHasOneSpelling(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	for _, sub := range []string{" pi.soerensen", "pi.soerensen\t", "pi.soerensen\x00", "pi\x1b[2J", "pi.s\u00f8rensen\u200b",
		"pi.so\u0308rensen", strings.Repeat("o", 300)} {
		tok := s.sign(t, "dk-police-aarhus", func(h map[string]any, c jwt.MapClaims) { c["sub"] = sub })
		conn := s.connWith(t, "dk-police-aarhus", tok)
		n0, _ := s.db.Size(ctx)
		_, err := liaisonv1.NewExchangeClient(conn).Request(ctx, riskRequest)
		if st, _ := status.FromError(err); st.Code() != codes.Unauthenticated || errorReason(st) != "BAD_CLAIMS" {
			t.Errorf("Request as officer %.20q: %v, want UNAUTHENTICATED BAD_CLAIMS", sub, err)
		}
		n1, _ := s.db.Size(ctx)
		if n1 != n0+1 {
			t.Errorf("officer %.20q: %d entries, want 1", sub, n1-n0)
			continue
		}
		leaf, _ := s.db.ReadLeaves(ctx, n0, n1)
		_, e := s.lastEntry(t)
		if e.Action != audit.ActionAuthenticate || e.Outcome != audit.OutcomeRefused || bytes.Contains(leaf[0], []byte("pi.s")) || bytes.Contains(leaf[0], []byte("ooooo")) {
			t.Errorf("officer %.20q: entry %s, want a refused authentication that does not record the officer", sub, leaf[0])
		}
	}
	// A well-spelt officer id, non-ASCII in NFC included, is taken.
	tok := s.sign(t, "dk-police-aarhus", func(h map[string]any, c jwt.MapClaims) { c["sub"] = "pi.s\u00f8rensen" })
	if err := call(t, s.connWith(t, "dk-police-aarhus", tok)); err != nil {
		t.Errorf("a call as officer pi.s\u00f8rensen: %v", err)
	}
	_, err := liaisonv1.NewAuditClient(s.conn(t, dkAuditor)).Query(ctx, &liaisonv1.QueryRequest{Officer: "pi.so\u0308rensen"})
	if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || badField(st) != "officer" {
		t.Errorf("Query for a decomposed officer id: %v, want INVALID_ARGUMENT naming officer", err)
	}
}

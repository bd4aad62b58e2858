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

// TestTokenRolesHaveOneSpelling: each role of a token's roles claim is
// spelt as an identifier (spelling.Printable: no control, format or
// invisible character, not a Hangul filler or a variation selector), in
// Unicode NFC, not empty and without white space around it. A token with
// one that is not is refused UNAUTHENTICATED BAD_CLAIMS, the message
// naming the claim and never the value, one refused authenticate entry
// that does not record it. Such a role looked like case_officer or
// auditor and matched none: the officer was turned away, or let in
// without it, with nothing saying why. A well-spelt role the gateway
// does not know is taken, as before.
func TestTokenRolesHaveOneSpelling(t *testing.T) {
	s := startStack(t, stackOptions{})
	ctx := t.Context()
	for _, role := range []string{"case_officer\u200b", "case_officer\u3164", "case\u115fofficer", "auditor\ufe0f", "auditor\U000e0100",
		"case_o\u034ffficer", " auditor", "auditor\t", "", "audi\x00tor", "\u202eauditor", "vagthavende_o\u0308st"} {
		tok := s.sign(t, "dk-police-aarhus", func(h map[string]any, c jwt.MapClaims) { c["roles"] = []any{"case_officer", role} })
		conn := s.connWith(t, "dk-police-aarhus", tok)
		n0, _ := s.db.Size(ctx)
		_, err := liaisonv1.NewExchangeClient(conn).Request(ctx, riskRequest)
		st, _ := status.FromError(err)
		if st.Code() != codes.Unauthenticated || errorReason(st) != "BAD_CLAIMS" {
			t.Errorf("Request with the role %+q: %v, want UNAUTHENTICATED BAD_CLAIMS", role, err)
			continue
		}
		if !strings.Contains(st.Message(), "(roles)") || (role != "" && strings.Contains(st.Message(), role)) {
			t.Errorf("role %+q: message %q, want it to name the claim (roles), not the value", role, st.Message())
		}
		n1, _ := s.db.Size(ctx)
		if n1 != n0+1 {
			t.Errorf("role %+q: %d entries, want 1", role, n1-n0)
			continue
		}
		leaf, _ := s.db.ReadLeaves(ctx, n0, n1)
		_, e := s.lastEntry(t)
		if e.Action != audit.ActionAuthenticate || e.Outcome != audit.OutcomeRefused || (role != "" && bytes.Contains(leaf[0], []byte(role))) {
			t.Errorf("role %+q: entry %s, want a refused authentication that does not record the role", role, leaf[0])
		}
	}
	// Well-spelt roles, one the gateway does not know and one not ASCII
	// in NFC among them, are taken.
	tok := s.sign(t, "dk-police-aarhus", func(h map[string]any, c jwt.MapClaims) {
		c["roles"] = []any{"case_officer", "analyst", "vagthavende_\u00f8st", "case officer"}
	})
	if err := call(t, s.connWith(t, "dk-police-aarhus", tok)); err != nil {
		t.Errorf("a call with well-spelt roles: %v", err)
	}
}

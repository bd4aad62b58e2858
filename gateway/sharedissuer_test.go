package gateway_test

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-gateway/liaison/gateway"
	"github.com/liaison-gateway/liaison/gateway/audit"
)

// Two police forces whose officers sign in at one national identity
// provider: the registry gives both the same issuer and keys. A token of
// one force must not be accepted with the other force's certificate, so
// the token must name its agency (liaison_agency_id); an agency whose
// issuer is its own needs no such claim, but one that names another
// agency is refused there too.
func TestSharedIssuerTokenNamesItsAgency(t *testing.T) {
	const (
		rtm    = "nl-police-rotterdam"
		ams    = "nl-police-amsterdam"
		prison = "dk-prison-east" // an issuer of its own
	)
	s := startStack(t, stackOptions{refusalBudget: 1000, beforeStart: func(st *stack) {
		editRegistry(t, st, func(f *gateway.RegistryFile) {
			var shared gateway.AgencyFile
			for _, a := range f.Agencies {
				if a.ID == rtm {
					shared = a
				}
			}
			for i := range f.Agencies {
				if f.Agencies[i].ID == ams {
					f.Agencies[i].Issuer, f.Agencies[i].JWKSFile = shared.Issuer, shared.JWKSFile
				}
			}
		})
	}})
	// signed by the shared issuer (Rotterdam's key) or by the prison's own,
	// naming agency in liaison_agency_id ("" for no claim).
	token := func(issuer, agency string) string {
		return s.sign(t, issuer, func(_ map[string]any, c jwt.MapClaims) {
			if agency != "" {
				c["liaison_agency_id"] = agency
			}
		})
	}
	for _, tt := range []struct {
		name, cert, token, reason string
	}{
		{"Rotterdam's token, no claim, with Amsterdam's certificate", ams, token(rtm, ""), "MISSING_CLAIM"},
		{"Rotterdam's token, naming Rotterdam, with Amsterdam's certificate", ams, token(rtm, rtm), "AGENCY_MISMATCH"},
		{"a token naming Amsterdam with Amsterdam's certificate", ams, token(rtm, ams), ""},
		{"a token naming Amsterdam with Rotterdam's certificate", rtm, token(rtm, ams), "AGENCY_MISMATCH"},
		{"a token naming Rotterdam with Rotterdam's certificate", rtm, token(rtm, rtm), ""},
		{"no claim with Rotterdam's certificate", rtm, token(rtm, ""), "MISSING_CLAIM"},
		{"an issuer of one agency: no claim", prison, token(prison, ""), ""},
		{"an issuer of one agency: the claim names it", prison, token(prison, prison), ""},
		{"an issuer of one agency: the claim names another", prison, token(prison, "dk-police-aarhus"), "AGENCY_MISMATCH"},
		{"an issuer of one agency: the claim is empty", prison, s.sign(t, prison, func(_ map[string]any, c jwt.MapClaims) { c["liaison_agency_id"] = "" }), "AGENCY_MISMATCH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, err := s.db.Size(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			err = call(t, s.connWith(t, tt.cert, tt.token))
			after, _ := s.db.Size(t.Context())
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if after != before {
					t.Errorf("an accepted call wrote %d entries", after-before)
				}
				return
			}
			st := wantStatus(t, err, codes.Unauthenticated)
			if got := errorReason(st); got != tt.reason {
				t.Errorf("reason %q (%s), want %s", got, st.Message(), tt.reason)
			}
			if after != before+1 {
				t.Fatalf("%d entries written, want one", after-before)
			}
			e := s.entry(t, before)
			if e.Action != audit.ActionAuthenticate || e.Outcome != audit.OutcomeRefused || len(e.Reasons) == 0 || e.Reasons[0] != tt.reason ||
				e.Requester == nil || e.Requester.Agency != tt.cert {
				t.Errorf("entry %s %s %v requester %+v; want a refused authenticate entry, %s, of %s", e.Action, e.Outcome, e.Reasons, e.Requester, tt.reason, tt.cert)
			}
		})
	}
	// The claim names an agency, never a subject or the token: the message
	// says which claim, not what it held.
	st, _ := status.FromError(call(t, s.connWith(t, ams, token(rtm, rtm))))
	if msg := st.Message(); msg == "" || !strings.Contains(msg, "liaison_agency_id") {
		t.Errorf("refusal message %q does not name the claim", msg)
	}
}

package gateway

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestNoticeQuestionOfAnEndedCall: a correction that moves a release
// date asks the policy a second question, whether the move is a required
// notice. A call that ended before the policy answered it (its deadline
// passed, the caller hung up) is a failed exchange, CANCELED or
// DEADLINE_EXCEEDED, as one that ended during the first question is: no
// policy failed. It was recorded failed POLICY_ERROR.
func TestNoticeQuestionOfAnEndedCall(t *testing.T) {
	s := &Server{policy: &policies.Active{}, deciders: newDeepStacks(1)}
	defer s.deciders.Close()
	s.registry.Store(&Registry{Agencies: map[string]*Agency{"dk-police-aarhus": {Agency: &authn.Agency{ID: "dk-police-aarhus"}}}})
	ex := &exchange{s: s, entry: &audit.Entry{Recipients: []audit.Party{{Agency: "dk-police-aarhus"}}}}
	earlier := audit.Record{Index: 3, Entry: &audit.Entry{Subject: &audit.Subject{ReleaseDate: "2026-12-15"}}}
	moved := &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &liaisonv1.ReleaseNotice{ReleaseDate: "2026-11-27"}}}
	for _, tc := range []struct {
		name   string
		end    func() context.Context
		reason string
	}{
		{"hung up", func() context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, "CANCELED"},
		{"deadline passed", func() context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 0)
			t.Cleanup(cancel)
			return ctx
		}, "DEADLINE_EXCEEDED"},
	} {
		_, err := s.releaseDateNotice(tc.end(), ex, earlier, moved)
		if !errors.Is(err, errCallEnded) {
			t.Errorf("%s: %v, want the call's end", tc.name, err)
		}
		ex.settle(err)
		if ex.entry.Outcome != audit.OutcomeFailed || !slices.Equal(ex.entry.Reasons, []string{tc.reason}) {
			t.Errorf("%s: the entry says %s %v, want failed [%s]", tc.name, ex.entry.Outcome, ex.entry.Reasons, tc.reason)
		}
		ex.entry.Reasons = nil
	}
}

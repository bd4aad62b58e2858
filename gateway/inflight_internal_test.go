package gateway

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-gateway/liaison/gateway/audit"
	"github.com/liaison-gateway/liaison/gateway/authn"
	"github.com/liaison-gateway/liaison/policies"
	liaisonv1 "github.com/liaison-gateway/liaison/proto/liaison/v1"
)

// TestCorrectionAsksItsRevisionAgain: a correction that moves a release
// date asks the policy a second question, whether the move is a required
// notice. A revision activated between the two questions does not answer
// it: the revision that decided the correction, which its entry records,
// does, as for every decision of a request in flight. The second
// question went to the engine active by then, so a correction recorded
// under a revision that requires the notice went without it (and one
// recorded under a revision without it could carry one).
func TestCorrectionAsksItsRevisionAgain(t *testing.T) {
	ctx := t.Context()
	emb, err := policies.LoadSource(ctx, policies.EmbeddedSource())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{policy: policies.NewActive(emb), deciders: newDeepStacks(1), log: slog.New(slog.DiscardHandler)}
	defer s.deciders.Close()
	s.registry.Store(&Registry{Agencies: map[string]*Agency{"dk-police-aarhus": {Agency: &authn.Agency{ID: "dk-police-aarhus"}}}})

	// The correction of the Danish release notice to the Aarhus police
	// (policies/README.md's worked example), decided under the embedded
	// revision.
	var in policies.Input
	if err := policies.UnmarshalExact([]byte(`{
		"action": "disclose", "time": "2026-11-26T10:00:00Z",
		"requester": {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK",
			"officer": {"id": "dk-officer-17", "roles": ["release_officer"], "clearance": "confidential"}},
		"holder": {"agency": "dk-prison-east", "kind": "prison", "jurisdiction": "DK"},
		"recipient": {"agency": "dk-police-aarhus", "kind": "police", "jurisdiction": "DK"},
		"subject": {"category": "convicted", "in_custody": true, "release_date": "2026-11-27", "probation_until": "", "municipality": "Aarhus"},
		"record_type": "release_notice", "purpose": "risk_management",
		"claimed_legal_basis": "", "justification": "The release was brought forward."
	}`), &in); err != nil {
		t.Fatal(err)
	}
	ex := &exchange{s: s, in: in, caller: authn.Caller{Agency: &authn.Agency{ID: "dk-prison-east"}},
		entry: &audit.Entry{Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), Recipients: []audit.Party{{Agency: "dk-police-aarhus"}}}}
	if dec, err := s.decide(ctx, ex); err != nil || dec.Outcome != policies.OutcomeDisclose {
		t.Fatalf("decide = %v, %v; want the correction disclosed", dec.Outcome, err)
	}
	decided := ex.entry.PolicyRevision

	// A revision that never makes a notify a required notice goes live
	// before the second question.
	dir := t.TempDir()
	err = fs.WalkDir(policies.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		b, err := fs.ReadFile(policies.Embedded(), p)
		if err != nil {
			return err
		}
		if p == "liaison/decision.rego" {
			const with = "decision := _with_notice(_result.decision) if {\n\t_in.action == \"notify\"\n} else := _result.decision"
			if !strings.Contains(string(b), with) {
				t.Fatalf("liaison/decision.rego changed: %q not found", with)
			}
			b = []byte(strings.Replace(string(b), with, "decision := _result.decision", 1))
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if act, err := s.policy.Activate(ctx, policies.DirSource(dir)); err != nil || act.Revision == decided {
		t.Fatalf("Activate(the revision without notices) = %+v, %v", act, err)
	}

	earlier := audit.Record{Index: 3, Entry: &audit.Entry{Subject: &audit.Subject{ReleaseDate: "2026-12-15"}, LegalBasis: &audit.LegalBasis{ID: "dk.rpl.115.stk1.nr3"}}}
	moved := &liaisonv1.Record{Body: &liaisonv1.Record_ReleaseNotice{ReleaseNotice: &liaisonv1.ReleaseNotice{ReleaseDate: "2026-11-27"}}}
	req, err := s.releaseDateNotice(ctx, ex, earlier, moved)
	if err != nil {
		t.Fatal(err)
	}
	if req == nil || req.tracked.Rule != "dk.notice.release.police" || ex.entry.PolicyRevision != decided {
		t.Errorf("the correction recorded under %s (decided under %s) carries notice %+v; want the required notice dk.notice.release.police of the revision that decided it",
			ex.entry.PolicyRevision, decided, req)
	}
}
